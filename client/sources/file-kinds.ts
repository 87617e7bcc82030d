// Which merge a file gets, by its name and content, and whether a JSON(C) file parses.
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";
import { MAX_NESTING, nestsDeeper } from "../../core/nesting.js";
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

/** Files whose names say they hold text: NUL bytes there are damage (what a power loss leaves), not content. */
const TEXT_FILE = /\.(jsonc?|jsonl|md|markdown|txt|js|mjs|cjs|ts|mts|yaml|yml|toml)$/i;
const JSON_FILE = /\.jsonc?$/i;

/**
 * Why `content` cannot be the file at `path` ("is empty …", to follow the file's name), decided by
 * the path, never by what a record claims: NUL bytes in a text file; for JSON, bytes that are not
 * UTF-8, nothing at all, nesting too deep, or a syntax error. undefined when it can.
 */
export function corruptContent(path: string, content: Uint8Array): string | undefined {
  if (!TEXT_FILE.test(path)) return undefined;
  if (content.includes(0)) return "holds NUL bytes (what a power loss or a crash mid-write leaves)";
  if (!JSON_FILE.test(path)) return undefined;
  try {
    utf8.decode(content);
  } catch {
    return "is not valid UTF-8";
  }
  if (new TextDecoder().decode(content).trim() === "") return "is empty (what a power loss or a crash mid-write leaves)";
  if (nestsDeeper(content)) return `is nested deeper than ${MAX_NESTING} levels`;
  const invalid = jsonSyntaxError(content);
  return invalid ? `is not valid JSON (${invalid})` : undefined;
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
