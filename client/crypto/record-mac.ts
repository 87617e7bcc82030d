// Signed records (DESIGN.md §8): an HMAC-SHA256 under a subkey of the sync repo's data key, which
// only the user's machines hold, over a record's path, header and content hash (core/record.ts
// signedPart). A record that authenticates was written by one of the user's machines. One that does
// not was written by something without the key: an Action merge, a machine without the passphrase
// or with a key from before a passphrase change, an older oc-sync, or anyone who can push to the repo.
// Only the current key signs and authenticates: a key a passphrase change replaced signs nothing new.
import { createHmac, timingSafeEqual } from "node:crypto";
import { signedPart, type SyncRecord } from "../../core/record.js";
import { keyId, type KeyRing } from "./keys.js";

export interface RecordSigner {
  /** The key it signs with (keys.ts keyId). */
  readonly keyId: string;
  /** The record with this machine's signature. */
  sign(record: SyncRecord): SyncRecord;
  /** Whether the record's signature is one the current key made over what it says now. */
  authentic(record: SyncRecord): boolean;
}

const VERSION = "m1:";

export function recordSigner(ring: KeyRing): RecordSigner {
  const subkey = createHmac("sha256", ring.current).update("oc-sync record mac v1").digest();
  const mac = (r: SyncRecord) => VERSION + createHmac("sha256", subkey).update(signedPart(r)).digest().subarray(0, 16).toString("base64url");
  return {
    keyId: keyId(ring.current),
    sign: (record) => ({ ...record, mac: mac(record) }),
    authentic(record) {
      // Compared as the exact string: one tag has one spelling, so a copy cannot differ from main's and still pass.
      if (record.mac === undefined) return false;
      const [given, expected] = [Buffer.from(record.mac), Buffer.from(mac(record))];
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
