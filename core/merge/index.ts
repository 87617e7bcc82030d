// Three-way merge of one record's content, chosen by the record's kind.
import type { OverlapSink } from "../conflict.js";
import type { RecordKind } from "../record.js";
import { mergeJsonText, NotJsonError } from "./json.js";
import { mergeEncryptedEntries } from "./entries.js";
import { mergeJsonl } from "./jsonl.js";
import { mergeText } from "./text.js";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function asText(bytes: Uint8Array | null): string {
  return bytes === null ? "" : decoder.decode(bytes);
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Merges `main` and `branch` against their common ancestor `base` (null when the record is new
 * on both sides). Overlaps are decided by the sink. Content that cannot be read as its kind
 * (corrupt JSON, invalid UTF-8) is merged as one opaque value.
 */
export function mergeContent(kind: RecordKind, base: Uint8Array | null, main: Uint8Array, branch: Uint8Array, sink: OverlapSink): Uint8Array {
  if (sameBytes(main, branch) || sameBytes(base, branch)) return main;
  if (sameBytes(base, main)) return branch;
  try {
    const text = mergeAsText(kind, asText(base), asText(main), asText(branch), sink);
    if (text !== undefined) return encoder.encode(text);
  } catch (e) {
    if (!(e instanceof NotJsonError) && !(e instanceof TypeError)) throw e;
  }
  return sink.overlap("", asDisplay(main), asDisplay(branch)) === "main" ? main : branch;
}

function mergeAsText(kind: RecordKind, base: string, main: string, branch: string, sink: OverlapSink): string | undefined {
  switch (kind) {
    case "json":
      return mergeJsonText(base, main, branch, false, sink);
    case "encrypted-entries":
      return mergeEncryptedEntries(base, main, branch, sink);
    case "jsonc":
      return mergeJsonText(base, main, branch, true, sink);
    case "text":
      return mergeText(base, main, branch, sink);
    case "jsonl":
      return mergeJsonl(base, main, branch);
    case "opaque":
      return undefined;
  }
}

function asDisplay(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    return `base64:${Buffer.from(bytes).toString("base64")}`;
  }
}
