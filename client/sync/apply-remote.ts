// fetch → reconcile → apply: writes the records of a main commit into OpenCode's data, source by
// source. A record whose local version is ahead of or concurrent with it is left alone (it is
// pending a push or a merge). Each source remembers the commit it last applied, so one that could
// not write (no database yet, a newer schema, a busy database) catches up on a later run.
import { CONFIRMED_DELETIONS, isMassDelete } from "../../core/deletion-guard.js";
import type { SyncRecord } from "../../core/record.js";
import { sessionFolderOf } from "../../core/segment.js";
import { compareVectors } from "../../core/vector.js";
import { readRecordObjects } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import { ApplyIncomplete, SourceError, type Applied, type ApplyResult, type KnownLocal, type Source } from "../sources/source.js";
import { crashPoint } from "./crash-points.js";
import { entryFor, type IndexEntry, type IndexStore } from "../state/index-store.js";

export interface ApplyReport {
  readonly applied: number;
  /** Records applied per source category (e.g. config: changes that need an OpenCode restart). */
  readonly bySource: Readonly<Record<string, number>>;
  readonly skippedPending: number;
  /** Records a source could not place yet (see ApplyResult.waiting); tried again on the next sync. */
  readonly waiting: number;
  /** Records left alone because they were edited here during the sync (see ApplyResult.editedHere). */
  readonly editedHere: number;
  readonly problems: readonly string[];
  /** Of those, the ones only the user can fix (SourceError.needsUser). */
  readonly needsUser: readonly string[];
  /** Deletions from other machines held back for the user's yes (see heldDeletions). */
  readonly held: number;
}

/** The mass-delete guard's settings for deletions arriving from the remote. */
export interface DeletionGuard {
  readonly share: number;
  /** The user said yes (`sync --allow-mass-delete`). */
  readonly allow: boolean;
}

/** Records read and applied at a time: memory grows with it, and each read costs a git process. */
const BATCH = 5000;
/** The first batch is smaller: the apply starts sooner, while git reads the next one. */
const FIRST_BATCH = 1000;

export async function applyCommit(repo: GitRepo, index: IndexStore, sources: readonly Source[], to: string, guard: DeletionGuard, progress?: (message: string) => void): Promise<ApplyReport> {
  let applied = 0;
  let held = 0;
  let skippedPending = 0;
  let waitingTotal = 0;
  let editedTotal = 0;
  const bySource: Record<string, number> = {};
  const problems: string[] = [];
  const needsUser: string[] = [];
  const report = (e: SourceError) => {
    // One line each: several failed writes are several things to fix.
    const messages = e instanceof ApplyIncomplete ? e.failures : [e.message];
    problems.push(...messages);
    if (e.needsUser) needsUser.push(...messages);
  };
  for (const source of sources) {
    const from = index.state.applied(source.category);
    const waitedOn = index.state.waiting(source.category);
    if (from === to && !waitedOn.length) continue;
    // Paths with the blob ids the diff gave: reading by id spares git a tree walk per record.
    const oids = new Map<string, string>();
    if (from !== to) for (const c of await repo.diff(from, to, source.prefixes)) if (c.oid !== null) oids.set(c.path, c.oid);
    // Parents first: a record's parent lives on a shorter path (a project before its sessions, a
    // session before its messages, a message before its parts), so a batch rarely holds a child
    // whose parent is still to come.
    const changed = parentsFirst(new Set([...oids.keys(), ...waitedOn]));
    const holding = from === null || guard.allow ? new Set<string>() : await heldDeletions(repo, index, source, changed, from, to, guard.share);
    if (holding.size) for (const list of [problems, needsUser]) list.push(heldMessage(source, holding));
    let byPath = new Map<string, SyncRecord>();
    const remember = (done: readonly Applied[]) => {
      index.save(done.map((a): IndexEntry => entryFor(byPath.get(a.path)!, a.localHash, a.stat)));
      applied += done.length;
      bySource[source.category] = (bySource[source.category] ?? 0) + done.length;
    };
    // A damaged record is named and skipped: it must not hold back every other record.
    const damaged = (e: Error) => {
      problems.push(`${e.message}; skipped`);
      needsUser.push(`${e.message}; skipped`);
    };
    // Some records could not be written: the rest is applied and accounted for, the mark stays for a retry.
    let incomplete = false;
    const read = (paths: readonly string[]) => readRecordObjects(repo, paths.map((p) => [p, oids.get(p) ?? `${to}:${p}`]), damaged);
    const applyRecords = async (paths: readonly string[], records: Map<string, SyncRecord>): Promise<ApplyResult> => {
      const known = index.getMany(paths);
      const wanted: SyncRecord[] = [];
      const kept: string[] = [];
      for (const r of records.values()) {
        const decision = needsApply(r, known.get(r.path));
        if (decision === "pending") skippedPending++;
        if (decision === "apply" && r.deleted && (holding.has(r.path) || holding.has(source.groupOf(r.path).coveredBy ?? ""))) kept.push(r.path);
        else if (decision === "apply") wanted.push(r);
      }
      held += kept.length;
      byPath = new Map(wanted.map((r) => [r.path, r]));
      const done = await applyOrReport(source, wanted, (p) => known.get(p), (e) => {
        incomplete = true;
        report(e);
      });
      if (done.applied.length) crashPoint("mid-apply");
      remember(done.applied);
      if (done.seen) index.update({ seen: done.seen });
      // Held deletions wait: each sync asks again until the user says yes.
      return { ...done, waiting: [...done.waiting, ...kept] };
    };
    try {
      const parentless: string[] = [];
      const edited: string[] = [];
      let placed = 0;
      for await (const [paths, records] of readAhead(batches(changed), read)) {
        const done = await applyRecords(paths, records);
        placed += paths.length;
        progress?.(`${source.category}: applied ${placed} of ${changed.length} records…`);
        parentless.push(...done.waiting);
        edited.push(...done.editedHere);
      }
      // A child whose parent came in a later batch all the same (it was waiting): once more, now that the parent is here.
      const again = parentless.length ? await applyRecords(parentless, await read(parentless)) : { waiting: [], editedHere: [] };
      const waiting = [...again.waiting, ...again.editedHere, ...edited];
      waitingTotal += waiting.length;
      editedTotal += edited.length + again.editedHere.length;
      index.update({ ...(incomplete ? {} : { applied: { [source.category]: to } }), waiting: { [source.category]: waiting } });
    } catch (e) {
      if (!(e instanceof SourceError)) throw e;
      report(e);
    }
  }
  return { applied, bySource, skippedPending, waiting: waitingTotal, editedHere: editedTotal, problems, needsUser, held };
}

/** A source's apply; one that wrote only some records reports the rest (onIncomplete) and gives what it did. */
async function applyOrReport(source: Source, records: readonly SyncRecord[], known: KnownLocal, onIncomplete: (e: ApplyIncomplete) => void): Promise<ApplyResult> {
  try {
    return await source.apply(records, known);
  } catch (e) {
    if (!(e instanceof ApplyIncomplete)) throw e;
    onIncomplete(e);
    return e.done;
  }
}

function heldMessage(source: Source, holding: ReadonlySet<string>): string {
  const what = [...new Set([...holding].map((p) => source.groupOf(p).name))].join(", ");
  const some = [...holding].slice(0, 3).join(", ") + (holding.size > 3 ? ", …" : "");
  return `${holding.size} ${what} deleted on another machine (${some}) are kept here: so many at once, unconfirmed, looks more like a wiped machine or an older oc-sync than a choice. If they were deleted on purpose: 'oc-sync sync --allow-mass-delete'`;
}

/**
 * Deletions arriving from the remote that the mass-delete guard holds: a whole config or credentials
 * file, or more of a group (sessions, files) in one commit than the guard lets a machine delete at
 * once (an older client, a bug, a hostile push), unless the commit that deleted them says its user
 * confirmed. Returns the held records' paths (a session's
 * messages and parts are held with it, see Source.groupOf).
 */
async function heldDeletions(repo: GitRepo, index: IndexStore, source: Source, changed: readonly string[], from: string, to: string, share: number): Promise<Set<string>> {
  const known = index.getMany(changed.filter((p) => source.groupOf(p).coveredBy === undefined));
  const live = [...known.values()].filter((e) => !e.deleted).map((e) => e.path);
  if (!live.length) return new Set();
  const incoming = await readRecordObjects(repo, live.map((p) => [p, `${to}:${p}`]), () => undefined);
  const gone = [...incoming.values()].filter((r) => r.deleted && compareVectors(r.vector, known.get(r.path)!.vector) === "ahead");
  if (!gone.length) return new Set();
  const confirmed = await repo.pathsChangedByCommitsWith(from, to, CONFIRMED_DELETIONS);
  const commitOf = await repo.lastChangedIn(from, to, gone.map((r) => r.path));
  const held = new Set<string>();
  // Counted per commit, as the deleting machine's own guard counted them.
  const groups = new Map<string, { glob: string; paths: string[] }>();
  for (const r of gone) {
    if (confirmed.has(r.path)) continue;
    const g = source.groupOf(r.path);
    const key = `${commitOf.get(r.path) ?? ""} ${g.name}`;
    if (g.whole) held.add(r.path);
    else groups.set(key, { glob: g.glob, paths: [...(groups.get(key)?.paths ?? []), r.path] });
  }
  for (const g of groups.values()) if (isMassDelete(g.paths.length, index.countLiveGlob(g.glob), share)) for (const p of g.paths) held.add(p);
  return held;
}

/**
 * Paths outside sessions by their number of segments, fewest first; then each session's the same
 * way, a session at a time (its records are read together: a batch reads few segments), in their
 * order otherwise. One pass: a first pull has a million.
 */
function parentsFirst(paths: Iterable<string>): string[] {
  const outside: string[][] = [];
  const sessions = new Map<string, string[][]>();
  for (const p of paths) {
    let depth = 0;
    for (let i = p.indexOf("/"); i >= 0; i = p.indexOf("/", i + 1)) depth++;
    const session = sessionFolderOf(p);
    const byDepth = session === undefined ? outside : (sessions.get(session) ?? sessions.set(session, []).get(session)!);
    (byDepth[depth] ??= []).push(p);
  }
  return [outside, ...sessions.values()].flatMap((byDepth) => byDepth.flatMap((bucket) => bucket ?? []));
}

function batches(paths: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < paths.length; ) {
    const size = out.length ? BATCH : FIRST_BATCH;
    out.push(paths.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Each batch with what `read` gave for it; the next batch is being read while the caller works on this one. */
async function* readAhead<T>(all: readonly string[][], read: (paths: readonly string[]) => Promise<T>): AsyncGenerator<readonly [string[], T]> {
  let next = all.length ? read(all[0]!) : undefined;
  try {
    for (let i = 0; i < all.length; i++) {
      const current = await next!;
      next = i + 1 < all.length ? read(all[i + 1]!) : undefined;
      yield [all[i]!, current];
    }
  } finally {
    // Stopped early (an error applying): the read under way must not end as an unhandled rejection.
    await next?.catch(() => undefined);
  }
}

function needsApply(remote: SyncRecord, local: IndexEntry | undefined): "apply" | "skip" | "pending" {
  if (!local) return remote.deleted ? "skip" : "apply";
  switch (compareVectors(remote.vector, local.vector)) {
    case "ahead":
      return "apply";
    case "equal":
      // Known version, but never written here (e.g. the database did not exist yet).
      return local.localHash === null && !remote.deleted ? "apply" : "skip";
    default:
      return "pending";
  }
}
