// GitHub-specific commands: set up a repository (init --github), list merge runs (log).
import { createGitHub, explainGitHubError } from "../../github/api.js";
import { ensurePrivateRepo, installWorkflow } from "../../github/bootstrap.js";
import { githubToken } from "../../github/token.js";
import type { SyncContext } from "../../sync/context.js";
import { withState } from "../../state/open-state.js";
import { EXIT, UsageError, type Output } from "../output.js";

export function splitRepo(full: string): [string, string] {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(full);
  if (!m) throw new UsageError(`--github takes owner/name, got "${full}"`);
  return [m[1]!, m[2]!];
}

/** Creates or adopts the private repository and installs the merge workflow; returns whether it was created. */
export async function setUpGitHubRepo(ctx: SyncContext, full: string, out: Output): Promise<boolean> {
  const [owner, name] = splitRepo(full);
  const api = createGitHub(githubToken(ctx.env), ctx.env, (m) => ctx.log.log("warn", m));
  const created = await ensurePrivateRepo(api, owner, name);
  out.line(created ? `created private repository ${full}` : `using existing private repository ${full}`);
  await withState(ctx, async ({ repo }) => {
    if (await installWorkflow(repo, ctx.remote)) out.line("installed the merge workflow and the oc-sync Action in .github/");
  });
  return created;
}

export async function logCommand(ctx: SyncContext, out: Output, limit: number): Promise<number> {
  if (!ctx.settings.github) throw new UsageError("'oc-sync log' lists GitHub Actions runs; this machine's remote is not a GitHub repository (set \"github\": \"owner/name\")");
  const [owner, repo] = splitRepo(ctx.settings.github);
  const api = createGitHub(githubToken(ctx.env), ctx.env, (m) => ctx.log.log("warn", m));
  const { data } = await api.rest.actions.listWorkflowRunsForRepo({ owner, repo, per_page: limit }).catch((e: unknown) => {
    throw explainGitHubError(e);
  });
  const runs = data.workflow_runs.map((r) => ({ id: r.id, status: r.status, conclusion: r.conclusion, event: r.event, branch: r.head_branch, created: r.created_at, url: r.html_url }));
  if (!runs.length) out.line("no merge runs yet (clients fast-forward main themselves; the Action runs only for real merges)");
  for (const r of runs) out.line(`${r.created}  ${String(r.conclusion ?? r.status).padEnd(9)} ${r.event.padEnd(17)} ${r.branch ?? ""}  ${r.url}`);
  out.result(runs);
  return EXIT.ok;
}
