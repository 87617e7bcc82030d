// The digest's position: main as the last digest reported it, kept in the repo (DIGEST_BRANCH) so
// the next run starts where this one ended, whichever run failed or was skipped in between.
import { compareAndSwap } from "../git/cas.js";
import type { Digest } from "../core/digest.js";
import { DIGEST_BRANCH, tracking } from "../git/refs.js";
import type { Remote } from "../git/remote.js";
import type { GitRepo } from "../git/repo.js";

/** Moves the position to what this digest reported; a later run that already went further is left alone. */
export async function markDigested(repo: GitRepo, remote: Remote, digest: Digest): Promise<void> {
  await compareAndSwap(
    repo,
    remote,
    async () => {
      const at = await repo.revParse(tracking(DIGEST_BRANCH));
      const done = at !== null && (at === digest.to || (await repo.isAncestor(digest.to, at)));
      return { moves: done ? [] : [{ branch: DIGEST_BRANCH, to: digest.to }], value: undefined };
    },
    { what: "could not record where this digest ended (the next run reports these moves again)" },
  );
}
