// The unit of sync: one file, one database row, one credentials file. Stored in the sync repo
// as a single blob: a line of canonical JSON metadata, then the content bytes verbatim, so
// the repo stays diffable and the same state always produces the same bytes.
import { createHash, hash } from "node:crypto";
import { strategies, type Strategy } from "./strategy.js";
import { canonicalVector, type VersionVector } from "./vector.js";

export type RecordKind = "json" | "jsonc" | "text" | "jsonl" | "encrypted-entries" | "opaque";

export const recordKinds: readonly RecordKind[] = ["json", "jsonc", "text", "jsonl", "encrypted-entries", "opaque"];

export interface SyncRecord {
  /** Path inside the sync repo, `/`-separated, never absolute, never `..`. */
  readonly path: string;
  readonly kind: RecordKind;
  /** null for a tombstone. */
  readonly content: Uint8Array | null;
  readonly vector: VersionVector;
  /** sha256 of the content; "" for a tombstone. */
  readonly hash: string;
  /** When this version was written (ms since epoch). Changes only with the content. */
  readonly updatedAt: number;
  /** Machine that wrote this version (or "merge" for a reconciled one). */
  readonly writer: string;
  readonly deleted: boolean;
  /** The writer's signature (client/crypto/record-mac.ts); absent on records no machine with the key wrote. */
  readonly mac?: string;
  /** On a three-way merge's result: what it merged, so a machine with the key can redo it and check it. */
  readonly merged?: MergeInputs;
}

/** The inputs of a merged record: the git blob ids of the three versions (base null: none), and the strategy. */
export interface MergeInputs {
  readonly base: string | null;
  readonly main: string;
  readonly branch: string;
  readonly strategy: Strategy;
}

export type RecordSet = ReadonlyMap<string, SyncRecord>;

/** SHA-256, hex. The one-shot `hash` costs half of a Hash object per call: every record pays it twice on a pull. */
export function contentHash(content: Uint8Array): string {
  return hash("sha256", content, "hex");
}

export function makeRecord(fields: {
  path: string;
  kind: RecordKind;
  content: Uint8Array | null;
  vector: VersionVector;
  updatedAt: number;
  writer: string;
}): SyncRecord {
  const deleted = fields.content === null;
  return {
    path: fields.path,
    kind: fields.kind,
    content: fields.content,
    vector: canonicalVector(fields.vector),
    hash: fields.content === null ? "" : contentHash(fields.content),
    updatedAt: fields.updatedAt,
    writer: fields.writer,
    deleted,
  };
}

export class RecordFormatError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`sync repo record ${path} is malformed (${why}); restore it with 'oc-sync restore ${path} --at <commit>' or delete it from the repo`);
    this.name = "RecordFormatError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Header keys in a fixed order (an absent mac is left out, as records had it before signing); content follows the first newline. */
export function encodeRecord(r: SyncRecord): Uint8Array {
  const header = JSON.stringify({
    deleted: r.deleted,
    hash: r.hash,
    kind: r.kind,
    mac: r.mac,
    merged: r.merged && { base: r.merged.base, branch: r.merged.branch, main: r.merged.main, strategy: r.merged.strategy },
    updatedAt: r.updatedAt,
    vector: canonicalVector(r.vector),
    writer: r.writer,
  });
  const head = encoder.encode(header + "\n");
  if (r.content === null) return head;
  const out = new Uint8Array(head.length + r.content.length);
  out.set(head, 0);
  out.set(r.content, head.length);
  return out;
}

export function decodeRecord(path: string, bytes: Uint8Array): SyncRecord {
  const nl = bytes.indexOf(10);
  if (nl < 0) throw new RecordFormatError(path, "no header line");
  let h: unknown;
  try {
    h = JSON.parse(decoder.decode(bytes.subarray(0, nl)));
  } catch {
    throw new RecordFormatError(path, "header is not JSON");
  }
  if (!isHeader(h)) throw new RecordFormatError(path, "header fields missing or of the wrong type");
  const content = h.deleted ? null : bytes.slice(nl + 1);
  if (content !== null && contentHash(content) !== h.hash) throw new RecordFormatError(path, "content does not match its hash");
  const record: SyncRecord = { path, kind: h.kind, content, vector: canonicalVector(h.vector), hash: h.hash, updatedAt: h.updatedAt, writer: h.writer, deleted: h.deleted };
  // Optional fields of a shape this version does not know are left out: the record then checks as unsigned.
  const merged = isMergeInputs(h.merged) ? { merged: h.merged } : {};
  return { ...record, ...(typeof h.mac === "string" ? { mac: h.mac } : {}), ...merged };
}

/** The git blob id of a record as stored: how a merged record names its inputs. */
export function recordBlobId(r: SyncRecord): string {
  return gitBlobId(encodeRecord(r));
}

/** The git blob id of some bytes, as `git hash-object` gives it. */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** Whether encoded record bytes are a tombstone's, without decoding them (the header's first key is `deleted`). */
export function isEncodedTombstone(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16)).toString("latin1") === '{"deleted":true,';
}

const isBlobId = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{40}$/.test(v);

function isMergeInputs(v: unknown): v is MergeInputs {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (o.base === null || isBlobId(o.base)) && isBlobId(o.main) && isBlobId(o.branch) && strategies.includes(o.strategy as Strategy);
}

/**
 * What a record's signature covers: its path (a record moved to another path no longer
 * authenticates), every header field but the signature and a merge's inputs (a machine that
 * signs a version vouches for it whatever it was made from), and its content through its hash.
 */
export function signedPart(r: SyncRecord): string {
  return JSON.stringify(["oc-sync record v1", r.path, r.kind, r.deleted, r.hash, canonicalVector(r.vector), r.updatedAt, r.writer]);
}

interface Header {
  deleted: boolean;
  hash: string;
  kind: RecordKind;
  updatedAt: number;
  vector: Record<string, number>;
  writer: string;
  mac?: unknown;
  merged?: unknown;
}

function isHeader(h: unknown): h is Header {
  if (typeof h !== "object" || h === null) return false;
  const o = h as Record<string, unknown>;
  const v = o.vector;
  return (
    typeof o.deleted === "boolean" &&
    typeof o.hash === "string" &&
    recordKinds.includes(o.kind as RecordKind) &&
    typeof o.updatedAt === "number" &&
    typeof o.writer === "string" &&
    typeof v === "object" && v !== null && !Array.isArray(v) &&
    Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
  );
}

/** Repo paths come from a repo anyone with write access can edit: refuse escapes. */
export function isSafeRepoPath(path: string): boolean {
  if (path.length === 0 || path.length > 1024) return false;
  if (path.startsWith("/") || path.includes("\\") || path.includes("\0")) return false;
  if (/^[a-zA-Z]:/.test(path)) return false;
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

export function sameVersion(a: SyncRecord, b: SyncRecord): boolean {
  return a.hash === b.hash && a.deleted === b.deleted;
}
