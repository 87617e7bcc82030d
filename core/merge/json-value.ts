// Structural three-way merge of JSON values: objects key by key, arrays of objects with an
// `id` as maps keyed by id, anything else as one value. `undefined` means "absent".
import { isDeepStrictEqual } from "node:util";
import type { OverlapSink } from "../conflict.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Maybe = Json | undefined;

export function isObject(v: Maybe): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function idOf(v: Json): string | undefined {
  if (!isObject(v)) return undefined;
  const id = v.id;
  return typeof id === "string" || typeof id === "number" ? `${typeof id}:${id}` : undefined;
}

function isIdArray(v: Maybe): v is Json[] {
  if (!Array.isArray(v)) return false;
  const ids = v.map(idOf);
  return ids.every((id) => id !== undefined) && new Set(ids).size === ids.length;
}

/** A key as one segment of a JSON pointer (RFC 6901). */
export const pointerPart = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** A JSON pointer ("/a/b~1c") as its keys. */
export function pointerKeys(pointer: string): string[] {
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}
const show = (v: Maybe) => (v === undefined ? null : JSON.stringify(v));

export function mergeJsonValues(base: Maybe, main: Maybe, branch: Maybe, at: string, sink: OverlapSink): Maybe {
  if (isDeepStrictEqual(main, branch)) return main;
  if (isDeepStrictEqual(base, main)) return branch;
  if (isDeepStrictEqual(base, branch)) return main;
  if (isObject(main) && isObject(branch) && (base === undefined || isObject(base))) {
    return mergeObjects(base ?? {}, main, branch, at, sink);
  }
  if (isIdArray(main) && isIdArray(branch) && (base === undefined || isIdArray(base))) {
    return mergeIdArrays(base ?? [], main, branch, at, sink);
  }
  const winner = sink.overlap(at, show(main), show(branch));
  return winner === "main" ? main : branch;
}

function mergeObjects(
  base: { [key: string]: Json },
  main: { [key: string]: Json },
  branch: { [key: string]: Json },
  at: string,
  sink: OverlapSink,
): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  const keys = [...Object.keys(main), ...Object.keys(branch).filter((k) => !(k in main))];
  for (const key of keys) {
    const v = mergeJsonValues(base[key], main[key], branch[key], `${at}/${pointerPart(key)}`, sink);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function mergeIdArrays(base: Json[], main: Json[], branch: Json[], at: string, sink: OverlapSink): Json[] {
  const byId = (arr: Json[]) => new Map(arr.map((v) => [idOf(v)!, v] as const));
  const b = byId(base);
  const m = byId(main);
  const r = byId(branch);
  const order = [...m.keys(), ...[...r.keys()].filter((id) => !m.has(id))];
  const out: Json[] = [];
  for (const id of order) {
    const v = mergeJsonValues(b.get(id), m.get(id), r.get(id), `${at}[id=${id.slice(id.indexOf(":") + 1)}]`, sink);
    if (v !== undefined) out.push(v);
  }
  return out;
}
