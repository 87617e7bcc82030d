// Folds one machine branch into main with core/reconcile: the same code in the Action and in
// the client's local-merge mode. Reads only the paths that changed on either side.
import { conflictRecord, isRecordPath } from "../core/layout.js";
import { encodeRecord, type RecordFormatError, type SyncRecord } from "../core/record.js";
import { reconcile, type ReconcileResult } from "../core/reconcile.js";
import { parentPath } from "../core/session-deletes.js";
import type { Strategy } from "../core/strategy.js";
import { atMost, compareVectors, meetVectors, vectorWeight } from "../core/vector.js";
import { sessionFolder } from "../core/db-paths.js";
import { readRecords } from "./record-reader.js";
import type { FileChange, GitRepo } from "./repo.js";
import { writesSegments } from "./repo-format.js";
import { segmentNewSessions } from "./segment-writer.js";

export interface BranchMerge {
  /** The new main commit; null when the branch had nothing main lacks. */
  readonly commit: string | null;
  readonly fastForward: boolean;
  readonly result: ReconcileResult | null;
  /** Records that could not be read (damaged, or not of their kind): left as main has them, named here. */
  readonly damaged: readonly string[];
}

export interface MergeOptions {
  readonly strategy: Strategy;
  readonly message: string;
  /** false: always write a merge commit (the Action's token may not move main onto a commit that changes .github/). */
  readonly fastForward?: boolean;
}

export async function mergeBranch(repo: GitRepo, main: string, branch: string, options: MergeOptions): Promise<BranchMerge> {
  if (await repo.isAncestor(branch, main)) return { commit: null, fastForward: false, result: null, damaged: [] };
  if (options.fastForward !== false && (await repo.isAncestor(main, branch))) return { commit: branch, fastForward: true, result: null, damaged: [] };
  const base = await repo.mergeBase(main, branch);
  const paths = new Set<string>();
  for (const c of [...(await repo.diff(base, main)), ...(await repo.diff(base, branch))]) if (isRecordPath(c.path)) paths.add(c.path);
  // One damaged record must not stop the merge of every other: it is named and left as main has it.
  const damaged = new Map<string, string>();
  const onDamaged = (e: RecordFormatError) => damaged.set(e.path, e.message);
  const [b, m, r] = await Promise.all([readRecords(repo, base, paths, onDamaged), readRecords(repo, main, paths, onDamaged), readRecords(repo, branch, paths, onDamaged)]);
  for (const path of damaged.keys()) for (const side of [b, m, r]) side.delete(path);
  await useCommonVersions(repo, main, branch, b, m, r);
  // The sessions and messages of changed rows that did not change themselves: one deleted before the merge base still orphans them.
  const unread = new Set([...paths].map(parentPath).filter((p): p is string => p !== undefined && !paths.has(p)));
  const parents = await readRecords(repo, main, unread, () => {});
  const result = reconcile(b, m, r, { strategy: options.strategy, parents });
  const changes: [string, Uint8Array][] = result.changed.map((rec) => [rec.path, encodeRecord(rec)]);
  for (const c of result.conflicts) {
    const rec = conflictRecord(c);
    if (!m.has(rec.path) && !(await repo.readBlob(`${main}:${rec.path}`))) changes.push([rec.path, encodeRecord(rec)]);
  }
  // A merge commit even when nothing changes: it marks the branch as folded in, so no later run redoes it.
  const commit = await repo.commit({ parents: [main, branch], message: options.message, changes: await asStored(repo, main, changes) });
  return { commit, fastForward: false, result, damaged: [...damaged.values()] };
}

/** A merge's records as a sync writes them: the sessions main lacks as segments, where the repo's format has them. */
async function asStored(repo: GitRepo, main: string, changes: [string, Uint8Array][]): Promise<Iterable<FileChange> | AsyncIterable<FileChange>> {
  if (!(await writesSegments(repo, main))) return changes;
  // By path, so each session's records come together.
  const sorted = changes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return segmentNewSessions(
    (async function* () {
      yield* sorted;
    })(),
    async (session) => !(await repo.has(main, sessionFolder(session).slice(0, -1))),
  );
}

const HISTORY_LIMIT = 50;

/**
 * For a record both sides changed concurrently, the base of its three-way merge is the newest
 * version both sides descend from (by their vectors). Usually that is the version at git's merge
 * base; it is newer when a machine built its change on an older commit than the version its edit
 * came from (it kept an edit made during a sync), and a stale base would turn that machine's own
 * earlier value into a conflict. Looked up in both histories of the path.
 */
async function useCommonVersions(repo: GitRepo, main: string, branch: string, b: Map<string, SyncRecord>, m: Map<string, SyncRecord>, r: Map<string, SyncRecord>): Promise<void> {
  for (const [path, mv] of m) {
    const rv = r.get(path);
    if (!rv || compareVectors(rv.vector, mv.vector) !== "concurrent") continue;
    const common = (x: SyncRecord | undefined): x is SyncRecord => x !== undefined && atMost(x.vector, mv.vector) && atMost(x.vector, rv.vector);
    let best = b.get(path);
    if (!common(best)) best = undefined;
    // No common version can be newer than the meet of the two vectors: when the base is it, look no further.
    if (best && compareVectors(best.vector, meetVectors(mv.vector, rv.vector)) === "equal") continue;
    for (const c of await repo.pathHistory([main, branch], path, HISTORY_LIMIT)) {
      const x = (await readRecords(repo, c, [path], () => {})).get(path);
      if (common(x) && (!best || vectorWeight(x.vector) > vectorWeight(best.vector))) best = x;
    }
    if (best) b.set(path, best);
    else b.delete(path);
  }
}
