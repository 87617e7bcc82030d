// This project's own .github/workflows/action.yml (the Action from the checkout, `uses: ./`, in dry
// run) executed by the stand-in runner. Against this project's own repository the Action finds no
// machine branch and reports 0, which shows little; so the repository here is a sync repo whose
// machine branch is ahead of main (two machines changed the same setting and wait for the Action),
// onto whose main a maintainer pushes this checkout's Action and that workflow. The push to main
// starts the job: checkout (actions/checkout's defaults), `uses: ./`, then the `run:` step.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import type { WorkflowRun } from "../support/github/runner.js";
import { makeUsedHome, type TestHome } from "../support/opencode-home.js";
import { waitFor } from "../support/opencode-real.js";
import { PASSPHRASE, sync } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REPO = "ana/oc-sync";
const TOKEN = "standin-token-maintainer-5f2c9a7e";
/** What the dry-run job reads from its checkout: the Action at the root, and the workflow itself. */
const ACTION_FILES = ["action.yml", "dist/action.js", ".github/workflows/action.yml"];
let gh: GitHubStandIn;
let run: WorkflowRun;
let pushed: string;

const mainOnRemote = async () => (await runGit(["--git-dir", gh.gitDir(REPO), "rev-parse", "refs/heads/main"])).stdout.toString().trim();
const betaInMain = async () => (await runGit(["--git-dir", gh.gitDir(REPO), "merge-base", "--is-ancestor", "machines/beta", "main"], { okCodes: [1] })).code === 0;

/** alpha and beta share a config, then both change its theme: alpha's reaches main, beta's waits for the Action. */
async function competingMachines(root: string): Promise<void> {
  const env = { ...gh.clientEnv(TOKEN, PASSPHRASE), OC_SYNC_REMOTE: `${gh.gitUrl}/${REPO}.git`, OC_SYNC_MERGE: "action" };
  const [alpha, beta] = ["alpha", "beta"].map((n) => makeUsedHome(root, n, env)) as [TestHome, TestHome];
  const theme = (h: TestHome, name: string) => writeFileSync(join(h.config, "opencode.jsonc"), `{\n  "theme": "${name}"\n}\n`);
  theme(alpha, "dark");
  await sync(alpha);
  await sync(beta);
  theme(alpha, "alpha");
  expect((await sync(alpha)).outcome).toBe("fast-forward");
  theme(beta, "beta");
  expect((await sync(beta)).outcome).toBe("waiting-for-action");
}

/** A maintainer's clone of main, with this checkout's Action files added, pushed back to main. */
async function pushActionFiles(root: string): Promise<string> {
  const work = join(root, "maintainer");
  const auth = { token: TOKEN };
  await runGit(["clone", "-q", "--branch", "main", `${gh.gitUrl}/${REPO}.git`, work], { auth });
  for (const f of ACTION_FILES) {
    mkdirSync(dirname(join(work, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(work, f));
  }
  const git = (...args: string[]) => runGit(["-C", work, "-c", "user.name=Ana", "-c", "user.email=ana@example.com", ...args], { auth });
  await git("add", "--", ...ACTION_FILES);
  await git("commit", "-q", "-m", "the merge Action at the root, and its dry-run workflow");
  await git("push", "-q", "origin", "main");
  return (await git("rev-parse", "HEAD")).stdout.toString().trim();
}

beforeAll(async () => {
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "ana", workflows: true });
  await gh.createRepo(REPO, false);
  const root = await tempDir();
  await competingMachines(root);
  pushed = await pushActionFiles(root);
  // The git server reports the push to the runner after answering it: wait for the run to be queued.
  run = await waitFor("the push to main to start the workflow", () => gh.runner.runs.get(REPO)?.[0]);
  await gh.runner.idle();
}, 180_000);
afterAll(() => gh.close());

describe("the project's `action` workflow (dry-run job) in the stand-in runner", () => {
  it("runs on the push to main and succeeds", () => {
    expect(run).toMatchObject({ event: "push", head_branch: "main", head_sha: pushed });
    expect(run.conclusion, run.log).toBe("success");
    expect(run.checkedOut?.files).toEqual(expect.arrayContaining(ACTION_FILES));
  });

  it("the Action reports the machine branch it would merge and its conflict, and main as it stays", () => {
    expect(run.steps.merge?.outputs).toEqual({ "main-sha": pushed, merged: "1", conflicts: "1" });
    expect(run.log).toMatch(/would move \(dry run\) main [0-9a-f]{40} → [0-9a-f]{40}, 1 branch\(es\), 1 conflict\(s\)/);
  });

  it("the run: step prints the outputs, expanded", () => {
    expect(run.log).toContain(`main after the dry run ${pushed}, 1 branch(es), 1 conflict(s)`);
  });

  it("leaves main on the remote where it was, without the machine branch", async () => {
    expect(await mainOnRemote()).toBe(pushed);
    expect(await betaInMain()).toBe(false);
  });
});
