// Segments: a session's records stored as two blobs instead of one blob each. A first sync of a long
// history wrote one git object per row (90,000 at size R) and paid for every one of them in the
// push, the server's index-pack and the next machine's fetch. A segment is an index (each record's
// path, offset and length) and a data blob (the records' bytes, back to back, exactly as they would
// be stored alone), both in the session's folder. Readers expand it (git/segments.ts): a record in a
// segment is the same record as ever, and a loose blob at its path, written by any later sync, is
// the newer version and hides it. Segments are only ever written whole for a session new to the
// repo, so one new message still writes one blob.
import { parseRecordPath, SAFE_ID, sessionFolder } from "./db-paths.js";
import { gitBlobId } from "./record.js";

/** The repo format from which clients write segments; an older oc-sync refuses such a repo (core/layout.ts). */
export const SEGMENTS_FORMAT = 2;
/** A segment's data blob stays under this (GitHub refuses a blob over 100 MB; small ones keep one record's read cheap). */
export const SEGMENT_MAX_BYTES = 8 * 1024 * 1024;
/** A record this large is stored loose: it would fill a segment alone. */
export const SEGMENT_LOOSE_FROM = SEGMENT_MAX_BYTES / 4;
/** A session with fewer records than this gains nothing from a segment (two blobs). */
export const SEGMENT_MIN_RECORDS = 3;

const SEGMENT_FILE = /^segment-(\d{1,6})\.(idx|seg)$/;

export const segmentIndexPath = (sessionId: string, n: number): string => `${sessionFolder(sessionId)}segment-${n}.idx`;
export const segmentDataPath = (sessionId: string, n: number): string => `${sessionFolder(sessionId)}segment-${n}.seg`;

/** The session a path's folder belongs to (`db/sessions/<id>` or anything below it), if any. */
export function sessionFolderOf(path: string): string | undefined {
  const s = path.split("/", 3);
  return s[0] === "db" && s[1] === "sessions" && s[2] !== undefined && SAFE_ID.test(s[2]) && s[2] !== "." && s[2] !== ".." ? s[2] : undefined;
}

/** A segment's index or data file: `db/sessions/<id>/segment-<n>.idx|seg`. */
export function isSegmentPath(path: string): boolean {
  const s = path.split("/");
  return s.length === 4 && sessionFolderOf(path) !== undefined && SEGMENT_FILE.test(s[3]!);
}

export const isSegmentIndexPath = (path: string): boolean => isSegmentPath(path) && path.endsWith(".idx");

export interface SegmentEntry {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

export interface SegmentIndex {
  /** The data blob's git id. */
  readonly data: string;
  readonly entries: readonly SegmentEntry[];
}

/** One segment of a session's records (each [path, encoded record]; of a path given twice, the later): its index and data blobs' bytes. */
export function encodeSegment(sessionId: string, given: readonly (readonly [string, Uint8Array])[]): { index: Uint8Array; data: Uint8Array } {
  const folder = sessionFolder(sessionId);
  const records = [...new Map(given)];
  const data = Buffer.concat(records.map(([, bytes]) => bytes));
  let offset = 0;
  const entries = records.map(([path, bytes]) => {
    const entry = [path.slice(folder.length), offset, bytes.length] as const;
    offset += bytes.length;
    return entry;
  });
  const index = JSON.stringify({ segment: 1, data: gitBlobId(data), records: entries });
  return { index: new TextEncoder().encode(index + "\n"), data };
}

/**
 * A segment index read from the repo (anyone with push access can write one): every path must be a
 * record of this session, every range whole numbers. Undefined when it is not that: the index is then
 * reported as a damaged record, never half used.
 */
export function parseSegmentIndex(sessionId: string, bytes: Uint8Array): SegmentIndex | undefined {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as { segment?: unknown; data?: unknown; records?: unknown };
  if (o.segment !== 1 || typeof o.data !== "string" || !/^[0-9a-f]{40}$/.test(o.data) || !Array.isArray(o.records)) return undefined;
  const folder = sessionFolder(sessionId);
  const entries: SegmentEntry[] = [];
  for (const r of o.records as unknown[]) {
    if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== "string" || !Number.isSafeInteger(r[1]) || !Number.isSafeInteger(r[2]) || r[1] < 0 || r[2] < 0) return undefined;
    const path = folder + r[0];
    const a = parseRecordPath(path);
    if ((a?.sessionId ?? a?.id) !== sessionId) return undefined;
    entries.push({ path, offset: r[1] as number, length: r[2] as number });
  }
  return { data: o.data, entries };
}

const VIRTUAL = /^segment:([0-9a-f]{40}):(\d+):(\d+)$/;

/** The name a record in a segment goes by where a git object id would: its data blob and range. */
export const virtualName = (data: string, e: SegmentEntry): string => `segment:${data}:${e.offset}:${e.length}`;

export function parseVirtualName(name: string): { data: string; offset: number; length: number } | undefined {
  const m = VIRTUAL.exec(name);
  return m ? { data: m[1]!, offset: Number(m[2]), length: Number(m[3]) } : undefined;
}
