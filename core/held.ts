// Held changes: what a sync did not apply because it changes what OpenCode executes (see
// executable.ts), kept until the user reviews it. Pure: which parts of an incoming config file
// are written, which stay as they are here, and what the repo keeps of a local file that holds back
// values other machines have (the repo form: a held or discarded value is the repo's, not undone).
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { sideBytes, wholeValue, type ConflictSide } from "./conflict.js";
import { executableChanges, pointer, valueAt } from "./executable.js";
import { parseJson, withValueAt } from "./merge/json.js";
import { pointerKeys, type Json } from "./merge/json-value.js";

/** held: waits for the user; discarded: the user keeps this machine's value; accepted: to be written by the next apply. */
export type HeldStatus = "held" | "discarded" | "accepted";

/** One side of a held change: at a key, its value as JSON text (null: absent); for a whole file, its content (null: no file). */
export type HeldValue = Pick<ConflictSide, "value" | "encoding">;

export interface HeldChange {
  /** Stable: the same incoming value at the same place always gets the same id. */
  readonly id: string;
  readonly path: string;
  /** "" for the whole file, else a JSON pointer. */
  readonly at: string;
  /** What OpenCode does with it (see ExecutableChange.what). */
  readonly what: string;
  /** What stays here until the user accepts. */
  readonly local: HeldValue;
  readonly incoming: HeldValue;
  /** The machine whose record brought it (as the record says: not authenticated). */
  readonly writer: string;
  readonly status: HeldStatus;
}

/** What the apply writes: these bytes (null: delete the file), or nothing ("leave": the file stays as it is). */
export type Admitted = Uint8Array | null | "leave";

export interface Admission {
  readonly write: Admitted;
  /** The path's held changes from now on (replacing those it had). */
  readonly held: readonly HeldChange[];
}

const decoder = new TextDecoder();

/**
 * What of `incoming` (a record's content, null: deleted) may be written over `local` (the file
 * here, null: none), given the path's held changes so far. An executable change is held unless
 * the user accepted that very value; one the user discarded stays discarded while the repo keeps
 * that value; other keys of the same file are written.
 */
export function admit(path: string, local: Uint8Array | null, incoming: Uint8Array | null, writer: string, prior: readonly HeldChange[]): Admission {
  if (sameBytes(local, incoming)) return { write: incoming, held: [] };
  const changes = executableChanges(path, text(local), text(incoming));
  const held: HeldChange[] = [];
  for (const c of changes) {
    const sides = { local: sideAt(local, c.at), incoming: sideAt(incoming, c.at) };
    const before = prior.find((p) => p.at === c.at && isDeepStrictEqual(p.incoming, sides.incoming));
    if (before?.status === "accepted") continue;
    held.push(before ?? { id: heldId(path, c.at, sides.incoming), path, at: c.at, what: c.what, ...sides, writer, status: "held" });
  }
  if (held.length === 0) return { write: incoming, held };
  if (held.some((h) => h.at === "")) return { write: "leave", held };
  let out = text(incoming)!;
  for (const h of held) out = withValueAt(out, pointerKeys(h.at), jsonOf(h.local));
  return { write: new TextEncoder().encode(out), held };
}

/**
 * The repo form of the local file `local` (null: none): where it still has the value a held or
 * discarded change kept here, the repo's value goes back in, so an edit of another key here does not
 * undo it for the other machines. A change whose place the user edited here since is `superseded`:
 * the user's own value is what syncs. `bytes` null: the repo form is no file.
 */
export function repoForm(local: Uint8Array | null, held: readonly HeldChange[]): { bytes: Uint8Array | null; superseded: string[] } {
  const whole = held.find((h) => h.at === "");
  if (whole) return sameBytes(local, sideBytes(whole.local)) ? { bytes: sideBytes(whole.incoming), superseded: [] } : { bytes: local, superseded: [whole.id] };
  if (local === null || held.length === 0) return { bytes: local, superseded: held.map((h) => h.id) };
  let out = text(local)!;
  const value = safeParse(out);
  if (value === "unreadable") return { bytes: local, superseded: [] };
  const superseded: string[] = [];
  for (const h of held) {
    const keys = pointerKeys(h.at);
    if (isDeepStrictEqual(valueAt(value, keys), jsonOf(h.local))) out = withValueAt(out, keys, jsonOf(h.incoming));
    else superseded.push(h.id);
  }
  return { bytes: new TextEncoder().encode(out), superseded };
}

/** A credentials file's entries, each as the JSON text of its plaintext (never kept: held sides carry ciphertext). */
export type EntryTexts = Readonly<Record<string, string>>;

export interface EntryAdmission {
  /**
   * The entries to write (null: delete the file), or "leave": the file stays as it is and the
   * machine does not take the record's version (nothing of it was accepted: its counters, which
   * anyone could have raised, must not reach a version this machine signs later).
   */
  readonly write: EntryTexts | null | "leave";
  readonly held: readonly HeldChange[];
}

/**
 * What of an incoming credentials record that none of the user's machines signed (its entries
 * decrypted; null: deleted) may be written over the file here (null: none): only entries whose very
 * incoming value the user accepted. Every other entry it adds, replaces or removes is held (a replayed
 * older key, a dropped entry, a tombstone). `sealed`: a side's value as ciphertext, for state.db.
 */
export function admitEntries(path: string, local: EntryTexts | null, incoming: EntryTexts | null, sealed: (entry: string, side: "local" | "incoming") => string, writer: string, prior: readonly HeldChange[]): EntryAdmission {
  const held: HeldChange[] = [];
  const out: Record<string, string> = { ...local };
  let took = false;
  for (const entry of new Set([...Object.keys(local ?? {}), ...Object.keys(incoming ?? {})])) {
    const [mine, theirs] = [local?.[entry], incoming?.[entry]];
    if (sameEntry(mine, theirs)) continue;
    const at = pointer([entry]);
    const sides = { local: { value: mine === undefined ? null : sealed(entry, "local") }, incoming: { value: theirs === undefined ? null : sealed(entry, "incoming") } };
    const before = prior.find((p) => p.at === at && p.incoming.value === sides.incoming.value);
    if (before?.status === "accepted") {
      if (theirs === undefined) delete out[entry];
      else out[entry] = theirs;
      took = true;
      continue;
    }
    const what = `the credential "${entry}" (${mine === undefined ? "added" : theirs === undefined ? "removed" : "replaced"})`;
    held.push(before ?? { id: heldId(path, at, sides.incoming), path, at, what, ...sides, writer, status: "held" });
  }
  if (held.length === 0 && took) return { write: incoming, held };
  return { write: took ? out : "leave", held };
}

/**
 * The repo form of a credentials file being committed (`out`, its entries as ciphertext, changed in
 * place): where the file here still has the value a held or discarded change kept, the repo's value
 * goes back in (as repoForm does for config). Returns the held changes the user superseded by
 * editing that entry here. `open`: a held side's plaintext text.
 */
export function entriesRepoForm(local: EntryTexts, out: Record<string, string>, held: readonly HeldChange[], open: (entry: string, ciphertext: string) => string | undefined): string[] {
  const superseded: string[] = [];
  for (const h of held) {
    const [entry] = pointerKeys(h.at) as [string];
    const kept = h.local.value === null ? undefined : open(entry, h.local.value);
    if (!sameEntry(kept, local[entry])) superseded.push(h.id);
    else if (h.incoming.value === null) delete out[entry];
    else out[entry] = h.incoming.value;
  }
  return superseded;
}

/** Two entries' JSON texts (undefined: absent) as the same value, whatever the order of their keys. */
export function sameEntry(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a === b || isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
}

/** The side of a held change at `at` of a file's content. */
function sideAt(content: Uint8Array | null, at: string): HeldValue {
  if (at === "") return wholeValue(content);
  const value = content === null ? undefined : safeParse(text(content)!);
  const v = value === "unreadable" ? undefined : valueAt(value, pointerKeys(at));
  return { value: v === undefined ? null : JSON.stringify(v) };
}

function jsonOf(side: HeldValue): Json | undefined {
  return side.value === null ? undefined : (JSON.parse(side.value) as Json);
}

function safeParse(t: string): Json | undefined | "unreadable" {
  try {
    return parseJson(t, true);
  } catch {
    return "unreadable";
  }
}

function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

function heldId(path: string, at: string, incoming: HeldValue): string {
  return createHash("sha256").update(JSON.stringify(["held", path, at, incoming.value])).digest("hex").slice(0, 12);
}
