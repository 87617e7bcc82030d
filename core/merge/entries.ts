// Encrypted credential entries ({ name: ciphertext }), merged entry by entry without the key.
// Ciphertexts carry a random nonce, so two encryptions of one value differ: entries are compared
// by the keyed fingerprint of their plaintext that `v2:` values carry ("v2:<fingerprint>:<data>"),
// so re-encrypting an unchanged value is not an edit. Older `v1:` values compare whole.
import type { OverlapSink } from "../conflict.js";
import { NotJsonError } from "./json.js";

type Entries = Record<string, string>;

const identity = (v: string | undefined) => (v?.startsWith("v2:") ? v.slice(0, v.indexOf(":", 3)) : v);
const same = (a: string | undefined, b: string | undefined) => identity(a) === identity(b);
const pointer = (key: string) => "/" + key.replace(/~/g, "~0").replace(/\//g, "~1");
const show = (v: string | undefined) => (v === undefined ? null : JSON.stringify(v));

function parse(text: string): Entries {
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new NotJsonError((e as Error).message);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) throw new NotJsonError("not a map of encrypted entries");
  return v as Entries;
}

/** The merged entries in canonical form (sorted names), as the client writes them. */
export function mergeEncryptedEntries(base: string, main: string, branch: string, sink: OverlapSink): string {
  const [b, m, r] = [parse(base), parse(main), parse(branch)];
  const out: Entries = {};
  for (const key of [...new Set([...Object.keys(m), ...Object.keys(r)])].sort()) {
    const [bv, mv, rv] = [b[key], m[key], r[key]];
    let v: string | undefined;
    if (same(mv, rv) || same(bv, rv)) v = mv;
    else if (same(bv, mv)) v = rv;
    else v = sink.overlap(pointer(key), show(mv), show(rv)) === "main" ? mv : rv;
    if (v !== undefined) out[key] = v;
  }
  return JSON.stringify(out, null, 2) + "\n";
}
