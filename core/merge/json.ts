// JSON and JSONC files merged structurally. For JSONC the result keeps comments and formatting:
// a clean line merge is used when it means the same as the structural merge, otherwise the
// structural result is applied as edits onto main's text.
import { isDeepStrictEqual } from "node:util";
import { applyEdits, modify, parse, type ParseError } from "jsonc-parser";
import type { OverlapSink } from "../conflict.js";
import { MAX_NESTING, nestsDeeper } from "../nesting.js";
import { isObject, mergeJsonValues, type Json } from "./json-value.js";
import { mergeText } from "./text.js";

export class NotJsonError extends Error {}

export function parseJson(text: string, comments: boolean): Json | undefined {
  if (text.trim() === "") return undefined;
  // Merged as one whole value instead: the structural merge recurses.
  if (nestsDeeper(text)) throw new NotJsonError(`nested deeper than ${MAX_NESTING} levels`);
  if (!comments) {
    try {
      return JSON.parse(text) as Json;
    } catch (e) {
      throw new NotJsonError((e as Error).message);
    }
  }
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false }) as Json;
  if (errors.length) throw new NotJsonError(`JSONC parse error at offset ${errors[0]!.offset}`);
  return value;
}

/** Indentation of the first indented line, so rewritten JSON looks like what the user wrote. */
function indentOf(text: string): string {
  return /\n([ \t]+)\S/.exec(text)?.[1] ?? "  ";
}

/** jsonc-parser edit options that write as `text` is written: its indent and its line ending. */
export function editOptions(text: string): { formattingOptions: { insertSpaces: boolean; tabSize: number; eol: string } } {
  const insertSpaces = !indentOf(text).includes("\t");
  return { formattingOptions: { insertSpaces, tabSize: insertSpaces ? indentOf(text).length : 1, eol: text.includes("\r\n") ? "\r\n" : "\n" } };
}

export function mergeJsonText(base: string, main: string, branch: string, comments: boolean, sink: OverlapSink): string {
  const merged = mergeJsonValues(parseJson(base, comments), parseJson(main, comments), parseJson(branch, comments), "", sink);
  if (isDeepStrictEqual(merged, parseJson(main, comments))) return main;
  if (isDeepStrictEqual(merged, parseJson(branch, comments))) return branch;
  if (merged === undefined) return "";
  if (!comments) return JSON.stringify(merged, null, indentOf(main)) + (main.endsWith("\n") ? "\n" : "");
  const byLines = cleanLineMerge(base, main, branch);
  if (byLines !== undefined && isDeepStrictEqual(safeParse(byLines), merged)) return byLines;
  return editInto(main, parseJson(main, true), merged);
}

function cleanLineMerge(base: string, main: string, branch: string): string | undefined {
  let clean = true;
  const text = mergeText(base, main, branch, {
    overlap: () => {
      clean = false;
      return "main";
    },
  });
  return clean ? text : undefined;
}

function safeParse(text: string): Json | undefined {
  try {
    return parseJson(text, true);
  } catch {
    return undefined;
  }
}

/** `text` with the value at `keys` set to `value` (undefined: removed), comments and formatting elsewhere kept. */
export function withValueAt(text: string, keys: readonly string[], value: Json | undefined): string {
  if (keys.length === 0) return value === undefined ? "" : JSON.stringify(value, null, indentOf(text)) + "\n";
  return applyEdits(text, modify(text, [...keys], value, editOptions(text)));
}

/** Turns `from` into `to` with minimal jsonc-parser edits on `text`, so untouched regions keep their comments. */
function editInto(text: string, from: Json | undefined, to: Json): string {
  const options = editOptions(text);
  if (!isObject(from) || !isObject(to)) return JSON.stringify(to, null, indentOf(text)) + "\n";
  let out = text;
  const walk = (path: string[], a: { [k: string]: Json }, b: { [k: string]: Json }) => {
    for (const key of Object.keys(a)) if (!(key in b)) out = applyEdits(out, modify(out, [...path, key], undefined, options));
    for (const [key, value] of Object.entries(b)) {
      const old = a[key];
      if (isDeepStrictEqual(old, value)) continue;
      if (isObject(old) && isObject(value)) walk([...path, key], old, value);
      else out = applyEdits(out, modify(out, [...path, key], value, options));
    }
  };
  walk([], from, to);
  return out;
}
