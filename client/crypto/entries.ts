// Credentials are encrypted entry by entry (one provider's key = one entry) with AES-256-GCM, a
// random 96-bit nonce each time, and the record path plus entry name as associated data, so a
// ciphertext moved to another file or entry fails to decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export class TamperedError extends Error {
  constructor(path: string, entry: string) {
    super(`credential entry "${entry}" in ${path} fails authentication (tampered, or encrypted with another key); no local file was changed. Restore an earlier version with 'oc-sync restore ${path} --at <commit>'`);
    this.name = "TamperedError";
  }
}

const aad = (path: string, entry: string) => Buffer.from(`${path}\0${entry}`, "utf8");

export function encryptEntry(key: Buffer, path: string, entry: string, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad(path, entry));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return "v1:" + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

export function decryptEntry(key: Buffer, path: string, entry: string, ciphertext: string): string {
  try {
    if (!ciphertext.startsWith("v1:")) throw new Error("unknown version");
    const raw = Buffer.from(ciphertext.slice(3), "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAAD(aad(path, entry));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new TamperedError(path, entry);
  }
}
