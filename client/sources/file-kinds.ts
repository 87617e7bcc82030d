// Which merge a file gets, by its name and content, and whether a JSON(C) file parses.
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";
import type { RecordKind } from "../../core/record.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function kindOf(path: string, content: Uint8Array): RecordKind {
  if (content.includes(0)) return "opaque";
  try {
    utf8.decode(content);
  } catch {
    return "opaque";
  }
  if (path.endsWith(".jsonc")) return "jsonc";
  // OpenCode reads opencode.json with a JSONC parser, so comments may be there too.
  if (path.endsWith(".json")) return "jsonc";
  if (path.endsWith(".jsonl")) return "jsonl";
  return "text";
}

/** Where a JSON(C) text fails to parse ("line 3, column 7: PropertyNameExpected"), or undefined. */
export function jsonSyntaxError(content: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(content);
  if (text.trim() === "") return undefined;
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: true });
  const e = errors[0];
  if (!e) return undefined;
  const before = text.slice(0, e.offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}: ${printParseErrorCode(e.error)}`;
}
