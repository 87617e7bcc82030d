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
  /** Set when the repo has no key yet, or an older one (see `replaces`): commit this as .oc-sync/key.json. */
  readonly create?: WrappedKey;
  /** The id of the older key in the repo that `create` replaces. */
  readonly replaces?: string;
  /** The repo's key is not the one cached here, and no passphrase given opens it: it was rotated. */
  readonly stale?: boolean;
}

export async function readWrappedKey(repo: GitRepo, commit: string | null): Promise<WrappedKey | undefined> {
  if (!commit) return undefined;
  const blob = await repo.readBlob(`${commit}:${KEY_PATH}`);
  return blob ? parseWrappedKey(blob.toString("utf8")) : undefined;
}

/**
 * `elsewhere`: other commits of the remote (its machine branches) whose key file may be newer than
 * `commit`'s, asked only when the passphrase opens no key here.
 */
export async function resolveKey(repo: GitRepo, commit: string | null, cacheFile: string, passphrase: string | undefined, elsewhere: () => Promise<readonly string[]> = async () => []): Promise<KeyResolution> {
  const wrapped = await readWrappedKey(repo, commit);
  if (wrapped) {
    const cached = await readCachedKey(cacheFile);
    const ours = cached && (await readCachedWrapped(cacheFile, cached));
    if (cached && keyId(cached) === wrapped.keyId) {
      // Kept from an earlier oc-sync without the key file beside the key: kept from now on.
      if (!ours) await cacheKey(cacheFile, cached, wrapped);
      return { key: keyRing(wrapped, cached) };
    }
    // The repo's key is one this machine's key replaced: main went back past a passphrase change
    // (a reset, a force-push). The newer key goes back up, carrying the older ones.
    if (ours) {
      const ring = keyRing(ours, cached);
      if (ring.older.some((k) => keyId(k) === wrapped.keyId)) return { key: ring, create: ours, replaces: wrapped.keyId };
    }
    if (!passphrase) return { key: null, stale: cached !== undefined };
    let key: Buffer;
    try {
      key = await unwrapKey(wrapped, passphrase);
    } catch (e) {
      // The passphrase that opened the key this machine has (still set here) no longer opens the repo's.
      if (cached && e instanceof PassphraseError) return { key: null, stale: true };
      const newer = e instanceof PassphraseError ? await newerKeyElsewhere(repo, wrapped, passphrase, await elsewhere()) : undefined;
      if (!newer) throw e;
      await cacheKey(cacheFile, newer.key, newer.wrapped);
      return { key: keyRing(newer.wrapped, newer.key), create: newer.wrapped, replaces: wrapped.keyId };
    }
    await cacheKey(cacheFile, key, wrapped);
    return { key: keyRing(wrapped, key) };
  }
  if (!passphrase) return { key: null };
  const key = newDataKey();
  return { key: { current: key, older: [] }, create: await wrapKey(key, passphrase) };
}

/**
 * Main went back past a passphrase change (a reset, a force-push) and this machine never cached the
 * newer key: a key file on another commit of the remote that the passphrase opens and that carries
 * main's key among its older ones (history seed 3003).
 */
async function newerKeyElsewhere(repo: GitRepo, wrapped: WrappedKey, passphrase: string, commits: readonly string[]): Promise<{ key: Buffer; wrapped: WrappedKey } | undefined> {
  const seen = new Set([wrapped.keyId]);
  for (const commit of commits) {
    const other = await readWrappedKey(repo, commit).catch(() => undefined);
    if (!other || seen.has(other.keyId)) continue;
    seen.add(other.keyId);
    const key = await unwrapKey(other, passphrase).catch(() => undefined);
    if (key && keyRing(other, key).older.some((k) => keyId(k) === wrapped.keyId)) return { key, wrapped: other };
  }
  return undefined;
}

/** The key, and the key file that carries it (its earlier keys inside), kept beside oc-sync's state. */
export async function cacheKey(file: string, key: Buffer, wrapped: WrappedKey): Promise<void> {
  await writeFileAtomic(wrappedCache(file), JSON.stringify(wrapped) + "\n", 0o600);
  await writeFileAtomic(file, key.toString("base64") + "\n", 0o600);
}

const wrappedCache = (file: string) => `${file}.json`;

/** The cached key file, if it is the cached key's. */
async function readCachedWrapped(file: string, key: Buffer): Promise<WrappedKey | undefined> {
  const text = await readFile(wrappedCache(file), "utf8").catch(() => undefined);
  try {
    const wrapped = text ? parseWrappedKey(text) : undefined;
    return wrapped?.keyId === keyId(key) ? wrapped : undefined;
  } catch {
    return undefined;
  }
}

async function readCachedKey(file: string): Promise<Buffer | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (!text) return undefined;
  const key = Buffer.from(text.trim(), "base64");
  return key.length === 32 ? key : undefined;
}
