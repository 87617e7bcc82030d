// Which merge a file gets, by its name and content.
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
