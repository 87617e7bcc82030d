// A sync repo as oc-sync reads it (git/repo.ts): a session's rows may be in its segment, so a raw
// `git ls-tree` or `cat-file main:<path>` would miss them.
import { GitRepo } from "../../git/repo.js";

async function atMain<T>(gitDir: string, read: (repo: GitRepo, main: string) => Promise<T>, none: T): Promise<T> {
  const repo = new GitRepo(gitDir);
  try {
    const main = await repo.revParse("main");
    return main ? await read(repo, main) : none;
  } finally {
    repo.close();
  }
}

/** Whether main holds a record (or file) at `path`. */
export const remoteHasRecord = (gitDir: string, path: string): Promise<boolean> => atMain(gitDir, async (repo, main) => (await repo.readBlob(`${main}:${path}`)) !== null, false);

/** Every record path on main (under the prefixes, if any). */
export const remoteRecordPaths = (gitDir: string, prefixes: readonly string[] = []): Promise<string[]> => atMain(gitDir, async (repo, main) => (await repo.listTree(main, prefixes)).map((e) => e.path), []);
