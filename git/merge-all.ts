// Folds every machine branch that main lacks into main, one after another, and moves main by
// compare-and-swap; a lost race starts over from a fresh fetch. The Action runs this; so does
// `oc-sync merge`. Running it again with nothing new changes nothing.
import type { Strategy } from "../core/strategy.js";
import { mergeBranch, type BranchMerge } from "./merge-branch.js";
import { fetchRefs, pushAtomic, type Remote } from "./remote.js";
import type { GitRepo } from "./repo.js";
import { backoffMs, sleep } from "./retry.js";

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
}

const MACHINES = "refs/remotes/sync/machines/";

export async function mergeAllBranches(repo: GitRepo, remote: Remote, options: MergeAllOptions): Promise<MergeAllResult> {
  const attempts = options.attempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    await fetchRefs(repo, remote);
    const before = await repo.revParse("refs/remotes/sync/main");
    if (!before) return { before, after: before, machines: [], pushed: false, attempts: attempt };
    let main = before;
    const machines: MachineMerge[] = [];
    for (const { machine, oid } of await machineBranches(repo)) {
      if (await repo.isAncestor(oid, main)) continue;
      // GITHUB_TOKEN cannot move main onto a commit that changes workflows: merge instead of fast-forwarding then.
      const touchesGithub = (await repo.diff(main, oid, [".github/"])).length > 0;
      const merged = await mergeBranch(repo, main, oid, { strategy: options.strategy, message: `${options.who}: merge ${machine}`, fastForward: !touchesGithub });
      if (!merged.commit) continue;
      machines.push({ ...merged, machine, branchHead: oid });
      main = merged.commit;
    }
    if (main === before || options.dryRun) return { before, after: main, machines, pushed: false, attempts: attempt };
    const pushed = await pushAtomic(repo, remote, [{ ref: "main", oid: main, expected: before }]);
    if (pushed.ok) return { before, after: main, machines, pushed: true, attempts: attempt };
    if (pushed.reason !== "rejected" || attempt >= attempts) throw new Error(`could not move main: ${pushed.message}`);
    await sleep(backoffMs(attempt, 300, 5000));
  }
}

async function machineBranches(repo: GitRepo): Promise<{ machine: string; oid: string }[]> {
  const out = (await repo.git(["for-each-ref", "--format=%(objectname) %(refname)", MACHINES])).stdout.toString().trim();
  return out
    ? out
        .split("\n")
        .map((l) => l.split(" "))
        .map(([oid, ref]) => ({ oid: oid!, machine: ref!.slice(MACHINES.length) }))
        .sort((a, b) => a.machine.localeCompare(b.machine))
    : [];
}
