// GitHub-specific commands: set up a repository (init --github); the audit trail (log: the digest, the merge runs).
import { digestLines } from "../../../core/digest.js";
import { digestSinceLast } from "../../../git/main-moves.js";
import { createGitHub, explainGitHubError } from "../../github/api.js";
import { defaultRepo, ensurePrivateRepo, installWorkflow } from "../../github/bootstrap.js";
import { githubToken } from "../../github/token.js";
import type { SyncContext } from "../../sync/context.js";
import { withState } from "../../state/open-state.js";
import { EXIT, UsageError, type Output } from "../output.js";

export function splitRepo(full: string): [string, string] {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(full);
  if (!m) throw new UsageError(`--github takes owner/name, got "${full}"`);
  return [m[1]!, m[2]!];
}

const gitHubOf = (ctx: Pick<SyncContext, "env" | "log">) => createGitHub(githubToken(ctx.env), ctx.env, (m) => ctx.log.log("warn", m));

/** The repository to set up: the one named, else `<login>/opencode-sync` for the token's user. */
export async function gitHubRepoName(ctx: Pick<SyncContext, "env" | "log">, named: string): Promise<string> {
  if (named) return splitRepo(named).join("/");
  return defaultRepo(gitHubOf(ctx));
}

/** Creates or adopts the private repository and installs the merge workflow; returns whether it was created. */
export async function setUpGitHubRepo(ctx: SyncContext, full: string, out: Output): Promise<boolean> {
  const [owner, name] = splitRepo(full);
  const created = await ensurePrivateRepo(gitHubOf(ctx), owner, name);
  out.line(created ? `created private repository ${full}` : `using existing private repository ${full}`);
  await withState(ctx, async ({ repo }) => {
    if (await installWorkflow(repo, ctx.remote, ctx.machine)) out.line("installed the merge workflow and the oc-sync Action in .github/");
  });
  return created;
}

/** main's moves since the last digest (what the last sync fetched), then the Action's recent runs when the remote is on GitHub. */
export async function logCommand(ctx: SyncContext, out: Output, limit: number): Promise<number> {
  const digest = await withState(ctx, ({ repo }) => digestSinceLast(repo));
  if (!digest) out.line("nothing synced yet: run 'oc-sync sync' first");
  else for (const line of digestLines(digest)) out.line(line);
  const runs = ctx.settings.github ? await actionRuns(ctx, out, ctx.settings.github, limit) : null;
  out.result({ digest, runs });
  return EXIT.ok;
}

async function actionRuns(ctx: SyncContext, out: Output, full: string, limit: number) {
  const [owner, repo] = splitRepo(full);
  const { data } = await gitHubOf(ctx).rest.actions.listWorkflowRunsForRepo({ owner, repo, per_page: limit }).catch((e: unknown) => {
    throw explainGitHubError(e);
  });
  const runs = data.workflow_runs.map((r) => ({ id: r.id, status: r.status, conclusion: r.conclusion, event: r.event, branch: r.head_branch, created: r.created_at, url: r.html_url }));
  out.line(runs.length ? "merge runs of the GitHub Action:" : "no merge runs yet (clients fast-forward main themselves; the Action runs only for real merges, and once a day for the digest)");
  for (const r of runs) out.line(`${r.created}  ${String(r.conclusion ?? r.status).padEnd(9)} ${r.event.padEnd(17)} ${r.branch ?? ""}  ${r.url}`);
  return runs;
}
