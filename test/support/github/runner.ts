// A stand-in for GitHub's Actions runner, for what oc-sync's workflow uses, as GitHub documents it:
// a push to a branch runs the workflows of the *pushed commit* whose `on.push.branches` match;
// a head commit saying [skip ci] starts nothing; pushes made with the run's GITHUB_TOKEN start
// nothing; one job at a time per concurrency group, a newer pending run replacing the older
// pending one; each job checks the repository out into a fresh workspace the way actions/checkout
// does with the step's `with:` (see checkout below), runs a local action (`uses: ./…`, its
// action.yml read from the checkout) as `runs.main` under node24, and a `run:` step as a script
// file under `bash -e` (GitHub's unspecified shell on Linux), each step with GitHub's environment
// (GITHUB_*, INPUT_* from action.yml defaults and `with:`, RUNNER_TEMP, and a GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY file of its own) and `${{ github.token }}` and `${{ steps.<id>.outputs.<name> }}`
// expanded in `with:` and `run:`.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { runGit } from "../../../git/run.js";

export interface WorkflowRun {
  readonly id: number;
  readonly event: "push" | "workflow_dispatch" | "schedule";
  readonly head_branch: string;
  readonly head_sha: string;
  readonly created_at: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "cancelled" | null;
  log: string;
  summary: string;
  /** Every step's outputs, together (what the runs of the sync repo's one-action job report). */
  outputs: Record<string, string>;
  /** Outputs by step id: the `steps` context of the run's last job. */
  steps: Record<string, { outputs: Record<string, string> }>;
  /** What the checkout step left on the runner's disk: the workspace's files, and the blobs in its .git. */
  checkedOut: { files: string[]; blobs: number } | null;
}

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  with?: Record<string, unknown>;
}

interface Workflow {
  on?: { push?: { branches?: string[] }; workflow_dispatch?: unknown; schedule?: unknown };
  concurrency?: { group?: string; "cancel-in-progress"?: boolean };
  jobs?: Record<string, { steps?: Step[] }>;
}

/** One job on its runner: the workspace, RUNNER_TEMP, the run's token, and the `steps` context so far. */
interface Job {
  readonly repo: RunnerRepo;
  readonly run: WorkflowRun;
  readonly workspace: string;
  readonly temp: string;
  readonly token: string;
  readonly steps: Record<string, { outputs: Record<string, string> }>;
  stepCount: number;
}

interface ActionYml {
  inputs?: Record<string, { default?: string }>;
  runs?: { using?: string; main?: string };
}

export interface RunnerRepo {
  readonly fullName: string;
  readonly gitDir: string;
}

export interface RunnerOptions {
  readonly gitUrl: (fullName: string) => string;
  readonly apiUrl: string;
  readonly serverUrl: string;
  /** Registers a token for one run; it can push contents but not workflows. */
  readonly issueToken: () => string;
  readonly revokeToken: (token: string) => void;
}

const SKIP = /\[(skip ci|ci skip|no ci|skip actions|actions skip)\]/i;

export function branchMatches(pattern: string, branch: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*");
  return new RegExp(`^${re}$`).test(branch);
}

export class ActionsRunner {
  readonly runs = new Map<string, WorkflowRun[]>();
  private readonly busy = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, { run: WorkflowRun; job: () => Promise<void> }>();
  private nextId = 1;
  private readonly actionsTokens = new Set<string>();
  private held = false;

  constructor(private readonly o: RunnerOptions) {}

  isActionsToken(token: string): boolean {
    return this.actionsTokens.has(token);
  }

  /** Called by the git server after a push. */
  async onPush(repo: RunnerRepo, token: string, updates: readonly { ref: string; after: string | null }[]): Promise<void> {
    if (this.isActionsToken(token)) return;
    for (const u of updates) {
      if (!u.after || !u.ref.startsWith("refs/heads/")) continue;
      const branch = u.ref.slice("refs/heads/".length);
      const message = (await runGit(["--git-dir", repo.gitDir, "log", "-1", "--format=%B", u.after])).stdout.toString();
      if (SKIP.test(message)) continue;
      for (const wf of await this.workflowsAt(repo, u.after)) {
        if ((wf.on?.push?.branches ?? []).some((p) => branchMatches(p, branch))) this.enqueue(repo, wf, "push", branch, u.after);
      }
    }
  }

  async dispatch(repo: RunnerRepo, ref: string): Promise<void> {
    await this.trigger(repo, "workflow_dispatch", ref);
  }

  /** The cron trigger's run: GitHub starts it on the latest commit of the default branch. */
  async schedule(repo: RunnerRepo): Promise<void> {
    await this.trigger(repo, "schedule", "main");
  }

  private async trigger(repo: RunnerRepo, event: "workflow_dispatch" | "schedule", ref: string): Promise<void> {
    const sha = (await runGit(["--git-dir", repo.gitDir, "rev-parse", `refs/heads/${ref}`])).stdout.toString().trim();
    for (const wf of await this.workflowsAt(repo, sha)) if (wf.on && event in wf.on) this.enqueue(repo, wf, event, ref, sha);
  }

  /** Queues runs without starting them, as when every runner is busy, until `release()`. */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const [group, next] of [...this.pending]) {
      if (this.busy.has(group)) continue;
      this.pending.delete(group);
      this.start(group, next.job);
    }
  }

  /** Resolves when no run is queued or in progress (held runs count as queued: release them first). */
  async idle(): Promise<void> {
    while (this.busy.size || this.pending.size) {
      if (!this.busy.size && this.held) throw new Error("runs are held: release() them before waiting for them");
      await Promise.all([...this.busy.values()]);
    }
  }

  private async workflowsAt(repo: RunnerRepo, sha: string): Promise<Workflow[]> {
    const names = (await runGit(["--git-dir", repo.gitDir, "ls-tree", "--name-only", `${sha}:.github/workflows/`], { okCodes: [128] })).stdout.toString().split("\n").filter((n) => /\.ya?ml$/.test(n));
    const out: Workflow[] = [];
    for (const n of names) out.push(parse((await runGit(["--git-dir", repo.gitDir, "show", `${sha}:.github/workflows/${n}`])).stdout.toString()) as Workflow);
    return out;
  }

  private enqueue(repo: RunnerRepo, wf: Workflow, event: WorkflowRun["event"], branch: string, sha: string): void {
    const run: WorkflowRun = { id: this.nextId++, event, head_branch: branch, head_sha: sha, created_at: new Date().toISOString(), status: "queued", conclusion: null, log: "", summary: "", outputs: {}, steps: {}, checkedOut: null };
    const list = this.runs.get(repo.fullName) ?? [];
    list.unshift(run);
    this.runs.set(repo.fullName, list);
    const group = `${repo.fullName}:${wf.concurrency?.group ?? `run-${run.id}`}`;
    const job = () => this.execute(repo, wf, run);
    if (!this.busy.has(group) && !this.held) return this.start(group, job);
    // GitHub keeps at most one pending run per group: the newer one cancels the older.
    const older = this.pending.get(group);
    if (older) {
      older.run.status = "completed";
      older.run.conclusion = "cancelled";
    }
    this.pending.set(group, { run, job });
  }

  private start(group: string, job: () => Promise<void>): void {
    const p = job().finally(() => {
      this.busy.delete(group);
      if (this.held) return;
      const next = this.pending.get(group);
      this.pending.delete(group);
      if (next) this.start(group, next.job);
    });
    this.busy.set(group, p);
  }

  private async execute(repo: RunnerRepo, wf: Workflow, run: WorkflowRun): Promise<void> {
    run.status = "in_progress";
    const token = this.o.issueToken();
    this.actionsTokens.add(token);
    const temp = mkdtempSync(join(tmpdir(), "oc-sync-runner-"));
    try {
      for (const steps of Object.values(wf.jobs ?? {}).map((j) => j.steps ?? [])) {
        const job: Job = { repo, run, workspace: join(temp, "workspace"), temp, token, steps: {}, stepCount: 0 };
        run.steps = job.steps;
        for (const step of steps) await this.runStep(job, step);
      }
      run.conclusion = "success";
    } catch (e) {
      run.log += `\n##[error]${(e as Error).message}\n`;
      run.conclusion = "failure";
    } finally {
      run.status = "completed";
      this.o.revokeToken(token);
      // A hosted runner's machine is discarded after the job; here its folder is.
      rmSync(temp, { recursive: true, force: true });
    }
  }

  private async runStep(job: Job, step: Step): Promise<void> {
    // A condition this runner would not evaluate must not be taken as true.
    if (step.if !== undefined) throw new Error(`the stand-in runner does not implement a step's if: (${step.if})`);
    let outputs: Record<string, string> = {};
    if (step.uses?.startsWith("actions/checkout@")) {
      await checkout(job.workspace, this.o.gitUrl(job.repo.fullName), job.token, { sha: job.run.head_sha, branch: job.run.head_branch }, step.with ?? {}, this.o.serverUrl);
      job.run.checkedOut = await onDisk(job.workspace);
    } else if (step.uses?.startsWith("./")) outputs = await this.runAction(job, step.uses, expandAll(step.with ?? {}, job));
    else if (step.run !== undefined) outputs = await this.runScript(job, expand(step.run, job), step.shell);
    else throw new Error(`the stand-in runner does not know step ${JSON.stringify(step)}`);
    Object.assign(job.run.outputs, outputs);
    if (step.id) job.steps[step.id] = { outputs };
  }

  /** A local action: action.yml from the checkout, `runs.main` under node24, inputs as INPUT_* (defaults from action.yml). */
  private async runAction(job: Job, uses: string, withInputs: Record<string, string>): Promise<Record<string, string>> {
    const dir = join(job.workspace, uses.slice(2));
    const file = ["action.yml", "action.yaml"].map((n) => join(dir, n)).find((f) => existsSync(f));
    if (!file) throw new Error(`can't find 'action.yml' or 'action.yaml' under '${dir}' (uses: ${uses}): did the checkout step run?`);
    const action = parse(readFileSync(file, "utf8")) as ActionYml;
    const main = action.runs?.main;
    if (action.runs?.using !== "node24" || !main) throw new Error(`action ${uses} must have runs.using node24 and runs.main; this runner has node24`);
    const inputs: Record<string, string> = {};
    // @actions/core's getInput reads INPUT_ + the name with spaces as underscores, upper-cased (hyphens stay).
    for (const [name, spec] of Object.entries(action.inputs ?? {})) inputs[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = withInputs[name] ?? expand(spec.default ?? "", job);
    // This runner's own Node is the node24 the action asks for.
    return this.spawnStep(job, `action ${uses}`, process.execPath, [join(dir, main)], inputs);
  }

  /** A `run:` step: the script in a file under RUNNER_TEMP, run by the shell GitHub uses for `shell:` on Linux. */
  private runScript(job: Job, script: string, shell: string | undefined): Promise<Record<string, string>> {
    const shells: Record<string, string[]> = { default: ["bash", "-e"], bash: ["bash", "--noprofile", "--norc", "-eo", "pipefail"], sh: ["sh", "-e"] };
    const command = shells[shell ?? "default"];
    if (!command) throw new Error(`the stand-in runner does not implement shell: ${shell}`);
    const file = join(job.temp, `${randomUUID()}.sh`);
    writeFileSync(file, script);
    return this.spawnStep(job, "the run: step", command[0]!, [...command.slice(1), file], {});
  }

  /** Runs one step's process in the workspace with GitHub's environment; its log, summary and outputs go to the run. */
  private async spawnStep(job: Job, what: string, command: string, args: string[], extra: NodeJS.ProcessEnv): Promise<Record<string, string>> {
    const n = ++job.stepCount;
    // Each step has GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files of its own, as on GitHub.
    const summary = join(job.temp, `summary-${n}.md`);
    const output = join(job.temp, `output-${n}.txt`);
    writeFileSync(summary, "");
    writeFileSync(output, "");
    const { repo, run } = job;
    mkdirSync(job.workspace, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: job.temp,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: job.workspace,
      GITHUB_REPOSITORY: repo.fullName,
      GITHUB_REPOSITORY_OWNER: repo.fullName.split("/")[0],
      GITHUB_SERVER_URL: this.o.serverUrl,
      GITHUB_API_URL: this.o.apiUrl,
      GITHUB_SHA: run.head_sha,
      GITHUB_REF: `refs/heads/${run.head_branch}`,
      GITHUB_REF_NAME: run.head_branch,
      GITHUB_EVENT_NAME: run.event,
      GITHUB_RUN_ID: String(run.id),
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
      RUNNER_TEMP: job.temp,
      ...extra,
    };
    const code = await new Promise<number>((resolve) => {
      const child = spawn(command, args, { cwd: job.workspace, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (d: Buffer) => (run.log += d));
      child.stderr.on("data", (d: Buffer) => (run.log += d));
      child.on("error", (e) => ((run.log += `${e.message}\n`), resolve(127)));
      child.on("close", (c) => resolve(c ?? 1));
    });
    run.summary += readFileSync(summary, "utf8");
    const outputs = parseOutputs(readFileSync(output, "utf8"));
    if (code !== 0) throw new Error(`${what} exited with ${code}`);
    return outputs;
  }
}

/**
 * `${{ … }}` in a step's text, for the contexts this runner has: `github.token` and
 * `steps.<id>.outputs.<name>` (an output not set is '', as on GitHub). Any other expression is
 * refused, not passed through as text.
 */
function expand(text: string, job: Job): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    if (expr === "github.token") return job.token;
    const m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (m) return job.steps[m[1]!]?.outputs[m[2]!] ?? "";
    throw new Error(`the stand-in runner does not evaluate \${{ ${expr} }}`);
  });
}

function expandAll(values: Record<string, unknown>, job: Job): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, expand(String(v), job)]));
}

/** The `with:` of the first job's actions/checkout step in a workflow's text. */
export function checkoutStepInputs(workflow: string): Record<string, unknown> {
  const jobs = Object.values((parse(workflow) as Workflow).jobs ?? {});
  const step = jobs[0]?.steps?.find((s) => s.uses?.startsWith("actions/checkout@"));
  if (!step) throw new Error("the workflow's first job has no actions/checkout step");
  return step.with ?? {};
}

/** The inputs of actions/checkout (its action.yml) this stand-in implements; any other is refused, not ignored. */
const CHECKOUT_INPUTS = ["fetch-depth", "filter", "sparse-checkout", "persist-credentials"];

/**
 * actions/checkout as its source (git-source-provider.ts) does it, for a branch's commit: init,
 * add the remote, fetch (`fetch-depth` commits of that commit, default 1, or every branch and then
 * that commit at 0; `filter`, which a sparse checkout defaults to blob:none), `git sparse-checkout
 * set` of the patterns (cone mode, its default), then a checkout, which fetches the blobs it lacks.
 * With `persist-credentials: false` the token reaches git through the environment only; with the
 * default (true) it is in the workspace's .git/config, as v5's git-auth-helper.ts writes it:
 * `http.<server origin>/.extraheader` = `AUTHORIZATION: basic base64(x-access-token:TOKEN)`.
 */
export async function checkout(workspace: string, url: string, token: string, head: { sha: string; branch: string }, inputs: Record<string, unknown>, serverUrl = new URL(url).origin): Promise<void> {
  const unknown = Object.keys(inputs).filter((k) => !CHECKOUT_INPUTS.includes(k));
  if (unknown.length) throw new Error(`the stand-in runner does not implement actions/checkout's input(s) ${unknown.join(", ")}`);
  const persist = String(inputs["persist-credentials"] ?? true) !== "false";
  const depth = Number(inputs["fetch-depth"] ?? 1);
  const sparse = String(inputs["sparse-checkout"] ?? "").split("\n").map((p) => p.trim()).filter(Boolean);
  const filter = inputs.filter !== undefined ? String(inputs.filter) : sparse.length ? "blob:none" : undefined;
  const git = (args: string[]) => runGit(["-C", workspace, ...args], persist ? {} : { auth: { token } });
  await runGit(["init", "-q", workspace]);
  await git(["remote", "add", "origin", url]);
  await git(["config", "--local", "gc.auto", "0"]);
  if (persist) await git(["config", "--local", `http.${new URL(serverUrl).origin}/.extraheader`, `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`]);
  const fetch = ["-c", "protocol.version=2", "fetch", "-q", "--no-tags", "--prune", "--no-recurse-submodules"];
  if (filter) fetch.push(`--filter=${filter}`);
  const tracking = `refs/remotes/origin/${head.branch}`;
  if (depth > 0) await git([...fetch, `--depth=${depth}`, "origin", `+${head.sha}:${tracking}`]);
  else {
    await git([...fetch, "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]);
    // The branch may have moved since the run's commit was pushed: the action then fetches that commit.
    await git([...fetch, "origin", `+${head.sha}:${tracking}`]);
  }
  if (sparse.length) await git(["sparse-checkout", "set", ...sparse]);
  await git(["checkout", "-q", "--force", "-B", head.branch, tracking]);
}

/** The files a workspace holds outside .git, and how many blobs its object store holds (a partial clone's lacks the rest). */
async function onDisk(workspace: string): Promise<{ files: string[]; blobs: number }> {
  const files = readdirSync(workspace, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(workspace, join(e.parentPath, e.name)))
    .filter((p) => p !== ".git" && !p.startsWith(".git/"))
    .sort();
  const types = (await runGit(["-C", workspace, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype)"])).stdout.toString().split("\n");
  return { files, blobs: types.filter((t) => t === "blob").length };
}

/** GITHUB_OUTPUT holds `name=value` lines and `name<<DELIMITER` blocks (what @actions/core writes). */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const single = /^([^<=]+)=(.*)$/.exec(lines[i]!);
    if (single) out[single[1]!] = single[2]!;
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join("\n");
  }
  return out;
}
