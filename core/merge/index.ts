// Three-way merge of one record's content, chosen by the record's kind.
import { wholeValue, type OverlapSink } from "../conflict.js";
import type { RecordKind } from "../record.js";
import { mergeJsonText, NotJsonError } from "./json.js";
import { mergeEncryptedEntries } from "./entries.js";
import { mergeJsonl } from "./jsonl.js";
import { mergeText } from "./text.js";
import { commonLineEndings, withLineEnding } from "../line-endings.js";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The three sides as text, or undefined when one is not UTF-8 (it is then merged as a whole). */
function asTexts(...sides: (Uint8Array | null)[]): string[] | undefined {
  try {
    return sides.map((bytes) => (bytes === null ? "" : decoder.decode(bytes)));
  } catch {
    return undefined;
  }
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
  const texts = asTexts(base, main, branch);
  try {
    const text = texts && mergeLines(kind, texts[0]!, texts[1]!, texts[2]!, sink);
    if (text !== undefined) return encoder.encode(text);
  } catch (e) {
    // Only "this is not the kind it claims": a bug in a merge must not pass for a whole-record conflict.
    if (!(e instanceof NotJsonError)) throw e;
  }
  return sink.overlap("", wholeValue(main).value, wholeValue(branch).value) === "main" ? main : branch;
}

/** A text merge that does not see CRLF against LF as a change of every line. */
function mergeLines(kind: RecordKind, base: string, main: string, branch: string, sink: OverlapSink): string | undefined {
  const common = kind === "opaque" || kind === "encrypted-entries" ? undefined : commonLineEndings(base, main, branch);
  if (!common) return mergeAsText(kind, base, main, branch, sink);
  const merged = mergeAsText(kind, ...common.sides, sink);
  return merged === undefined ? undefined : withLineEnding(merged, common.ending);
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
