import { makeRecord, type RecordKind, type SyncRecord } from "../../core/record.js";
import type { VersionVector } from "../../core/vector.js";

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

export function rec(path: string, content: string | null, vector: VersionVector, updatedAt = 1, writer = "m", kind: RecordKind = "json"): SyncRecord {
  return makeRecord({ path, kind, content: content === null ? null : enc(content), vector, updatedAt, writer });
}

export const set = (...records: SyncRecord[]) => new Map(records.map((r) => [r.path, r]));
