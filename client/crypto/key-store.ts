// Finds the data key for this sync repo: a cached copy (mode 0600, beside oc-sync's state, no
// weaker than OpenCode's own auth.json), else the passphrase unwraps .oc-sync/key.json, else —
// for a repo without a key yet — a new key is made and its wrapped form returned for committing.
import { readFile } from "node:fs/promises";
import { KEY_PATH } from "../../core/layout.js";
import type { GitRepo } from "../../git/repo.js";
import { writeFileAtomic } from "../platform/atomic-file.js";
import { keyId, keyRing, newDataKey, parseWrappedKey, PassphraseError, unwrapKey, wrapKey, type KeyRing, type WrappedKey } from "./keys.js";

/** How the user gives the passphrase when none was given. */
export const GIVE_PASSPHRASE = "set OC_SYNC_PASSPHRASE, or run 'oc-sync init' in a terminal to be asked";

/** What a machine whose cached key was replaced (a passphrase change elsewhere) is told. */
export const KEY_CHANGED = `the sync repo's data key was replaced by a passphrase change on another machine: give the new passphrase (${GIVE_PASSPHRASE}). Until then credentials are not synced; this machine's stay as they are and go up once it has the new key`;

export interface KeyResolution {
  /** null: no passphrase (or not the one that opens the repo's key now), credentials are not synced. */
  readonly key: KeyRing | null;
  /** Set when the repo has no key yet: commit this as .oc-sync/key.json. */
  readonly create?: WrappedKey;
  /** The repo's key is not the one cached here, and no passphrase given opens it: it was rotated. */
  readonly stale?: boolean;
}

export async function readWrappedKey(repo: GitRepo, commit: string | null): Promise<WrappedKey | undefined> {
  if (!commit) return undefined;
  const blob = await repo.readBlob(`${commit}:${KEY_PATH}`);
  return blob ? parseWrappedKey(blob.toString("utf8")) : undefined;
}

export async function resolveKey(repo: GitRepo, commit: string | null, cacheFile: string, passphrase: string | undefined): Promise<KeyResolution> {
  const wrapped = await readWrappedKey(repo, commit);
  if (wrapped) {
    const cached = await readCachedKey(cacheFile);
    if (cached && keyId(cached) === wrapped.keyId) return { key: keyRing(wrapped, cached) };
    if (!passphrase) return { key: null, stale: cached !== undefined };
    let key: Buffer;
    try {
      key = await unwrapKey(wrapped, passphrase);
    } catch (e) {
      // The passphrase that opened the key this machine has (still set here) no longer opens the repo's.
      if (cached && e instanceof PassphraseError) return { key: null, stale: true };
      throw e;
    }
    await cacheKey(cacheFile, key);
    return { key: keyRing(wrapped, key) };
  }
  if (!passphrase) return { key: null };
  const key = newDataKey();
  return { key: { current: key, older: [] }, create: await wrapKey(key, passphrase) };
}

export async function cacheKey(file: string, key: Buffer): Promise<void> {
  await writeFileAtomic(file, key.toString("base64") + "\n", 0o600);
}

async function readCachedKey(file: string): Promise<Buffer | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (!text) return undefined;
  const key = Buffer.from(text.trim(), "base64");
  return key.length === 32 ? key : undefined;
}
