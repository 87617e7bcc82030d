// Where the last digest ended, kept in the repo as the branch DIGEST_BRANCH: a commit of no files and
// no parents whose message names main as that digest reported it. Not main itself, nor a descendant:
// the Action's token may not move a ref onto commits that change .github/workflows, as moving it
// from one main to the next would whenever the workflow was upgraded in between.
import { compareAndSwap } from "./cas.js";
import { DIGEST_BRANCH, tracking } from "./refs.js";
import type { Remote } from "./remote.js";
import type { GitRepo } from "./repo.js";

const DIGESTED = "Oc-Sync-Digested";

/** main as the last digest reported it, as last fetched; null before the first digest. */
export async function digestedMain(repo: GitRepo): Promise<string | null> {
  const at = await repo.revParse(tracking(DIGEST_BRANCH));
  if (!at) return null;
  return new RegExp(`^${DIGESTED}: ([0-9a-f]{40})$`, "m").exec(await repo.commitMessage(at))?.[1] ?? null;
}

/** Records that a digest reported main up to `main`; a later run that already went further is left alone. */
export async function markDigested(repo: GitRepo, remote: Remote, main: string): Promise<void> {
  await compareAndSwap(
    repo,
    remote,
    async () => {
      const done = await digestedMain(repo);
      if (done !== null && (done === main || (await repo.isAncestor(main, done)))) return { moves: [], value: undefined };
      return { moves: [{ branch: DIGEST_BRANCH, to: await positionCommit(repo, main) }], value: undefined };
    },
    { what: "could not record where this digest ended (the next run reports these moves again)" },
  );
}

async function positionCommit(repo: GitRepo, main: string): Promise<string> {
  return repo.commit({ parents: [], message: `oc-sync digest: main at ${main}\n\n${DIGESTED}: ${main}`, changes: [] });
}
