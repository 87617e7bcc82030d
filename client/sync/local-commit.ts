// scan → records → commit: turns what changed locally into new record versions (the machine's
// counter incremented) and one commit on top of the given parent, streamed into fast-import.
import { RECORD_SIZE_LIMIT } from "../../core/layout.js";
import { encodeRecord, makeRecord, type SyncRecord } from "../../core/record.js";
import { incrementVector } from "../../core/vector.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import { SourceError, type LocalChange, type ScanContext, type Source } from "../sources/source.js";
import { AttentionError } from "./attention.js";
import { entryFor, type IndexEntry, type IndexStore } from "../state/index-store.js";
import type { StatePatch } from "../state/sync-state.js";

export class MassDeleteError extends AttentionError {
  constructor(readonly category: string, readonly deletes: number, readonly live: number) {
    super(`refusing to sync: ${deletes} of ${live} ${category} would be deleted on every machine (a wiped or replaced database or folder?). Nothing was changed. If OpenCode was reinstalled or its data lost, bring them back from the sync repo: 'oc-sync sync --restore-missing'. Only if you deleted them on purpose: 'oc-sync sync --allow-mass-delete'`);
  }
}

export interface LocalCommitOptions {
  readonly machine: string;
  readonly parent: string | null;
  readonly message: string;
  readonly massDeleteShare: number;
  readonly allowMassDelete: boolean;
  readonly now: () => number;
  /** Offer every version this machine has, not only changes (a new remote, a rewritten main). */
  readonly rejoin?: boolean;
  /** What is missing here was lost, not deleted (OpenCode reinstalled): no tombstones; the apply puts it back. */
  readonly restoreMissing?: boolean;
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

/** Deletions (sessions, files; a session's messages count with it) below this many are never a mass delete. */
const MASS_DELETE_FLOOR = 5;

export async function commitLocalChanges(repo: GitRepo, index: IndexStore, sources: readonly Source[], o: LocalCommitOptions): Promise<LocalCommit> {
  const run: CommitRun = { index, o, entries: [], touched: [], waiting: {}, changed: 0, ctx: scanContext(repo, index, o) };
  const probe = records(run, sources);
  const first = await probe.next();
  if (first.done) return { commit: null, changed: 0, entries: run.touched, state: { ...scanMarks(sources), waiting: run.waiting } };
  const commit = await repo.commit({ parents: o.parent ? [o.parent] : [], message: o.message, changes: prepend(first.value, probe) });
  return { commit, changed: run.changed, entries: [...run.touched, ...run.entries], state: { ...scanMarks(sources), waiting: run.waiting } };
}

interface CommitRun {
  readonly index: IndexStore;
  readonly o: LocalCommitOptions;
  readonly ctx: ScanContext;
  readonly entries: IndexEntry[];
  readonly touched: IndexEntry[];
  /** Per source: paths the apply must (re)place from main. */
  readonly waiting: Record<string, readonly string[]>;
  changed: number;
}

/**
 * What the sources see of the index. On a rejoin nothing counts as already synced (no local hash,
 * no stat), so every source reads and offers everything it has.
 */
function scanContext(repo: GitRepo, index: IndexStore, o: LocalCommitOptions): ScanContext {
  const view = (e: IndexEntry | undefined) => (e && o.rejoin ? { ...e, localHash: null, stat: null } : e);
  return {
    index: (p) => view(index.get(p)),
    livePaths: (p) => index.livePaths(p),
    countLive: (p) => index.countLive(p),
    countLiveGlob: (g) => index.countLiveGlob(g),
    livePathsGlob: (g) => index.livePathsGlob(g),
    entriesGlob: (g) => (o.rejoin ? new Map([...index.entriesGlob(g)].map(([p, e]) => [p, view(e)!])) : index.entriesGlob(g)),
    state: index.state,
    previous: async (p) => (o.parent ? (await readRecords(repo, o.parent, [p])).get(p) : undefined),
  };
}

async function* records(run: CommitRun, sources: readonly Source[]): AsyncGenerator<readonly [string, Uint8Array | null]> {
  const { index, o } = run;
  const emit = (record: SyncRecord, localHash: string | null, stat: string | null): readonly [string, Uint8Array] => {
    run.entries.push(entryFor(record, localHash, stat));
    if (++run.changed % 5000 === 0) o.progress?.(run.changed);
    return [record.path, encodeRecord(record)];
  };
  for (const source of sources) {
    const deletes: SyncRecord[] = [];
    const offered = new Set<string>();
    for await (const change of scanOrWarn(source, run.ctx, o.warn)) {
      offered.add(change.path);
      const record = toRecord(change, index.get(change.path), o);
      if (record === "touch") {
        if (change.type !== "delete") run.touched.push({ ...index.get(change.path)!, localHash: change.localHash, stat: change.stat });
      } else if (record.deleted) deletes.push(record);
      else if (change.type === "put" && change.content.length > RECORD_SIZE_LIMIT) o.warn(tooLarge(record.path, change.content.length));
      else yield emit(record, change.type === "put" ? change.localHash : null, change.type === "put" ? change.stat : null);
    }
    guardMassDelete(source, deletes, index, o);
    if (o.restoreMissing) markMissing(run, source, deletes);
    else for (const record of deletes) yield emit(record, null, null);
    // A rejoin also hands the new remote the deletions this machine knows, as the versions they are.
    if (o.rejoin) for (const tomb of source.prefixes.flatMap((p) => index.deletedEntries(p))) if (!offered.has(tomb.path)) yield emit(makeRecord({ ...tomb, content: null }), null, null);
  }
}

/** Missing here, kept everywhere: known as never written here, and waiting, so the apply writes it back from main. */
function markMissing(run: CommitRun, source: Source, deletes: readonly SyncRecord[]): void {
  for (const r of deletes) run.touched.push({ ...run.index.get(r.path)!, localHash: null, stat: null });
  run.waiting[source.category] = [...run.index.state.waiting(source.category), ...deletes.map((r) => r.path)];
}

function tooLarge(path: string, bytes: number): string {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${path} is ${mb(bytes)}, over the ${mb(RECORD_SIZE_LIMIT)} limit for one record (GitHub warns from 50 MB and refuses 100 MB): it is not uploaded and stays as it is on this machine; the rest syncs`;
}

function toRecord(change: LocalChange, known: IndexEntry | undefined, o: LocalCommitOptions): SyncRecord | "touch" {
  if (change.type === "touch") return "touch";
  if (change.type === "delete") {
    if (!known || known.deleted) return "touch";
    return makeRecord({ path: change.path, kind: known.kind, content: null, vector: incrementVector(known.vector, o.machine, o.now()), updatedAt: o.now(), writer: o.machine });
  }
  const vector = incrementVector(known?.vector ?? {}, o.machine, o.now());
  const record = makeRecord({ path: change.path, kind: change.kind, content: change.content, vector, updatedAt: change.editedAt ?? o.now(), writer: o.machine });
  // Same repo content as the version already known (e.g. only a translated path moved): no new version.
  // On a rejoin that version is offered as it is: the new remote may not have it.
  if (known && !known.deleted && known.hash === record.hash) return o.rejoin ? makeRecord({ ...known, content: change.content }) : "touch";
  return record;
}

function guardMassDelete(source: Source, deletes: readonly SyncRecord[], index: IndexStore, o: LocalCommitOptions): void {
  if (o.allowMassDelete || o.restoreMissing) return;
  const deleted = new Set(deletes.map((r) => r.path));
  const groups = new Map<string, { glob: string; count: number }>();
  for (const r of deletes) {
    const g = source.groupOf(r.path);
    if (g.coveredBy && deleted.has(g.coveredBy)) continue;
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
