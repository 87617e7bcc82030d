// init --github owner/name: create the repository private (or adopt it, refusing a public one),
// then install or upgrade the workflow and the vendored Action with a git push.
import { FORMAT_PATH, formatMarker } from "../../core/layout.js";
import { commitMessage } from "../../core/trailers.js";
import { compareAndSwap, PushError } from "../../git/cas.js";
import { MAIN_BRANCH, TRACKED_MAIN } from "../../git/refs.js";
import type { Remote } from "../../git/remote.js";
import type { GitRepo } from "../../git/repo.js";
import { explainGitHubError, type GitHub } from "./api.js";
import { REQUIRED_PERMISSIONS } from "./token.js";
import { workflowFiles } from "./workflow.js";

export class PublicRepoError extends Error {
  constructor(full: string) {
    super(`${full} is public: oc-sync refuses to keep your OpenCode history in a public repository. Make it private (Settings → General → Danger Zone) or choose another name`);
    this.name = "PublicRepoError";
  }
}

export interface RepoSetup {
  readonly created: boolean;
  readonly workflowInstalled: boolean;
}

/** The repository `init --github` and `/sync-setup` use when none is named: `<login>/opencode-sync`. */
export const DEFAULT_REPO_NAME = "opencode-sync";

export async function defaultRepo(api: GitHub): Promise<string> {
  try {
    const { data } = await api.rest.users.getAuthenticated();
    return `${data.login}/${DEFAULT_REPO_NAME}`;
  } catch (e) {
    throw explainGitHubError(e);
  }
}

export async function ensurePrivateRepo(api: GitHub, owner: string, name: string): Promise<boolean> {
  try {
    const { data } = await api.rest.repos.get({ owner, repo: name });
    if (!data.private) throw new PublicRepoError(`${owner}/${name}`);
    return false;
  } catch (e) {
    if ((e as { status?: number }).status !== 404) throw explainGitHubError(e);
  }
  const { data: me } = await api.rest.users.getAuthenticated();
  try {
    if (me.login.toLowerCase() === owner.toLowerCase()) {
      await api.rest.repos.createForAuthenticatedUser({ name, private: true, description: "OpenCode sync (oc-sync)" });
    } else {
      await api.rest.repos.createInOrg({ org: owner, name, private: true, description: "OpenCode sync (oc-sync)" });
    }
  } catch (e) {
    throw explainGitHubError(e);
  }
  return true;
}

/** Commits the workflow files onto main when they are missing or older; a no-op when current. */
export async function installWorkflow(repo: GitRepo, remote: Remote, machine: string): Promise<boolean> {
  const files = await workflowFiles();
  const step = async () => {
    const main = await repo.revParse(TRACKED_MAIN);
    const changes: [string, Uint8Array][] = [];
    for (const [path, content] of files) {
      const current = main ? await repo.readBlob(`${main}:${path}`) : null;
      if (!current || !current.equals(Buffer.from(content))) changes.push([path, content]);
    }
    if (!main || !(await repo.readBlob(`${main}:${FORMAT_PATH}`))) changes.push([FORMAT_PATH, formatMarker()]);
    if (!changes.length) return { moves: [], value: false };
    const commit = await repo.commit({ parents: main ? [main] : [], message: commitMessage("oc-sync: install the merge workflow [skip ci]", { machine }), changes });
    return { moves: [{ branch: MAIN_BRANCH, to: commit }], value: true };
  };
  try {
    return await compareAndSwap(repo, remote, step, { what: "could not install the merge workflow", fetchFirst: true });
  } catch (e) {
    if (e instanceof PushError && /without `?workflows?`? (scope|permission)/i.test(e.message)) {
      throw new Error(`GitHub refused to install the merge workflow: the token has no permission to write workflows. oc-sync needs ${REQUIRED_PERMISSIONS}`);
    }
    throw e;
  }
}
