// The sync repo's data key: 32 random bytes, stored in the repo only wrapped (AES-256-GCM) by a
// key derived from the user's passphrase with scrypt (N=2^17, r=8, p=1: OWASP's recommendation).
// Changing the passphrase rewraps this one file; no credential is re-encrypted.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from "node:crypto";

export interface WrappedKey {
  readonly version: 1;
  readonly kdf: { readonly name: "scrypt"; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  /** base64(nonce ‖ ciphertext ‖ tag) */
  readonly wrapped: string;
  /** Identifies the data key (a hash of it) so a cached copy can be checked without the passphrase. */
  readonly keyId: string;
}

export class PassphraseError extends Error {
  constructor() {
    super("wrong passphrase: it does not unlock this sync repo's key (.oc-sync/key.json). Use the passphrase you chose at 'oc-sync init' on your first machine (OC_SYNC_PASSPHRASE or the prompt); nothing was changed");
    this.name = "PassphraseError";
  }
}

const WRAP_AAD = Buffer.from("oc-sync data key v1");
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

export async function wrapKey(dataKey: Buffer, passphrase: string): Promise<WrappedKey> {
  const problem = passphraseProblem(passphrase);
  if (problem) throw new Error(problem);
  const salt = randomBytes(16);
  const kek = await derive(passphrase, salt, KDF);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kek, nonce);
  cipher.setAAD(WRAP_AAD);
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return {
    version: 1,
    kdf: { name: "scrypt", ...KDF, salt: salt.toString("base64") },
    wrapped: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64"),
    keyId: keyId(dataKey),
  };
}

export async function unwrapKey(wrapped: WrappedKey, passphrase: string): Promise<Buffer> {
  const kek = await derive(passphrase, Buffer.from(wrapped.kdf.salt, "base64"), wrapped.kdf);
  const raw = Buffer.from(wrapped.wrapped, "base64");
  try {
    const decipher = createDecipheriv("aes-256-gcm", kek, raw.subarray(0, 12));
    decipher.setAAD(WRAP_AAD);
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
  } catch {
    throw new PassphraseError();
  }
}

export function parseWrappedKey(text: string): WrappedKey {
  const k = JSON.parse(text) as WrappedKey;
  if (k.version !== 1 || k.kdf?.name !== "scrypt" || typeof k.wrapped !== "string") {
    throw new Error("the sync repo's .oc-sync/key.json has a format this oc-sync does not know; upgrade oc-sync");
  }
  return k;
}
