// What every local data source (files, credentials, database rows) offers the sync cycle:
// find what changed since the index last saw it, and write records back.
import type { RecordKind, SyncRecord } from "../../core/record.js";
import type { IndexEntry } from "../state/index-store.js";

/**
 * put: new or changed content (in repo form); delete: the local item is gone;
 * touch: same content as the index knows, only its stat moved (no new version).
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
  meta(key: string): string | undefined;
}


/** What a record became locally once applied, so the next scan sees it as unchanged. */
export interface Applied {
  readonly path: string;
  readonly localHash: string | null;
  readonly stat: string | null;
}

export interface Source {
  /** Category name as used in settings and messages. */
  readonly category: string;
  /** Repo folder(s) this source owns. */
  readonly prefixes: readonly string[];
  owns(path: string): boolean;
  /** The group a record counts in for the mass-delete guard, and a GLOB matching all of that group's paths. */
  groupOf(path: string): { readonly name: string; readonly glob: string };
  scan(ctx: ScanContext): AsyncIterable<LocalChange>;
  /** Writes records (tombstones included) in dependency order; returns what was applied. */
  apply(records: readonly SyncRecord[]): Promise<Applied[]>;
  /** Scan bookkeeping to keep once the scanned changes are committed. */
  checkpoint?(): Record<string, string>;
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceError";
  }
}
