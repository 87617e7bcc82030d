// auth.json and mcp-auth.json: each top-level entry (one provider) encrypted on its own, so two
// machines adding different providers merge entry by entry without ever decrypting in the repo.
// Files are written back with mode 0600. Without a key the category is skipped, never uploaded.
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { contentHash, type SyncRecord } from "../../core/record.js";
import { decryptEntry, encryptEntry, TamperedError } from "../crypto/entries.js";
import type { KeyRing } from "../crypto/keys.js";
import { removeLeftover } from "../platform/atomic-file.js";
import { replaceUnlessEdited, statKey } from "./files.js";
import { SourceError, type Applied, type ApplyResult, type KnownLocal, type LocalChange, type RecordGroup, type ScanContext, type Source } from "./source.js";

export const CREDENTIAL_FILES = ["auth.json", "mcp-auth.json"] as const;
export const CREDENTIALS_PREFIX = "credentials/";
const enc = new TextEncoder();
const dec = new TextDecoder();

type Entries = Record<string, unknown>;

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
  readonly category = "credentials";
  readonly prefixes = [CREDENTIALS_PREFIX];

  constructor(
    private readonly dataDir: string,
    private readonly key: KeyRing,
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
        if (known && !known.deleted) yield { type: "delete", path, kind: "encrypted-entries" };
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
      yield { type: "put", path, kind: "encrypted-entries", content: canonical(out), localHash, stat };
    }
  }

  async apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult> {
    // Decrypt everything first: a wrong key or tampered entry must leave every local file untouched.
    const plans = records.map((r) => {
      const name = r.path.slice(CREDENTIALS_PREFIX.length);
      if (!(CREDENTIAL_FILES as readonly string[]).includes(name)) throw new SourceError(`refused to write ${r.path}: not a credentials file oc-sync syncs`);
      if (r.deleted) return { r, file: join(this.dataDir, name), bytes: null };
      const cipher = parseEntries(dec.decode(r.content!), `sync repo record ${r.path}`);
      const plain: Entries = {};
      for (const [entry, value] of Object.entries(cipher)) {
        try {
          plain[entry] = JSON.parse(decryptEntry(this.key, r.path, entry, String(value)));
        } catch (e) {
          throw new SourceError((e as Error).message, e instanceof TamperedError);
        }
      }
      return { r, file: join(this.dataDir, name), bytes: enc.encode(JSON.stringify(plain, null, 2) + "\n") };
    });
    const applied: Applied[] = [];
    const editedHere: string[] = [];
    for (const { r, file, bytes } of plans) {
      const done = await replaceUnlessEdited(r.path, file, bytes, 0o600, known);
      if (done === "edited") editedHere.push(r.path);
      else applied.push(done);
    }
    return { applied, waiting: [], editedHere };
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
