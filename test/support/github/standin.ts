// A GitHub stand-in on loopback for the calls oc-sync makes, behaving as GitHub documents them:
// git smart HTTP with token auth (the loopback git server), the REST endpoints GET /user,
// POST /user/repos, GET /repos/{o}/{r}, workflow runs list and dispatch, and an Actions runner.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { runGit } from "../../../git/run.js";
import { installWorkflowGuard, startGitServer, type GitServer } from "../git-http-server.js";
import { tempDir } from "../tmp.js";
import { ActionsRunner, type RunnerRepo } from "./runner.js";

export interface UserToken {
  readonly login: string;
  /** May the token change .github/workflows (fine-grained "Workflows: write" / classic "workflow")? */
  readonly workflows: boolean;
}

export interface GitHubStandIn {
  readonly apiUrl: string;
  readonly gitUrl: string;
  readonly runner: ActionsRunner;
  readonly git: GitServer;
  addUser(token: string, user: UserToken): void;
  /** The environment a client needs to use this stand-in as GitHub, with this token and passphrase. */
  clientEnv(token: string, passphrase: string): Record<string, string>;
  /** Creates a repository directly (as if made on github.com). */
  createRepo(fullName: string, isPrivate: boolean): Promise<string>;
  gitDir(fullName: string): string;
  /** The next `times` REST responses (default 1) are this status, with these headers and message. */
  failNext(status: number, o?: { headers?: Record<string, string>; message?: string; times?: number }): void;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

interface RepoInfo {
  readonly fullName: string;
  readonly private: boolean;
  readonly gitDir: string;
}

/** `root`: where repositories and run workspaces go (default: a test temp folder, removed after the file). */
export async function startGitHubStandIn(options: { root?: string } = {}): Promise<GitHubStandIn> {
  const root = options.root ?? (await tempDir("oc-sync-github-"));
  const gitRoot = join(root, "git");
  mkdirSync(gitRoot, { recursive: true });
  const users = new Map<string, UserToken>();
  const tokens: string[] = [];
  const noWorkflow: string[] = [];
  const repos = new Map<string, RepoInfo>();
  const requests: { method: string; path: string }[] = [];
  let injected: { status: number; headers: Record<string, string>; message: string; times: number } | undefined;

  const runnerRepo = (r: RepoInfo): RunnerRepo => ({ fullName: r.fullName, gitDir: r.gitDir });
  // The runner needs the git server's URL, and the git server reports pushes to the runner.
  const late: { runner?: ActionsRunner } = {};
  const git = await startGitServer({
    root: gitRoot,
    tokens,
    noWorkflowTokens: noWorkflow,
    onPush: (e) => {
      const repo = repos.get(e.repo.replace(/\.git$/, ""));
      if (repo) void late.runner?.onPush(runnerRepo(repo), e.token, e.updates);
    },
  });
  const gitUrl = `http://127.0.0.1:${git.port}`;

  async function createRepo(fullName: string, isPrivate: boolean): Promise<string> {
    const gitDir = join(gitRoot, `${fullName}.git`);
    await runGit(["init", "--bare", "-q", "-b", "main", gitDir]);
    // GitHub serves partial clones (actions/checkout's `filter`); git's server refuses filters unless told.
    await runGit(["--git-dir", gitDir, "config", "uploadpack.allowFilter", "true"]);
    installWorkflowGuard(gitDir);
    repos.set(fullName, { fullName, private: isPrivate, gitDir });
    return gitDir;
  }

  const api = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  const runner = new ActionsRunner({
    gitUrl: (full) => `${gitUrl}/${full}.git`,
    apiUrl,
    serverUrl: gitUrl,
    issueToken: () => {
      const t = `ghs_${randomBytes(18).toString("hex")}`;
      tokens.push(t);
      noWorkflow.push(t);
      return t;
    },
    revokeToken: (t) => {
      tokens.splice(tokens.indexOf(t), 1);
    },
  });

  late.runner = runner;

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
      "x-ratelimit-resource": "core",
      ...headers,
    });
    res.end(body === undefined ? "" : JSON.stringify(body));
  }

  const repoJson = (r: RepoInfo) => ({
    id: 1,
    name: r.fullName.split("/")[1],
    full_name: r.fullName,
    private: r.private,
    visibility: r.private ? "private" : "public",
    default_branch: "main",
    clone_url: `${gitUrl}/${r.fullName}.git`,
    html_url: `${gitUrl}/${r.fullName}`,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", apiUrl);
    requests.push({ method: req.method ?? "GET", path: url.pathname });
    if (injected) {
      const f = injected;
      if (--injected.times <= 0) injected = undefined;
      return send(res, f.status, { message: f.message, documentation_url: "https://docs.github.com/rest" }, f.headers);
    }
    const auth = /^(?:token|Bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const user = auth ? users.get(auth) : undefined;
    if (!user) return send(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    const body = await readBody(req);
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (req.method === "GET" && path === "/user") return send(res, 200, { login: user.login, id: 1, type: "User" });
    if (req.method === "POST" && path === "/user/repos") {
      const name = String(body.name ?? "");
      const full = `${user.login}/${name}`;
      if (repos.has(full)) return send(res, 422, { message: "Repository creation failed.", errors: [{ resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" }] });
      await createRepo(full, body.private === true);
      return send(res, 201, repoJson(repos.get(full)!));
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path)) && req.method === "GET") {
      const r = repos.get(`${m[1]}/${m[2]}`);
      return r ? send(res, 200, repoJson(r)) : send(res, 404, { message: "Not Found" });
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs$/.exec(path)) && req.method === "GET") {
      const full = `${m[1]}/${m[2]}`;
      if (!repos.has(full)) return send(res, 404, { message: "Not Found" });
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      const runs = (runner.runs.get(full) ?? []).slice(0, perPage).map((r) => ({
        id: r.id,
        name: "oc-sync merge",
        event: r.event,
        status: r.status,
        conclusion: r.conclusion,
        head_branch: r.head_branch,
        head_sha: r.head_sha,
        created_at: r.created_at,
        html_url: `${gitUrl}/${full}/actions/runs/${r.id}`,
      }));
      return send(res, 200, { total_count: runner.runs.get(full)?.length ?? 0, workflow_runs: runs });
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/.exec(path)) && req.method === "POST") {
      const r = repos.get(`${m[1]}/${m[2]}`);
      if (!r) return send(res, 404, { message: "Not Found" });
      await runner.dispatch(runnerRepo(r), String(body.ref ?? "main"));
      return send(res, 204, undefined);
    }
    return send(res, 404, { message: "Not Found" });
  }

  return {
    apiUrl,
    gitUrl,
    clientEnv: (token, passphrase) => ({ OC_SYNC_GITHUB_API: apiUrl, OC_SYNC_GITHUB_URL: gitUrl, GITHUB_TOKEN: token, OC_SYNC_PASSPHRASE: passphrase }),
    runner,
    git,
    requests,
    addUser(token, user) {
      users.set(token, user);
      tokens.push(token);
      if (!user.workflows) noWorkflow.push(token);
    },
    createRepo,
    gitDir: (full) => repos.get(full)!.gitDir,
    failNext(status, o = {}) {
      injected = { status, headers: o.headers ?? {}, message: o.message ?? `injected ${status}`, times: o.times ?? 1 };
    },
    async close() {
      await runner.idle();
      await git.close();
      await new Promise<void>((r) => {
        api.closeAllConnections();
        api.close(() => r());
      });
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
