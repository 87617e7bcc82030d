// What every local data source (files, credentials, database rows) offers the sync cycle:
// find what changed since the index last saw it, and write records back.
import type { RecordKind, SyncRecord } from "../../core/record.js";
import type { IndexEntry } from "../state/index-store.js";

/**
 * put: new or changed content (in repo form); delete: the local item is gone;
 * touch: same content as the index knows, only its stat or the form of its local hash moved (no
 * new version).
 */
export type LocalChange =
  | { readonly type: "put"; readonly path: string; readonly kind: RecordKind; readonly content: Uint8Array; readonly localHash: string; readonly stat: string | null }
  | { readonly type: "delete"; readonly path: string; readonly kind: RecordKind }
  | { readonly type: "touch"; readonly path: string; readonly localHash: string; readonly stat: string | null };

export interface ScanContext {
  index(path: string): IndexEntry | undefined;
  livePaths(prefix: string): string[];
  /** The record as this machine last synced it (its branch head), for translating paths back. */
  previous(path: string): Promise<SyncRecord | undefined>;
  countLive(prefix: string): number;
  countLiveGlob(glob: string): number;
  livePathsGlob(glob: string): string[];
  /** index() of every path a GLOB matches, in one go (a scan that visits each of them). */
  entriesGlob(glob: string): Map<string, IndexEntry>;
  meta(key: string): string | undefined;
  /** meta() of every key starting with `prefix`, in one go. */
  metaWithPrefix(prefix: string): Map<string, string>;
}


/** What a record became locally once applied, so the next scan sees it as unchanged. */
export interface Applied {
  readonly path: string;
  readonly localHash: string | null;
  readonly stat: string | null;
}

export interface ApplyResult {
  readonly applied: readonly Applied[];
  /** Records whose parent is not here yet (a session deleted here while another machine added to it); tried again on the next sync. */
  readonly waiting: readonly string[];
  /**
   * Records left alone because the local copy changed since the scan (the user is editing it);
   * tried again on the next sync, which commits the edit so the merge brings both together.
   */
  readonly editedHere: readonly string[];
  /** Index meta to save with the applied records (the scan's marks for what the apply created). */
  readonly checkpoint?: Readonly<Record<string, string>>;
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

/** Index meta key holding a source's waiting record paths (JSON). */
export const waitingKey = (category: string) => `waiting:${category}`;

export interface Source {
  /** Category name as used in settings and messages. */
  readonly category: string;
  /** Repo folder(s) this source owns. */
  readonly prefixes: readonly string[];
  owns(path: string): boolean;
  /** The group a record counts in for the mass-delete guard, and a GLOB matching all of that group's paths. */
  groupOf(path: string): { readonly name: string; readonly glob: string };
  scan(ctx: ScanContext): AsyncIterable<LocalChange>;
  /**
   * Writes records (tombstones included) in dependency order. With `known`, a local item that
   * changed since the scan is left alone (waiting); without it (a restore the user asked for) it is overwritten.
   */
  apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult>;
  /** Scan bookkeeping to keep once the scanned changes are committed. */
  checkpoint?(): Record<string, string>;
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceError";
  }
}

/**
 * Some records could not be written (a full disk, a file in the way); `applied` were. The source's
 * applied mark does not move, so the next sync tries the rest again.
 */
export class ApplyIncomplete extends SourceError {
  constructor(
    readonly failures: readonly string[],
    readonly applied: readonly Applied[],
  ) {
    super(failures.join("; "));
    this.name = "ApplyIncomplete";
  }
}
