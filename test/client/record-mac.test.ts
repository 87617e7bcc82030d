// Record signatures (client/crypto/record-mac.ts): what a signature covers, table by table.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { recordSigner } from "../../client/crypto/record-mac.js";
import { decodeRecord, encodeRecord, makeRecord, type SyncRecord } from "../../core/record.js";

const key = randomBytes(32);
const signer = recordSigner({ current: key, older: [] });
const bytes = (s: string) => new TextEncoder().encode(s);
const record = makeRecord({ path: "config/opencode.json", kind: "jsonc", content: bytes('{ "plugin": ["mine"] }\n'), vector: { a: 3, b: 1 }, updatedAt: 7, writer: "a" });
const signed = signer.sign(record);

describe("a record's signature", () => {
  it("authenticates the record it was made for, also after encoding and decoding", () => {
    expect(signer.authentic(signed)).toBe(true);
    expect(signer.authentic(decodeRecord(record.path, encodeRecord(signed)))).toBe(true);
    expect(new TextDecoder().decode(encodeRecord(signed)).split("\n")[0]).toMatch(/"kind":"jsonc","mac":"m1:[\w-]{22}","updatedAt"/);
  });

  it("is deterministic: every machine with the key signs one version alike (the same bytes)", () => {
    expect(signer.sign(record).mac).toBe(signed.mac);
  });

  const changed: [string, SyncRecord][] = [
    ["path", { ...signed, path: "config/opencode.jsonc" }],
    ["kind", { ...signed, kind: "text" }],
    ["content", { ...makeRecord({ ...record, content: bytes('{ "plugin": ["evil"] }\n') }), mac: signed.mac! }],
    ["vector", { ...signed, vector: { a: 4, b: 1 } }],
    ["vector (a machine added)", { ...signed, vector: { a: 3, b: 1, c: 1 } }],
    ["updatedAt", { ...signed, updatedAt: 8 }],
    ["writer", { ...signed, writer: "b" }],
    ["deleted (a tombstone under the signature)", { ...makeRecord({ ...record, content: null }), mac: signed.mac! }],
    ["no signature", record],
    ["a signature of another version", { ...signed, mac: signer.sign({ ...record, updatedAt: 1 }).mac! }],
    ["a truncated signature", { ...signed, mac: signed.mac!.slice(0, 10) }],
    ["an unknown signature version", { ...signed, mac: signed.mac!.replace("m1:", "m9:") }],
    ["the same tag spelled otherwise (padded)", { ...signed, mac: `${signed.mac!}==` }],
  ];
  it.each(changed)("does not authenticate it with its %s changed", (_, forged) => {
    expect(signer.authentic(forged)).toBe(false);
  });

  it("made with another key, or with a key a passphrase change replaced, does not authenticate", () => {
    const other = recordSigner({ current: randomBytes(32), older: [] });
    expect(signer.authentic(other.sign(record))).toBe(false);
    const rotated = recordSigner({ current: randomBytes(32), older: [key] });
    expect(rotated.authentic(signed)).toBe(false);
  });

  it("is left out of a record that has none: unsigned records encode as before signing existed", () => {
    expect(new TextDecoder().decode(encodeRecord(record))).not.toContain("mac");
    expect(decodeRecord(record.path, encodeRecord(record))).not.toHaveProperty("mac");
  });
});
