// The merge Action's job as the installed workflow runs it, beside a plain `git clone --bare` of
// the same repository from the same server: the checkout step (the workflow's own `with:`, done as
// actions/checkout does it by the stand-in runner: sparse, blobless, depth 1) into a fresh folder,
// then mergeAllBranches into a fresh bare repository, merging one machine branch that carries one
// new message while main moved on with another (a real three-way merge, not a fast-forward).
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { WORKFLOW, workflowFiles } from "../client/github/workflow.js";
import type { GitAuth } from "../git/auth.js";
import { mergeAllBranches } from "../git/merge-all.js";
import { machineBranch, MACHINES_PREFIX, MAIN_BRANCH, remoteRef } from "../git/refs.js";
import { GitRepo } from "../git/repo.js";
import { runGit } from "../git/run.js";
import { checkout, checkoutStepInputs } from "../test/support/github/runner.js";

export interface ActionJobRuns {
  readonly jobMs: number[];
  readonly checkoutMs: number[];
  readonly bareCloneMs: number[];
}

const BRANCH = machineBranch("bench");

/**
 * A copy of the sync repo on the server (`srv/action.git`) holding the vendored Action, with main
 * at `base` plus the change `base..ours` made, and one machine branch at `base` plus `ours..theirs`.
 */
async function prepare(srv: string, source: string, [base, ours, theirs]: readonly [string, string, string]): Promise<{ gitDir: string; main: string; branch: string }> {
  const gitDir = join(srv, "action.git");
  await runGit(["clone", "--bare", "-q", source, gitDir]);
  // GitHub serves partial clones (the checkout's `filter`); git's server refuses filters unless told.
  await runGit(["--git-dir", gitDir, "config", "uploadpack.allowFilter", "true"]);
  const repo = new GitRepo(gitDir);
  const withAction = await repo.commit({ parents: [base], message: "oc-sync: install the merge workflow", changes: [...(await workflowFiles())] });
  const main = await repo.rebase(ours, base, withAction, "a sync main has");
  const branch = await repo.rebase(theirs, ours, withAction, "a sync main lacks");
  for (const { name } of await repo.listRefs(remoteRef(MACHINES_PREFIX))) await repo.deleteRef(remoteRef(MACHINES_PREFIX + name));
  await repo.updateRef(remoteRef(MAIN_BRANCH), main);
  await repo.updateRef(remoteRef(BRANCH), branch);
  repo.close();
  return { gitDir, main, branch };
}

/** One job in fresh folders under `root`: checkout, then the merge, which pushes main. */
async function job(root: string, url: string, auth: GitAuth, branch: string): Promise<{ ms: number; checkoutMs: number }> {
  const temp = mkdtempSync(join(root, "runner-"));
  try {
    const t = performance.now();
    await checkout(join(temp, "workspace"), url, auth.token, { sha: branch, branch: BRANCH }, checkoutStepInputs(WORKFLOW));
    const checkoutMs = performance.now() - t;
    const repo = await GitRepo.open(join(temp, "merge.git"));
    const r = await mergeAllBranches(repo, { url, auth }, { strategy: "auto-merge", who: "bench" });
    repo.close();
    if (r.machines.length !== 1 || !r.pushed) throw new Error(`the Action job merged ${r.machines.length} branches, pushed: ${r.pushed}`);
    return { ms: performance.now() - t, checkoutMs };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** `heads`: three successive mains of the sync repo at `source`, each one sync of one message after the last. */
export async function benchActionJob(root: string, srv: string, source: string, url: (repo: string) => string, auth: GitAuth, heads: readonly [string, string, string]): Promise<ActionJobRuns> {
  const { gitDir, main, branch } = await prepare(srv, source, heads);
  const runs: ActionJobRuns = { jobMs: [], checkoutMs: [], bareCloneMs: [] };
  for (let i = 0; i < 3; i++) {
    const clone = join(root, "bare-clone.git");
    const t = performance.now();
    await runGit(["clone", "-q", "--bare", url("action.git"), clone], { auth });
    runs.bareCloneMs.push(performance.now() - t);
    rmSync(clone, { recursive: true, force: true });
    const j = await job(root, url("action.git"), auth, branch);
    runs.jobMs.push(j.ms);
    runs.checkoutMs.push(j.checkoutMs);
    // Main back where it was: the next job merges the same branch again.
    await runGit(["--git-dir", gitDir, "update-ref", remoteRef(MAIN_BRANCH), main]);
  }
  return runs;
}
