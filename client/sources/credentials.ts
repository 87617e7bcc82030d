// auth.json and mcp-auth.json: each top-level entry (one provider) encrypted on its own, so two
// machines adding different providers merge entry by entry without ever decrypting in the repo.
// Files are written back with mode 0600. Without a key the category is skipped, never uploaded.
// A record none of the user's machines signed is not written: its entries are held (CredentialGate).
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { admitEntries, entriesRepoForm, sameEntry, type EntryTexts, type HeldChange } from "../../core/held.js";
import { contentHash, type SyncRecord } from "../../core/record.js";
import { decryptEntry, encryptEntry, TamperedError } from "../crypto/entries.js";
import type { KeyRing } from "../crypto/keys.js";
import { removeLeftover } from "../platform/atomic-file.js";
import { replaceUnlessEdited, statKey } from "./files.js";
import { ApplyIncomplete, SourceError, type Applied, type ApplyResult, type KnownLocal, type LocalChange, type RecordGroup, type ScanContext, type Source } from "./source.js";

export const CREDENTIAL_FILES = ["auth.json", "mcp-auth.json"] as const;
export const CREDENTIALS_PREFIX = "credentials/";
export const CREDENTIALS_CATEGORY = "credentials";
const enc = new TextEncoder();
const dec = new TextDecoder();

type Entries = Record<string, unknown>;

/**
 * Which records from the repo are written (DESIGN.md §8): one a machine of the user's wrote (signed,
 * or a merge of such, record-trust.ts); of any other, only entries the user accepted in review.
 */
export interface CredentialGate {
  trusted(record: SyncRecord): Promise<boolean>;
  readonly held: { forPath(path: string): HeldChange[]; replace(path: string, changes: readonly HeldChange[]): void; remove(ids: readonly string[]): void };
}

const textsOf = (entries: Entries): EntryTexts => Object.fromEntries(Object.entries(entries).map(([e, v]) => [e, JSON.stringify(v)]));
const fileBytes = (texts: EntryTexts): Uint8Array => enc.encode(JSON.stringify(Object.fromEntries(Object.entries(texts).map(([e, t]) => [e, JSON.parse(t) as unknown])), null, 2) + "\n");

function parseEntries(text: string, where: string): Entries {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SourceError(`${where} is not valid JSON; fix or remove it (oc-sync left it and the repo untouched)`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new SourceError(`${where} must hold a JSON object of entries`);
  return v as Entries;
}

/** Canonical: sorted entry names, so the same ciphertexts always make the same bytes. */
function canonical(entries: Record<string, string>): Uint8Array {
  const sorted = Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k]!]));
  return enc.encode(JSON.stringify(sorted, null, 2) + "\n");
}

export class CredentialSource implements Source {
  readonly category = CREDENTIALS_CATEGORY;
  readonly prefixes = [CREDENTIALS_PREFIX];

  constructor(
    private readonly dataDir: string,
    private readonly key: KeyRing,
    private readonly gate?: CredentialGate,
  ) {}

  owns(path: string): boolean {
    return path.startsWith(CREDENTIALS_PREFIX);
  }

  groupOf(): RecordGroup {
    return { name: "credentials", glob: `${CREDENTIALS_PREFIX}*`, whole: true };
  }

  async *scan(ctx: ScanContext): AsyncIterable<LocalChange> {
    // A write killed before its rename leaves plaintext credentials beside auth.json: not for long.
    for (const name of await readdir(this.dataDir).catch(() => [] as string[])) if (CREDENTIAL_FILES.some((f) => name.startsWith(`.${f}.`))) await removeLeftover(join(this.dataDir, name));
    for (const name of CREDENTIAL_FILES) {
      const path = CREDENTIALS_PREFIX + name;
      const file = join(this.dataDir, name);
      const s = await lstat(file).catch(() => undefined);
      const known = ctx.index(path);
      if (!s || !s.isFile()) {
        if (!known || known.deleted) continue;
        // Deleted here: the user's own choice, whatever was held of it.
        this.gate?.held.replace(path, []);
        yield { type: "delete", path, kind: "encrypted-entries" };
        continue;
      }
      const stat = statKey(s);
      if (known && !known.deleted && known.stat === stat) continue;
      const bytes = await readFile(file);
      const localHash = contentHash(bytes);
      if (known && !known.deleted && known.localHash === localHash) {
        yield { type: "touch", path, localHash, stat };
        continue;
      }
      const plain = parseEntries(bytes.toString("utf8"), file);
      // The commit is built on, the one this machine last integrated (a newer main may have changed the entry), and
      // the version the index holds (a machine offering everything again has neither: seed 5637, a copied home after a key rotation).
      const previous = [await this.ciphertextsOf(await ctx.previous(path)), await this.ciphertextsOf(await ctx.seen(path))];
      let indexed: Record<string, string> | undefined;
      const find = (sets: Record<string, string>[], entry: string, text: string) => sets.map((p) => p[entry]).find((c) => c !== undefined && this.tryDecrypt(path, entry, c) === text);
      const out: Record<string, string> = {};
      for (const [entry, value] of Object.entries(plain)) {
        const text = JSON.stringify(value);
        // Reuse the old ciphertext when the entry did not change: fresh nonces would make every sync a
        // change, and after a passphrase change its fingerprint, keyed, would make it look edited (seed 2925).
        let old = find(previous, entry, text);
        if (old === undefined) old = find([(indexed ??= this.ciphertextsOf(await ctx.indexed(path)))], entry, text);
        out[entry] = old ?? encryptEntry(this.key.current, path, entry, text);
      }
      const held = this.gate?.held.forPath(path) ?? [];
      if (held.length) this.gate!.held.remove(entriesRepoForm(textsOf(plain), out, held, (entry, c) => this.tryDecrypt(path, entry, c)));
      yield { type: "put", path, kind: "encrypted-entries", content: canonical(out), localHash, stat };
    }
  }

  async apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult> {
    const applied: Applied[] = [];
    const editedHere: string[] = [];
    const waiting: string[] = [];
    const failures: SourceError[] = [];
    for (const r of records) {
      // A record whose entry fails authentication (or a local file that is not JSON) leaves its file untouched, and only it.
      let file: string;
      let write: EntryTexts | null | "leave";
      try {
        file = this.fileOf(r);
        write = await this.admitted(r, file, r.deleted ? null : this.decrypted(r));
      } catch (e) {
        if (!(e instanceof SourceError)) throw e;
        failures.push(e);
        continue;
      }
      // Not taken: looked at again each sync, until one of the user's machines signs it or the user accepts it.
      if (write === "leave") waiting.push(r.path);
      const done = write === "leave" ? undefined : await replaceUnlessEdited(r.path, file, write && fileBytes(write), 0o600, known);
      if (done === "edited") editedHere.push(r.path);
      else if (done) applied.push(done);
    }
    const done = { applied, waiting, editedHere };
    if (failures.length) throw new ApplyIncomplete(failures.map((e) => e.message), done, failures.some((e) => e.needsUser));
    return done;
  }

  private fileOf(r: SyncRecord): string {
    const name = r.path.slice(CREDENTIALS_PREFIX.length);
    if (!(CREDENTIAL_FILES as readonly string[]).includes(name)) throw new SourceError(`refused to write ${r.path}: not a credentials file oc-sync syncs`);
    return join(this.dataDir, name);
  }

  async holdsHere(record: SyncRecord): Promise<boolean> {
    const local = await this.localEntries(join(this.dataDir, record.path.slice(CREDENTIALS_PREFIX.length)));
    if (local === null || record.deleted) return false;
    const theirs = this.decrypted(record);
    const names = new Set([...Object.keys(local), ...Object.keys(theirs)]);
    return [...names].every((e) => sameEntry(local[e], theirs[e]));
  }

  /** The file's entries as JSON texts; null when there is none. */
  private async localEntries(file: string): Promise<EntryTexts | null> {
    const s = await lstat(file).catch(() => undefined);
    return s?.isFile() ? textsOf(parseEntries(await readFile(file, "utf8"), file)) : null;
  }

  /** What of `r` (decrypted: `incoming`) is written at `file`: all of it, unless none of the user's machines wrote it. */
  private async admitted(r: SyncRecord, file: string, incoming: EntryTexts | null): Promise<EntryTexts | null | "leave"> {
    if (!this.gate) return incoming;
    if (await this.gate.trusted(r)) {
      this.gate.held.replace(r.path, []);
      return incoming;
    }
    const local = await this.localEntries(file);
    const cipher = r.deleted ? {} : this.ciphertextsOf(r);
    // Held sides are kept as ciphertext: state.db never holds a credential in plaintext.
    const sealed = (entry: string, side: "local" | "incoming") => (side === "incoming" ? cipher[entry]! : encryptEntry(this.key.current, r.path, entry, local![entry]!));
    const a = admitEntries(r.path, local, incoming, sealed, r.writer, this.gate.held.forPath(r.path));
    this.gate.held.replace(r.path, a.held);
    return a.write;
  }

  private decrypted(r: SyncRecord): EntryTexts {
    const out: Record<string, string> = {};
    for (const [entry, value] of Object.entries(this.ciphertextsOf(r))) {
      try {
        out[entry] = decryptEntry(this.key, r.path, entry, String(value));
      } catch (e) {
        throw new SourceError((e as Error).message, e instanceof TamperedError);
      }
    }
    return out;
  }

  private ciphertextsOf(record: SyncRecord | undefined): Record<string, string> {
    if (!record || record.deleted) return {};
    return parseEntries(dec.decode(record.content!), `sync repo record ${record.path}`) as Record<string, string>;
  }

  private tryDecrypt(path: string, entry: string, ciphertext: string): string | undefined {
    try {
      return decryptEntry(this.key, path, entry, ciphertext);
    } catch {
      return undefined;
    }
  }
}
