// Credentials are encrypted entry by entry (one provider's key = one entry) with AES-256-GCM, a
// random 96-bit nonce each time, and the record path plus entry name as associated data, so a
// ciphertext moved to another file or entry fails to decrypt. Each value also carries a keyed
// fingerprint of its plaintext ("v2:<fingerprint>:<nonce‖ciphertext‖tag>"), so the merge, which
// never has the key, can tell a re-encrypted unchanged value from an edit (core/merge/entries.ts).
// It shows only whether two values are equal, as reusing an unchanged value's ciphertext already did.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { KeyRing } from "./keys.js";

export class TamperedError extends Error {
  constructor(path: string, entry: string) {
    super(`credential entry "${entry}" in ${path} fails authentication (tampered, or encrypted with another key); no local file was changed. Restore an earlier version with 'oc-sync restore ${path} --at <commit>'`);
    this.name = "TamperedError";
  }
}

const aad = (path: string, entry: string) => Buffer.from(`${path}\0${entry}`, "utf8");

/** HMAC-SHA256 under a subkey of the data key (derived with HMAC as the PRF), over the AAD's context and the value; 128 bits. */
function fingerprint(key: Buffer, path: string, entry: string, plaintext: string): string {
  const subkey = createHmac("sha256", key).update("oc-sync credential fingerprint v2").digest();
  return createHmac("sha256", subkey).update(aad(path, entry)).update("\0").update(plaintext, "utf8").digest().subarray(0, 16).toString("base64url");
}

export function encryptEntry(key: Buffer, path: string, entry: string, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad(path, entry));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `v2:${fingerprint(key, path, entry, plaintext)}:` + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

/** With the ring's current key, else an earlier one (a value encrypted before a passphrase change). */
export function decryptEntry(ring: KeyRing, path: string, entry: string, ciphertext: string): string {
  for (const key of [ring.current, ...ring.older]) {
    const plaintext = decryptWith(key, path, entry, ciphertext);
    if (plaintext !== undefined) return plaintext;
  }
  throw new TamperedError(path, entry);
}

function decryptWith(key: Buffer, path: string, entry: string, ciphertext: string): string | undefined {
  try {
    const [version, fp, data] = ciphertext.startsWith("v2:") ? ciphertext.split(":") : ["v1", undefined, ciphertext.slice(3)];
    if (!ciphertext.startsWith(`${version}:`) || data === undefined) throw new Error("unknown version");
    const raw = Buffer.from(data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAAD(aad(path, entry));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const plaintext = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
    // A fingerprint that does not match its value would mislead merges: treat it as tampering too.
    if (fp !== undefined && fp !== fingerprint(key, path, entry, plaintext)) throw new Error("fingerprint mismatch");
    return plaintext;
  } catch {
    return undefined;
  }
}
