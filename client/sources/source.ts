// What every local data source (files, credentials, database rows) offers the sync cycle:
// find what changed since the index last saw it, and write records back.
import type { RecordKind, SyncRecord } from "../../core/record.js";
import type { IndexEntry } from "../state/index-store.js";
import type { SyncState } from "../state/sync-state.js";

/**
 * put: new or changed content (in repo form), `editedAt` when the edit's own time is known (a file's
 * mtime, a row's time_updated: "newest" is the edit's time, not the scan's); delete: the local item is gone;
 * touch: same content as the index knows, only its stat or the form of its local hash moved (no
 * new version).
 */
export type LocalChange =
  | { readonly type: "put"; readonly path: string; readonly kind: RecordKind; readonly content: Uint8Array; readonly localHash: string; readonly stat: string | null; readonly editedAt?: number }
  | { readonly type: "delete"; readonly path: string; readonly kind: RecordKind }
  | { readonly type: "touch"; readonly path: string; readonly localHash: string; readonly stat: string | null };

export interface ScanContext {
  index(path: string): IndexEntry | undefined;
  livePaths(prefix: string): string[];
  /** The record as this machine last synced it (its branch head), for translating paths back. */
  previous(path: string): Promise<SyncRecord | undefined>;
  /** The record in the main commit this machine last integrated, when that is not what previous() reads. */
  seen(path: string): Promise<SyncRecord | undefined>;
  /** The record of the very version the index holds, found in main's recent history (none on a first sync, or past the search budget). */
  indexed(path: string): Promise<SyncRecord | undefined>;
  countLive(prefix: string): number;
  countLiveGlob(glob: string): number;
  livePathsGlob(glob: string): string[];
  /** index() of every path a GLOB matches, in one go (a scan that visits each of them). */
  entriesGlob(glob: string): Map<string, IndexEntry>;
  /** The sync's state: scan marks and records waiting to be placed. */
  readonly state: SyncState;
}


/** What a record became locally once applied, so the next scan sees it as unchanged. */
export interface Applied {
  readonly path: string;
  readonly localHash: string | null;
  readonly stat: string | null;
}

export interface ApplyResult {
  readonly applied: readonly Applied[];
  /**
   * Records whose parent is not here yet (a session deleted here while another machine added to it),
   * or credentials none of the user's machines wrote (credentials.ts); tried again on the next sync.
   */
  readonly waiting: readonly string[];
  /**
   * Records left alone because the local copy changed since the scan (the user is editing it);
   * tried again on the next sync, which commits the edit so the merge brings both together.
   */
  readonly editedHere: readonly string[];
  /** Scan marks to save with the applied records, per session (for what the apply created). */
  readonly seen?: Readonly<Record<string, number>>;
}

/** The local state the index last saw for a path (by the scan or an apply); undefined if none. */
export type KnownLocal = (path: string) => { readonly localHash: string | null; readonly deleted: boolean } | undefined;

/** Is `current` (a local hash, null when absent) still what the index last saw? */
export function unchangedSinceScan(known: KnownLocal, path: string, current: string | null): boolean {
  return current === scannedHash(known, path);
}

/** The local hash the last scan saw at `path` (null: nothing there). */
export function scannedHash(known: KnownLocal, path: string): string | null {
  const k = known(path);
  return k && !k.deleted ? k.localHash : null;
}

export interface RecordGroup {
  readonly name: string;
  readonly glob: string;
  readonly coveredBy?: string;
  readonly whole?: boolean;
}

export interface Source {
  /** Category name as used in settings and messages. */
  readonly category: string;
  /** Repo folder(s) this source owns. */
  readonly prefixes: readonly string[];
  owns(path: string): boolean;
  /**
   * The group a record counts in for the mass-delete guard, a GLOB matching all of that group's paths,
   * and the record whose deletion takes this one with it (a message's session): then it does not count.
   * `whole`: a whole file a user rarely means to delete everywhere (the main config, a credentials file):
   * its deletion alone is asked about.
   */
  groupOf(path: string): RecordGroup;
  scan(ctx: ScanContext): AsyncIterable<LocalChange>;
  /**
   * Writes records (tombstones included) in dependency order. With `known`, a local item that
   * changed since the scan is left alone (waiting); without it (a restore the user asked for) it is overwritten.
   */
  apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult>;
  /** Scan marks per session, to keep once the scanned changes are committed. */
  scanMarks?(): Readonly<Record<string, number>>;
  /** Whether the local file holds what `record` holds, where its bytes may differ (decrypted credentials); else its hash is the record's. */
  holdsHere?(record: SyncRecord): Promise<boolean>;
}

export class SourceError extends Error {
  constructor(
    message: string,
    /** Only the user can fix it (a newer database schema, a credential that fails authentication): worth a toast, not just a log line. */
    readonly needsUser = false,
  ) {
    super(message);
    this.name = "SourceError";
  }
}

/**
 * Some records could not be written (a full disk, a file in the way, a poison record); `done` says
 * what happened to the others, edits found here among them (the sync must know of those, or its
 * next commit would lay them over main's version unmerged). The source's applied mark does not
 * move, so the next sync tries the rest again.
 */
export class ApplyIncomplete extends SourceError {
  constructor(
    readonly failures: readonly string[],
    readonly done: ApplyResult,
    needsUser = false,
  ) {
    super(failures.join("; "), needsUser);
    this.name = "ApplyIncomplete";
  }
}
