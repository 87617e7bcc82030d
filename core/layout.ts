// Where things live in the sync repo. Records sit under a few top folders; everything else
// (.oc-sync/ metadata, .github/ workflow, README) is repo furniture that reconcile leaves alone.
import { makeRecord, type SyncRecord } from "./record.js";
import type { Conflict } from "./conflict.js";

export const FORMAT_PATH = ".oc-sync/format.json";
export const KEY_PATH = ".oc-sync/key.json";
/** 2: sessions new to the repo are written as segments (core/segment.ts); a repo made as 1 stays 1. */
export const FORMAT_VERSION = 2;
/** The format marker's bytes, as this version writes them. */
export const formatMarker = (): Uint8Array => new TextEncoder().encode(JSON.stringify({ format: FORMAT_VERSION }) + "\n");
/**
 * The largest record oc-sync commits by default (40 MiB; the setting `recordLimitMB`, at most
 * RECORD_SIZE_CEILING): GitHub warns from 50 MB and refuses a file over 100 MB, and a blob it
 * refuses would block every later push of this machine.
 */
export const RECORD_SIZE_LIMIT = 40 * 1024 * 1024;
export const RECORD_SIZE_CEILING = 95 * 1024 * 1024;
export const MIB = 1024 * 1024;
/**
 * The most bytes one push carries by default (the setting `pushBudgetMB`): GitHub refuses a push
 * whose pack is over 2 GiB, and a sync larger than this is pushed in steps. Counted as git holds the
 * objects before it compresses them, so a pack is smaller, except for incompressible data (encrypted
 * credentials), where the headers git adds fit in the other half.
 */
export const PUSH_BUDGET = 1024 * MIB;
export const PUSH_BUDGET_CEILING = 2048 * MIB;
/** A server that refuses a push this small for its size refuses more than size: no smaller steps are tried. */
export const PUSH_BUDGET_FLOOR = MIB;

/** Bytes as a user reads them in oc-sync's messages. */
export const megabytes = (n: number): string => `${(n / MIB).toFixed(n < MIB ? 3 : 1)} MB`;

/** Why a record over the limit is not committed. */
export function overRecordLimit(bytes: number, limit: number): string {
  return `${megabytes(bytes)} (${bytes} bytes) is over the ${megabytes(limit)} (${limit} bytes) limit for one record (the setting recordLimitMB; GitHub warns from 50 MB and refuses 100 MB)`;
}
/** GitHub's folder (workflows, the vendored Action): a GITHUB_TOKEN push may not change it. */
export const GITHUB_DIR = ".github/";
export const CONFLICTS_DIR = "conflicts/";
/** The pseudo-machine that writes records produced by a merge (conflict copies). */
export const MERGE_WRITER = "merge";

export const RECORD_ROOTS = ["config/", "state/", "credentials/", "db/", CONFLICTS_DIR];

/**
 * A database row's `time_updated` is bookkeeping, not a choice: where two machines changed a row
 * at once, the later time is the row's, with no conflict to decide (under `ask` each concurrent
 * edit of a session would otherwise ask about a timestamp).
 */
export function isLatestTime(path: string, at: string): boolean {
  return path.startsWith("db/") && at === "/time_updated";
}

export function isRecordPath(path: string): boolean {
  return RECORD_ROOTS.some((root) => path.startsWith(root));
}

export function conflictPath(id: string): string {
  return `${CONFLICTS_DIR}${id}.json`;
}

/**
 * A conflict kept as a record, so a resolution (a tombstone from a machine) syncs like any edit.
 * Everything in it is derived from the conflict, so every reconciler writes the same bytes.
 */
export function conflictRecord(c: Conflict): SyncRecord {
  const content = new TextEncoder().encode(JSON.stringify(c, null, 2) + "\n");
  const updatedAt = Math.max(c.kept.updatedAt, c.lost.updatedAt);
  return makeRecord({ path: conflictPath(c.id), kind: "json", content, vector: { [MERGE_WRITER]: 1 }, updatedAt, writer: MERGE_WRITER });
}
