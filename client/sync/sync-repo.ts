// The sync repo's own files: the format marker (so an older oc-sync refuses a newer layout) and
// the wrapped data key. Written by a compare-and-swap push to main like everything else.
import { FORMAT_PATH, formatMarker, KEY_PATH } from "../../core/layout.js";
import { FormatError, readFormat, refuseNewer } from "../../git/repo-format.js";
import { commitMessage } from "../../core/trailers.js";
import { compareAndSwap } from "../../git/cas.js";
import { MAIN_BRANCH, TRACKED_MAIN } from "../../git/refs.js";
import type { Remote } from "../../git/remote.js";
import type { GitRepo } from "../../git/repo.js";
import { parseWrappedKey, type WrappedKey } from "../crypto/keys.js";

export { FormatError } from "../../git/repo-format.js";

/** The repo's format at `commit` (null: no repo yet), or a clear error when this oc-sync cannot read it. */
export async function checkFormat(repo: GitRepo, commit: string | null): Promise<number | null> {
  if (!commit) return null;
  const format = await readFormat(repo, commit);
  if (format === "missing") throw new FormatError(`the sync repo has no ${FORMAT_PATH}: it is not an oc-sync repository (or was made by something else). Point 'remote' at an empty or oc-sync repository`);
  if (format === "not JSON") throw new FormatError(`${FORMAT_PATH} in the sync repo is not valid JSON; restore it from history`);
  if (format === "no number") throw new FormatError(`${FORMAT_PATH} in the sync repo has no numeric "format"`);
  refuseNewer(format);
  return format;
}

/**
 * Makes sure main exists with a format marker, and adds the wrapped key when asked.
 * Returns main's head after that (decided again from a fresh fetch when another machine raced us).
 */
/** `replaces`: the id of an older key main may hold, which `key` then takes the place of. */
export async function ensureRepoFiles(repo: GitRepo, remote: Remote, key: WrappedKey | undefined, machine: string, replaces?: string): Promise<string> {
  return compareAndSwap(
    repo,
    remote,
    async () => {
      const main = await repo.revParse(TRACKED_MAIN);
      const changes: [string, Uint8Array][] = [];
      if (!main || !(await repo.readBlob(`${main}:${FORMAT_PATH}`))) changes.push([FORMAT_PATH, formatMarker()]);
      const there = main ? await repo.readBlob(`${main}:${KEY_PATH}`) : null;
      const older = there !== null && replaces !== undefined && parseWrappedKey(there.toString("utf8")).keyId === replaces;
      if (key && (!there || older)) changes.push([KEY_PATH, Buffer.from(JSON.stringify(key, null, 2) + "\n")]);
      if (main && changes.length === 0) return { moves: [], value: main };
      const what = older ? `oc-sync: ${machine} put back the data key of a passphrase change main had lost [skip ci]` : "oc-sync: set up sync repository [skip ci]";
      const commit = await repo.commit({ parents: main ? [main] : [], message: commitMessage(what, { machine }), changes });
      return { moves: [{ branch: MAIN_BRANCH, to: commit }], value: commit };
    },
    { what: "could not set up the sync repo" },
  );
}
