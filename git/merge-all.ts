// Folds every machine branch that main lacks into main, one after another, and moves main by
// compare-and-swap; a lost race starts over from a fresh fetch. The Action runs this; so does
// `oc-sync merge`. Running it again with nothing new changes nothing.
import type { Strategy } from "../core/strategy.js";
import { compareAndSwap } from "./cas.js";
import { GITHUB_DIR } from "../core/layout.js";
import { commitMessage } from "../core/trailers.js";
import { mergeBranch, type BranchMerge } from "./merge-branch.js";
import { readFormat, refuseNewer } from "./repo-format.js";
import { MACHINES_PREFIX, MAIN_BRANCH, TRACKED_MAIN, tracking } from "./refs.js";
import type { Remote } from "./remote.js";
import type { GitRepo } from "./repo.js";

export interface MachineMerge extends BranchMerge {
  readonly machine: string;
  readonly branchHead: string;
}

export interface MergeAllResult {
  /** main before and after; equal when there was nothing to do. */
  readonly before: string | null;
  readonly after: string | null;
  readonly machines: readonly MachineMerge[];
  readonly pushed: boolean;
  readonly attempts: number;
}

export interface MergeAllOptions {
  readonly strategy: Strategy;
  readonly dryRun?: boolean;
  readonly attempts?: number;
  /** Message prefix for merge commits (the Action's commits must not say [skip ci]: they go to main only). */
  readonly who: string;
  /** The machine that merges (none: the Action), for the digest. */
  readonly machine?: string;
}

export async function mergeAllBranches(repo: GitRepo, remote: Remote, options: MergeAllOptions): Promise<MergeAllResult> {
  return compareAndSwap(
    repo,
    remote,
    async (attempt) => {
      const before = await repo.revParse(TRACKED_MAIN);
      // A layout newer than this code knows is not merged: what it wrote there, the newer machines could not read.
      const format = before ? await readFormat(repo, before) : null;
      if (typeof format === "number") refuseNewer(format);
      const folded = before ? await foldBranches(repo, before, options) : { main: before, machines: [] };
      const result = { before, after: folded.main, machines: folded.machines, pushed: false, attempts: attempt + 1 };
      if (folded.main === before || options.dryRun || !folded.main) return { moves: [], value: result };
      return { moves: [{ branch: MAIN_BRANCH, to: folded.main }], value: { ...result, pushed: true } };
    },
    { what: "could not move main", fetchFirst: true, attempts: options.attempts },
  );
}

/** Each machine branch main lacks, reconciled onto main in turn (in code-unit order of machine ids). */
async function foldBranches(repo: GitRepo, start: string, options: MergeAllOptions): Promise<{ main: string; machines: MachineMerge[] }> {
  let main = start;
  const machines: MachineMerge[] = [];
  for (const { name: machine, oid } of await repo.listRefs(tracking(MACHINES_PREFIX))) {
    if (await repo.isAncestor(oid, main)) continue;
    // GITHUB_TOKEN cannot move main onto a commit that changes workflows: merge instead of fast-forwarding then.
    const touchesGithub = (await repo.diff(main, oid, [GITHUB_DIR])).length > 0;
    const merged = await mergeBranch(repo, main, oid, { strategy: options.strategy, message: commitMessage(`${options.who}: merge ${machine}`, { machine: options.machine, merged: machine }), fastForward: !touchesGithub });
    if (!merged.commit) continue;
    machines.push({ ...merged, machine, branchHead: oid });
    main = merged.commit;
  }
  return { main, machines };
}
