// scan → records → commit: turns what changed locally into new record versions (the machine's
// counter incremented) and one commit on top of the given parent, streamed into fast-import.
import { isMassDelete } from "../../core/deletion-guard.js";
import { parseRecordPath, sessionFolder, sessionOf, sessionRows } from "../../core/db-paths.js";
import { conflictRecord, overRecordLimit, RECORD_ROOTS } from "../../core/layout.js";
import { reconcileRecord } from "../../core/reconcile.js";
import { sessionOfMessage } from "../../core/session-deletes.js";
import type { Strategy } from "../../core/strategy.js";
import { contentHash, encodeRecord, makeRecord, type SyncRecord } from "../../core/record.js";
import { incrementVector } from "../../core/vector.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import { segmentNewSessions } from "../../git/segment-writer.js";
import { SourceError, type LocalChange, type ScanContext, type Source } from "../sources/source.js";
import { AttentionError } from "./attention.js";
import { entryFor, isVersionOf, type IndexEntry, type IndexStore } from "../state/index-store.js";
import type { Distrusted, StatePatch } from "../state/sync-state.js";
import { honestVersion } from "./shared-id.js";

export class MassDeleteError extends AttentionError {
  /** `what`: "6 of 8 sessions", whole files' record paths, or several of those. */
  constructor(readonly what: string) {
    super(`refusing to sync: ${what} would be deleted on every machine (a wiped or replaced database or folder?). Nothing was changed. If OpenCode was reinstalled or its data lost, bring them back from the sync repo: 'oc-sync sync --restore-missing'. Only if you deleted them on purpose: 'oc-sync sync --allow-mass-delete'`);
  }
}

export interface LocalCommitOptions {
  readonly machine: string;
  readonly parent: string | null;
  /** The main commit this machine last integrated (its base), when known. */
  readonly seen?: string | null;
  /** Main as fetched (see mainVersionIn). */
  readonly main: string | null;
  readonly message: string;
  readonly massDeleteShare: number;
  /** The largest record committed, in bytes. */
  readonly recordLimit: number;
  readonly allowMassDelete: boolean;
  readonly now: () => number;
  /** Offer every version this machine has, not only changes (a new remote, a rewritten main). */
  readonly rejoin?: boolean;
  /** What is missing here was lost, not deleted (OpenCode reinstalled): no tombstones; the apply puts it back. */
  readonly restoreMissing?: boolean;
  readonly progress?: (records: number) => void;
  /** A source that cannot be read (a broken auth.json, an unreadable database) is reported here and skipped. */
  readonly warn: (message: string) => void;
  /**
   * Categories not applied up to what this machine last integrated (skipped without a key, an apply
   * left incomplete): the index may not know the parent's version of their records, and a version
   * built on an older one would replace it unmerged (see mergedWithParent).
   */
  readonly lagging?: ReadonlySet<string>;
  /** How mergedWithParent decides an overlap. */
  readonly strategy: Strategy;
  /** The id this machine synced under before it took a new one, found shared (see shared-id.ts). */
  readonly distrusted?: Distrusted | null;
  /** Signs a new version (see signing.ts commitSigning); none without a key. */
  readonly sign?: (record: SyncRecord) => SyncRecord;
  /**
   * Signs a version merged here with the parent's (mergedWithParent) when the parent's is trusted.
   * Its base needs no check: it is the version the index says this machine held, its own or applied through the gates.
   */
  readonly signMerged?: (merged: SyncRecord, there: SyncRecord) => Promise<SyncRecord>;
  /** Versions to commit again as they are, signed (see signing.ts countersigned); given the paths the commit has new versions of, and its parent. */
  readonly countersign?: (offered: ReadonlySet<string>, parent: string | null) => AsyncIterable<SyncRecord>;
  /** Whether sessions new to the repo are written as segments (see cycle.ts segmentsAllowed); asked once one is. */
  readonly segments?: () => Promise<boolean>;
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


export async function commitLocalChanges(repo: GitRepo, index: IndexStore, sources: readonly Source[], o: LocalCommitOptions): Promise<LocalCommit> {
  const histories = { left: HISTORY_SEARCHES };
  const run: CommitRun = { repo, index, o, entries: [], touched: [], waiting: {}, rereadSessions: new Set(), changed: 0, ctx: scanContext(repo, index, o, histories), mainVersion: mainVersionIn(repo, o.main, histories), histories };
  const probe = records(run, sources);
  const first = await probe.next();
  if (first.done) return { commit: null, changed: 0, entries: run.touched, state: stateAfter(run, sources) };
  const changes = prepend(first.value, probe);
  const parent = o.parent;
  const allowed = o.segments;
  const isNew = async (session: string) => (!parent || !(await repo.has(parent, sessionFolder(session).slice(0, -1)))) && (await allowed!());
  const commit = await repo.commit({ parents: parent ? [parent] : [], message: o.message, changes: allowed ? segmentNewSessions(changes, isNew) : changes });
  return { commit, changed: run.changed, entries: [...run.touched, ...run.entries], state: stateAfter(run, sources) };
}

interface CommitRun {
  readonly repo: GitRepo;
  readonly index: IndexStore;
  readonly o: LocalCommitOptions;
  readonly ctx: ScanContext;
  readonly entries: IndexEntry[];
  readonly touched: IndexEntry[];
  /** Per source: paths the apply must (re)place from main. */
  readonly waiting: Record<string, readonly string[]>;
  /** Sessions the next scan reads whole (one of their rows was too large to commit). */
  readonly rereadSessions: Set<string>;
  /** See mainVersionIn. */
  readonly mainVersion: (change: LocalChange & { type: "put" }) => Promise<IndexEntry | undefined>;
  /** See versionInHistory. */
  readonly histories: HistoryBudget;
  changed: number;
}

/** How many more paths' histories this commit may search (each search is a git log that may walk all of main). */
interface HistoryBudget {
  left: number;
}

const LOOKUPS_BEFORE_LISTING = 500;
/** How far back a path's history is searched for a version this machine had. */
const HISTORY_LOOKUPS = 20;
/** How many paths' histories one commit searches at most: past that (oc-sync's state lost on a machine long away), a version not found is taken as new, and merges as concurrent. */
const HISTORY_SEARCHES = 200;

/**
 * For a record this machine's state does not know (oc-sync's state lost, a new machine with old
 * data): the version of main the local copy is, so it is no new version. Main's own when the copy is
 * what main holds: offered as new, it would be concurrent with a delete another machine makes before
 * seeing it, and the session would come back. If main deleted or changed it since, a version main had
 * before: the deletion or change, newer, then applies here, instead of the copy coming back as an edit
 * (as a new version with no past it is concurrent with main's, and an older value kept in the copy
 * could win a key of the config another machine changed since: history seed 2604).
 */
function mainVersionIn(repo: GitRepo, main: string | null, histories: HistoryBudget): CommitRun["mainVersion"] {
  let inMain: Promise<Set<string>> | undefined;
  let asked = 0;
  return async (change) => {
    if (!main) return undefined;
    // The rows of an ordinary sync are looked up one by one (listing main cost every incremental
    // sync time in proportion to the repo); past a few hundred (oc-sync's state lost), main is listed once.
    if (++asked > LOOKUPS_BEFORE_LISTING) {
      inMain ??= repo.listTree(main, RECORD_ROOTS).then((t) => new Set(t.map((e) => e.path)));
      if (!(await inMain).has(change.path)) return undefined;
    }
    const now = (await readRecords(repo, main, [change.path])).get(change.path);
    const hash = contentHash(change.content);
    if (!now) return undefined;
    if (!now.deleted && now.hash === hash) return entryFor(now, null, null);
    const old = await versionInHistory(repo, histories, main, change.path, (r) => !r.deleted && r.hash === hash);
    return old && entryFor(old, null, null);
  };
}

/**
 * What the sources see of the index. On a rejoin nothing counts as already synced (no local hash,
 * no stat), so every source reads and offers everything it has.
 */
function scanContext(repo: GitRepo, index: IndexStore, o: LocalCommitOptions, histories: HistoryBudget): ScanContext {
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
    seen: async (p) => (o.seen && o.seen !== o.parent ? (await readRecords(repo, o.seen, [p])).get(p) : undefined),
    indexed: async (p) => {
      const e = index.get(p);
      return e && o.main ? versionInHistory(repo, histories, o.main, p, (r) => isVersionOf(e, r)) : undefined;
    },
  };
}

async function* records(run: CommitRun, sources: readonly Source[]): AsyncGenerator<readonly [string, Uint8Array | null]> {
  const { index, o } = run;
  const emit = (record: SyncRecord, localHash: string | null, stat: string | null): readonly [string, Uint8Array] => {
    run.entries.push(entryFor(record, localHash, stat));
    if (++run.changed % 5000 === 0) o.progress?.(run.changed);
    return [record.path, encodeRecord(o.sign ? o.sign(record) : record)];
  };
  // Every deletion the guard asks about, from every source, in one question.
  const refused: string[] = [];
  const offeredAll = new Set<string>();
  for (const source of sources) {
    const deletes: SyncRecord[] = [];
    const offered = new Set<string>();
    // Every deletion of the user's here, those a merge with the parent decided too: the guard counts them all.
    const deletedHere: SyncRecord[] = [];
    for await (const change of scanOrWarn(source, run.ctx, o.warn)) {
      offered.add(change.path);
      offeredAll.add(change.path);
      const indexed = index.get(change.path);
      // Only this machine's own versions can claim more of a shared id than it saw; main's it had.
      const { known, restamped } = indexed ? await honest(run, indexed) : { known: change.type === "put" ? await run.mainVersion(change) : undefined, restamped: false };
      const record = toRecord(change, known, o, restamped);
      if (record !== "touch" && record.deleted) deletedHere.push(record);
      const caught = record !== "touch" && change.type !== "touch" && o.lagging?.has(source.category) ? await mergedWithParent(run, source, record, known, change) : undefined;
      if (caught) {
        run.entries.push(caught.entry);
        run.changed++;
        for (const r of caught.records) yield [r.path, encodeRecord(r)];
      } else if (record === "touch") {
        if (change.type !== "delete") run.touched.push({ ...known!, localHash: change.localHash, stat: change.stat });
      } else if (record.deleted) deletes.push(record);
      else if (change.type === "put" && change.content.length > o.recordLimit) tooLarge(run, record.path, change.content.length);
      else yield emit(record, change.type === "put" ? change.localHash : null, change.type === "put" ? change.stat : null);
    }
    const asked = massDeletes(source, deletedHere, index, o);
    refused.push(...asked);
    if (asked.length) continue;
    if (o.restoreMissing) markMissing(run, source, deletes);
    else for (const record of deletes) yield emit(record, null, null);
    // A rejoin also hands the new remote the deletions this machine knows, as the versions they are.
    if (o.rejoin) for (const tomb of source.prefixes.flatMap((p) => index.deletedEntries(p))) if (!offered.has(tomb.path)) yield emit(await offeredTombstone(run, tomb), null, null);
  }
  if (refused.length) throw new MassDeleteError(refused.join(", "));
  if (o.countersign && !o.rejoin) for await (const r of o.countersign(offeredAll, o.parent)) {
    run.changed++;
    yield [r.path, encodeRecord(r)];
  }
}

/** Named on every sync until it is small enough: its session is read whole again next time, so the scan meets it again. */
function tooLarge(run: CommitRun, path: string, bytes: number): void {
  run.o.warn(`${path}: ${overRecordLimit(bytes, run.o.recordLimit)}: it is not uploaded and stays as it is on this machine; the rest syncs`);
  const session = sessionOf(path);
  if (session !== undefined) run.rereadSessions.add(session);
}

/**
 * A lagging source's new version where the parent holds a version the index does not know: merged
 * with it (three-way from the version last applied here, when that is the one known; else two-way,
 * which keeps both sides), so the commit replaces nothing unseen. The index takes the parent's
 * version for the local copy, so the apply then writes the merge here.
 */
async function mergedWithParent(run: CommitRun, source: Source, record: SyncRecord, known: IndexEntry | undefined, change: LocalChange): Promise<{ records: SyncRecord[]; entry: IndexEntry } | undefined> {
  const { repo, o } = run;
  const there = o.parent ? (await readRecords(repo, o.parent, [record.path])).get(record.path) : undefined;
  if (!there || (there.deleted && (!known || known.deleted))) return undefined;
  if (isVersionOf(known, there)) return undefined;
  const base = await knownVersion(run, source, known);
  const merged = reconcileRecord(base, there, record, o.strategy, await sessionsWithUnseenMessages(run, record.path));
  // Not concurrent (the index knew a version newer than the parent's: an apply got ahead of the base): nothing to merge.
  if (merged.action !== "merged") return undefined;
  const result = o.signMerged ? await o.signMerged(merged.record, there) : merged.record;
  return { records: [result, ...merged.conflicts.map(conflictRecord)], entry: entryFor(there, change.type === "put" ? change.localHash : null, change.type === "put" ? change.stat : null) };
}

/**
 * The version the index knows, as a record to merge from: the one last applied here, else the one of
 * the parent's history with its content (an apply killed or left incomplete after it wrote rows
 * the mark does not cover: without it, a delete here could not beat a change of times alone there).
 */
async function knownVersion({ repo, index, o, histories }: CommitRun, source: Source, known: IndexEntry | undefined): Promise<SyncRecord | undefined> {
  if (!known || known.deleted) return undefined;
  const mark = index.state.applied(source.category);
  const before = mark ? (await readRecords(repo, mark, [known.path])).get(known.path) : undefined;
  if (before?.hash === known.hash) return before;
  // This machine's own commits too: after main was rewritten, the version it made may be in no history of the parent (seed 5547).
  const tips = [o.parent, o.seen, index.state.head].filter((c): c is string => typeof c === "string");
  return tips.length ? versionInHistory(repo, histories, [...new Set(tips)], known.path, (r) => isVersionOf(known, r)) : undefined;
}

/** The newest version of `path` in the recent history of `tips` that `matches`. */
async function versionInHistory(repo: GitRepo, histories: HistoryBudget, tips: string | readonly string[], path: string, matches: (r: SyncRecord) => boolean): Promise<SyncRecord | undefined> {
  if (histories.left <= 0) return undefined;
  histories.left--;
  for (const commit of await repo.pathHistory(typeof tips === "string" ? [tips] : tips, path, HISTORY_LOOKUPS)) {
    const old = (await readRecords(repo, commit, [path])).get(path);
    if (old && matches(old)) return old;
  }
  return undefined;
}

/**
 * A session row merged alone is decided as a merge of whole commits decides it (core/session-deletes.ts):
 * its session comes back over a delete made here only for a message of it this machine never had;
 * a change of the row's times alone does not bring it back (history seed 2382). Undefined: not a session row.
 */
async function sessionsWithUnseenMessages({ repo, index, o }: CommitRun, path: string): Promise<Set<string> | undefined> {
  const a = parseRecordPath(path);
  if (a?.table !== "session" || !o.parent) return undefined;
  const unseen = (await repo.listTree(o.parent, [sessionRows(a.id, "message")])).map((m) => m.path).filter((p) => index.get(p) === undefined);
  const records = unseen.length ? await readRecords(repo, o.parent, unseen, () => {}) : new Map<string, SyncRecord>();
  return new Set([...records.values()].map(sessionOfMessage).filter((s) => s !== undefined));
}

/** Missing here, kept everywhere: known as never written here, and waiting, so the apply writes it back from main. */
function markMissing(run: CommitRun, source: Source, deletes: readonly SyncRecord[]): void {
  for (const r of deletes) run.touched.push({ ...run.index.get(r.path)!, localHash: null, stat: null });
  run.waiting[source.category] = [...run.index.state.waiting(source.category), ...deletes.map((r) => r.path)];
}


async function honest(run: CommitRun, known: IndexEntry): Promise<{ known: IndexEntry; restamped: boolean }> {
  return run.o.distrusted ? honestVersion(run.repo, run.o.distrusted, known) : { known, restamped: false };
}

async function offeredTombstone(run: CommitRun, tomb: IndexEntry): Promise<SyncRecord> {
  const { known, restamped } = await honest(run, tomb);
  return makeRecord({ ...known, content: null, ...(restamped ? { vector: incrementVector(known.vector, run.o.machine, run.o.now()), updatedAt: run.o.now(), writer: run.o.machine } : {}) });
}

/** The record a change makes; `restamped`: known's version is offered again as a new one (see shared-id.ts). */
function toRecord(change: LocalChange, known: IndexEntry | undefined, o: LocalCommitOptions, restamped = false): SyncRecord | "touch" {
  if (change.type === "touch") return "touch";
  if (change.type === "delete") {
    // Never written here (missing after a wiped database, not placed yet): its absence is no delete of the user's.
    if (!known || known.deleted || known.localHash === null) return "touch";
    return makeRecord({ path: change.path, kind: known.kind, content: null, vector: incrementVector(known.vector, o.machine, o.now()), updatedAt: o.now(), writer: o.machine });
  }
  const vector = incrementVector(known?.vector ?? {}, o.machine, o.now());
  const record = makeRecord({ path: change.path, kind: change.kind, content: change.content, vector, updatedAt: change.editedAt ?? o.now(), writer: o.machine });
  // Same repo content as the version already known (e.g. only a translated path moved): no new version.
  // On a rejoin that version is offered as it is: the new remote may not have it.
  if (known && !known.deleted && known.hash === record.hash && !restamped) return o.rejoin ? makeRecord({ ...known, content: change.content }) : "touch";
  return record;
}

/**
 * What of a source's deletions the guard asks about first: whole files, and groups mostly deleted.
 * `deletes`: every deletion of the user's here, also those a merge with the parent decided (a
 * session row's children are still covered by it).
 */
function massDeletes(source: Source, deletes: readonly SyncRecord[], index: IndexStore, o: LocalCommitOptions): string[] {
  if (o.allowMassDelete || o.restoreMissing) return [];
  const asked: string[] = [];
  const deleted = new Set(deletes.map((r) => r.path));
  const groups = new Map<string, { glob: string; count: number }>();
  for (const r of deletes) {
    const g = source.groupOf(r.path);
    if (g.whole) {
      asked.push(r.path);
      continue;
    }
    if (g.coveredBy && deleted.has(g.coveredBy)) continue;
    const entry = groups.get(g.name) ?? { glob: g.glob, count: 0 };
    entry.count++;
    groups.set(g.name, entry);
  }
  for (const [name, g] of groups) {
    const live = index.countLiveGlob(g.glob);
    if (isMassDelete(g.count, live, o.massDeleteShare)) asked.push(`${g.count} of ${live} ${name}`);
  }
  return asked;
}

/** The scan marks the sources reached, but none for a session to read whole next time; and what waits to be placed. */
function stateAfter(run: CommitRun, sources: readonly Source[]): StatePatch {
  const seen: Record<string, number | null> = Object.assign({}, ...sources.map((s) => s.scanMarks?.() ?? {}));
  for (const session of run.rereadSessions) seen[session] = null;
  return { seen, waiting: run.waiting };
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
