// The sync repo's data key: 32 random bytes, stored in the repo only wrapped (AES-256-GCM) by a
// key derived from the user's passphrase with scrypt (N=2^17, r=8, p=1: OWASP's recommendation).
// Changing the passphrase rotates it: a new data key, wrapped by the new passphrase, carries the
// earlier ones (wrapped under itself), so what they encrypted stays readable and the old
// passphrase and key open nothing written after the change.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from "node:crypto";

export interface WrappedKey {
  readonly version: 1;
  readonly kdf: { readonly name: "scrypt"; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  /** base64(nonce ‖ ciphertext ‖ tag) */
  readonly wrapped: string;
  /** Identifies the data key (a hash of it) so a cached copy can be checked without the passphrase. */
  readonly keyId: string;
  /** The data keys before passphrase changes, newest first: base64(nonce ‖ ciphertext ‖ tag) under this one. */
  readonly previous?: string;
}

/** The data key credentials are encrypted with now, and the earlier ones that still decrypt older values. */
export interface KeyRing {
  readonly current: Buffer;
  readonly older: readonly Buffer[];
}

export class PassphraseError extends Error {
  constructor() {
    super("wrong passphrase: it does not unlock this sync repo's key (.oc-sync/key.json). Use the passphrase you chose at 'oc-sync init' on your first machine (OC_SYNC_PASSPHRASE or the prompt); nothing was changed");
    this.name = "PassphraseError";
  }
}

const WRAP_AAD = Buffer.from("oc-sync data key v1");
const PREVIOUS_AAD = Buffer.from("oc-sync previous data keys v1");

/** AES-256-GCM with a fresh nonce: base64(nonce ‖ ciphertext ‖ tag). */
export function seal(key: Buffer, aad: Buffer, plaintext: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

/** seal's inverse; throws when the key is wrong or anything was changed. */
export function open(key: Buffer, aad: Buffer, sealed: string): Buffer {
  const raw = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
}
const KDF = { N: 2 ** 17, r: 8, p: 1 };

function derive(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize("NFC"), salt, 32, { ...params, maxmem: 256 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function keyId(dataKey: Buffer): string {
  return createHash("sha256").update("oc-sync key id").update(dataKey).digest("hex").slice(0, 32);
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}

/** What is wrong with a passphrase a key is to be wrapped with (undefined: nothing), checked before anything is written. */
export function passphraseProblem(passphrase: string): string | undefined {
  return passphrase.length < 8 ? "passphrase too short: use at least 8 characters" : undefined;
}

/** `older`: the data keys this one replaces (a passphrase change), newest first. */
export async function wrapKey(dataKey: Buffer, passphrase: string, older: readonly Buffer[] = []): Promise<WrappedKey> {
  const problem = passphraseProblem(passphrase);
  if (problem) throw new Error(problem);
  const salt = randomBytes(16);
  const kek = await derive(passphrase, salt, KDF);
  const previous = older.length ? { previous: seal(dataKey, PREVIOUS_AAD, Buffer.from(JSON.stringify(older.map((k) => k.toString("base64"))))) } : {};
  return { version: 1, kdf: { name: "scrypt", ...KDF, salt: salt.toString("base64") }, wrapped: seal(kek, WRAP_AAD, dataKey), keyId: keyId(dataKey), ...previous };
}

export async function unwrapKey(wrapped: WrappedKey, passphrase: string): Promise<Buffer> {
  const kek = await derive(passphrase, Buffer.from(wrapped.kdf.salt, "base64"), wrapped.kdf);
  try {
    return open(kek, WRAP_AAD, wrapped.wrapped);
  } catch {
    throw new PassphraseError();
  }
}

/** The ring of `current` (the key `wrapped` holds): it and the earlier keys `wrapped` carries. */
export function keyRing(wrapped: WrappedKey, current: Buffer): KeyRing {
  if (!wrapped.previous) return { current, older: [] };
  let older: unknown;
  try {
    older = JSON.parse(open(current, PREVIOUS_AAD, wrapped.previous).toString("utf8"));
  } catch {
    throw new Error("the earlier data keys in the sync repo's .oc-sync/key.json fail authentication: the file was changed by someone without the key. Credentials were not touched; put back .oc-sync/key.json from an earlier commit of the sync repo");
  }
  return { current, older: (older as string[]).map((k) => Buffer.from(k, "base64")) };
}

export function parseWrappedKey(text: string): WrappedKey {
  const k = JSON.parse(text) as WrappedKey;
  if (k.version !== 1 || k.kdf?.name !== "scrypt" || typeof k.wrapped !== "string") {
    throw new Error("the sync repo's .oc-sync/key.json has a format this oc-sync does not know; upgrade oc-sync");
  }
  return k;
}
