// Folds one machine branch into main with core/reconcile: the same code in the Action and in
// the client's local-merge mode. Reads only the paths that changed on either side.
import { conflictRecord, isRecordPath } from "../core/layout.js";
import { decodeRecord, encodeRecord, RecordFormatError, type SyncRecord } from "../core/record.js";
import { reconcile, type ReconcileResult } from "../core/reconcile.js";
import type { Strategy } from "../core/strategy.js";
import { compareVectors } from "../core/vector.js";
import type { GitRepo } from "./repo.js";

export interface BranchMerge {
  /** The new main commit; null when the branch had nothing main lacks. */
  readonly commit: string | null;
  readonly fastForward: boolean;
  readonly result: ReconcileResult | null;
}

/**
 * Records at `commit` for `paths` (absent paths are left out). A damaged record throws, unless
 * `onDamaged` is given: then it is reported there and left out.
 */
export async function readRecords(repo: GitRepo, commit: string | null, paths: Iterable<string>, onDamaged?: (e: RecordFormatError) => void): Promise<Map<string, SyncRecord>> {
  if (!commit) return new Map();
  return readRecordObjects(repo, [...paths].map((p) => [p, `${commit}:${p}`]), onDamaged);
}

/**
 * Records from their blobs, each given as `[path, object name]`: an oid when a diff or tree listing
 * already gave it (git then skips walking the trees from the commit to the path, which dominated a
 * first pull of 200,000 records), else `<commit>:<path>`.
 */
export async function readRecordObjects(repo: GitRepo, objects: readonly (readonly [string, string])[], onDamaged?: (e: RecordFormatError) => void): Promise<Map<string, SyncRecord>> {
  const out = new Map<string, SyncRecord>();
  const blobs = await repo.readBlobs(objects.map(([, name]) => name));
  objects.forEach(([p], j) => {
    const b = blobs[j];
    if (!b) return;
    try {
      out.set(p, decodeRecord(p, b));
    } catch (e) {
      if (!(e instanceof RecordFormatError) || !onDamaged) throw e;
      onDamaged(e);
    }
  });
  return out;
}

export interface MergeOptions {
  readonly strategy: Strategy;
  readonly message: string;
  /** false: always write a merge commit (the Action's token may not move main onto a commit that changes .github/). */
  readonly fastForward?: boolean;
}

export async function mergeBranch(repo: GitRepo, main: string, branch: string, options: MergeOptions): Promise<BranchMerge> {
  if (await repo.isAncestor(branch, main)) return { commit: null, fastForward: false, result: null };
  if (options.fastForward !== false && (await repo.isAncestor(main, branch))) return { commit: branch, fastForward: true, result: null };
  const base = await repo.mergeBase(main, branch);
  const paths = new Set<string>();
  for (const c of [...(await repo.diff(base, main)), ...(await repo.diff(base, branch))]) if (isRecordPath(c.path)) paths.add(c.path);
  const [b, m, r] = await Promise.all([readRecords(repo, base, paths), readRecords(repo, main, paths), readRecords(repo, branch, paths)]);
  await useCommonVersions(repo, main, branch, b, m, r);
  const result = reconcile(b, m, r, { strategy: options.strategy });
  const changes: [string, Uint8Array][] = result.changed.map((rec) => [rec.path, encodeRecord(rec)]);
  for (const c of result.conflicts) {
    const rec = conflictRecord(c);
    if (!m.has(rec.path) && !(await repo.readBlob(`${main}:${rec.path}`))) changes.push([rec.path, encodeRecord(rec)]);
  }
  // A merge commit even when nothing changes: it marks the branch as folded in, so no later run redoes it.
  const commit = await repo.commit({ parents: [main, branch], message: options.message, changes });
  return { commit, fastForward: false, result };
}

const HISTORY_LIMIT = 50;
const atMost = (x: SyncRecord, y: SyncRecord) => ["behind", "equal"].includes(compareVectors(x.vector, y.vector));
const meet = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(a).map(([k, n]) => [k, Math.min(n, b[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
const weight = (x: SyncRecord) => Object.values(x.vector).reduce((s, n) => s + n, 0);

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
    const common = (x: SyncRecord | undefined): x is SyncRecord => x !== undefined && atMost(x, mv) && atMost(x, rv);
    let best = b.get(path);
    if (!common(best)) best = undefined;
    // No common version can be newer than the meet of the two vectors: when the base is it, look no further.
    if (best && compareVectors(best.vector, meet(mv.vector, rv.vector)) === "equal") continue;
    const commits = (await repo.git(["log", "--format=%H", "-n", String(HISTORY_LIMIT), main, branch, "--", path])).stdout.toString().split("\n").filter(Boolean);
    for (const c of commits) {
      const x = (await readRecords(repo, c, [path], () => {})).get(path);
      if (common(x) && (!best || weight(x) > weight(best))) best = x;
    }
    if (best) b.set(path, best);
    else b.delete(path);
  }
}
