// Credentials are encrypted entry by entry (one provider's key = one entry) with AES-256-GCM, a
// random 96-bit nonce each time, and the record path plus entry name as associated data, so a
// ciphertext moved to another file or entry fails to decrypt. Each value also carries a keyed
// fingerprint of its plaintext ("v2:<fingerprint>:<nonce‖ciphertext‖tag>"), so the merge, which
// never has the key, can tell a re-encrypted unchanged value from an edit (core/merge/entries.ts).
// It shows only whether two values are equal, as reusing an unchanged value's ciphertext already did.
import { createHmac } from "node:crypto";
import { open, seal, type KeyRing } from "./keys.js";

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
  return `v2:${fingerprint(key, path, entry, plaintext)}:` + seal(key, aad(path, entry), Buffer.from(plaintext, "utf8"));
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
    const plaintext = open(key, aad(path, entry), data).toString("utf8");
    // A fingerprint that does not match its value would mislead merges: treat it as tampering too.
    if (fp !== undefined && fp !== fingerprint(key, path, entry, plaintext)) throw new Error("fingerprint mismatch");
    return plaintext;
  } catch {
    return undefined;
  }
}
