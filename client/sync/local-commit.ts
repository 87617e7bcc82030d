// scan → records → commit: turns what changed locally into new record versions (the machine's
// counter incremented) and one commit on top of the given parent, streamed into fast-import.
import { encodeRecord, makeRecord, type SyncRecord } from "../../core/record.js";
import { incrementVector } from "../../core/vector.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import { SourceError, type LocalChange, type ScanContext, type Source } from "../sources/source.js";
import { entryFor, type IndexEntry, type IndexStore } from "../state/index-store.js";
import type { StatePatch } from "../state/sync-state.js";

export class MassDeleteError extends Error {
  constructor(readonly category: string, readonly deletes: number, readonly live: number) {
    super(`refusing to sync: ${deletes} of ${live} ${category} records would be deleted (a wiped or replaced database or folder?). Nothing was changed. If the deletions are intended, run 'oc-sync sync --allow-mass-delete'`);
    this.name = "MassDeleteError";
  }
}

export interface LocalCommitOptions {
  readonly machine: string;
  readonly parent: string | null;
  readonly message: string;
  readonly massDeleteShare: number;
  readonly allowMassDelete: boolean;
  readonly now: () => number;
  readonly progress?: (records: number) => void;
  /** A source that cannot be read (a broken auth.json, an unreadable database) is reported here and skipped. */
  readonly warn: (message: string) => void;
}

export interface LocalCommit {
  /** The new commit, or null when nothing changed. */
  readonly commit: string | null;
  readonly changed: number;
  /** Index updates to save together with the new head, in one transaction. */
  readonly entries: readonly IndexEntry[];
  /** The scan's marks, to save with them. */
  readonly state: StatePatch;
}

/** Deletes below this many are never treated as a mass delete. */
const MASS_DELETE_FLOOR = 10;

export async function commitLocalChanges(repo: GitRepo, index: IndexStore, sources: readonly Source[], o: LocalCommitOptions): Promise<LocalCommit> {
  const entries: IndexEntry[] = [];
  const touched: IndexEntry[] = [];
  let changed = 0;
  const ctx: ScanContext = {
    index: (p) => index.get(p),
    livePaths: (p) => index.livePaths(p),
    countLive: (p) => index.countLive(p),
    countLiveGlob: (g) => index.countLiveGlob(g),
    livePathsGlob: (g) => index.livePathsGlob(g),
    entriesGlob: (g) => index.entriesGlob(g),
    state: index.state,
    previous: async (p) => (o.parent ? (await readRecords(repo, o.parent, [p])).get(p) : undefined),
  };

  async function* records(): AsyncGenerator<readonly [string, Uint8Array | null]> {
    for (const source of sources) {
      const deletes: SyncRecord[] = [];
      for await (const change of scanOrWarn(source, ctx, o.warn)) {
        const record = toRecord(change, index.get(change.path), o);
        if (record === "touch") {
          const known = index.get(change.path)!;
          if (change.type === "touch" || change.type === "put") touched.push({ ...known, localHash: change.localHash, stat: change.stat });
          continue;
        }
        if (record.deleted) {
          deletes.push(record);
          continue;
        }
        entries.push(entryFor(record, change.type === "put" ? change.localHash : null, change.type === "put" ? change.stat : null));
        changed++;
        if (changed % 5000 === 0) o.progress?.(changed);
        yield [record.path, encodeRecord(record)];
      }
      guardMassDelete(source, deletes, index, o);
      for (const record of deletes) {
        entries.push(entryFor(record, null, null));
        changed++;
        yield [record.path, encodeRecord(record)];
      }
    }
  }

  const probe = records();
  const first = await probe.next();
  if (first.done) return { commit: null, changed: 0, entries: touched, state: scanMarks(sources) };
  const commit = await repo.commit({ parents: o.parent ? [o.parent] : [], message: o.message, changes: prepend(first.value, probe) });
  return { commit, changed, entries: [...touched, ...entries], state: scanMarks(sources) };
}

function toRecord(change: LocalChange, known: IndexEntry | undefined, o: LocalCommitOptions): SyncRecord | "touch" {
  if (change.type === "touch") return "touch";
  if (change.type === "delete") {
    if (!known || known.deleted) return "touch";
    return makeRecord({ path: change.path, kind: known.kind, content: null, vector: incrementVector(known.vector, o.machine), updatedAt: o.now(), writer: o.machine });
  }
  const vector = incrementVector(known?.vector ?? {}, o.machine);
  const record = makeRecord({ path: change.path, kind: change.kind, content: change.content, vector, updatedAt: o.now(), writer: o.machine });
  // Same repo content as the version already known (e.g. only a translated path moved): no new version.
  if (known && !known.deleted && known.hash === record.hash) return "touch";
  return record;
}

function guardMassDelete(source: Source, deletes: readonly SyncRecord[], index: IndexStore, o: LocalCommitOptions): void {
  if (o.allowMassDelete) return;
  const groups = new Map<string, { glob: string; count: number }>();
  for (const r of deletes) {
    const g = source.groupOf(r.path);
    const entry = groups.get(g.name) ?? { glob: g.glob, count: 0 };
    entry.count++;
    groups.set(g.name, entry);
  }
  for (const [name, g] of groups) {
    if (g.count < MASS_DELETE_FLOOR) continue;
    const live = index.countLiveGlob(g.glob);
    if (g.count > live * o.massDeleteShare) throw new MassDeleteError(name, g.count, live);
  }
}

function scanMarks(sources: readonly Source[]): StatePatch {
  return { seen: Object.assign({}, ...sources.map((s) => s.scanMarks?.() ?? {})) as Record<string, number> };
}

/** A source's changes; one that fails to read is reported and contributes nothing more (no deletions either). */
async function* scanOrWarn(source: Source, ctx: ScanContext, warn: (m: string) => void): AsyncIterable<LocalChange> {
  try {
    yield* source.scan(ctx);
  } catch (e) {
    if (!(e instanceof SourceError)) throw e;
    warn(e.message);
  }
}

async function* prepend<T>(first: T, rest: AsyncIterator<T>): AsyncIterable<T> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}
