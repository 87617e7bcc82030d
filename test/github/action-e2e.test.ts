// End to end through the GitHub stand-in: init --github, three machines in action-merge mode,
// the bundled Action (dist/action.js, vendored into the sync repo) run by the stand-in runner.
import { spawn } from "node:child_process";
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKFLOW, WORKFLOW_PATH } from "../../client/github/workflow.js";
import { GitRepo } from "../../git/repo.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { checkout, checkoutStepInputs } from "../support/github/runner.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import { addSession, makeHome, makeUsedHome, openDb, type TestHome } from "../support/opencode-home.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "standin-token-ana-0123456789abcdef";
const NO_WORKFLOW_TOKEN = "standin-token-bob-fedcba9876543210";
const PASSPHRASE = "a long passphrase for the e2e";
const CANARY = "sk-e2e-canary-5e8f1a";
let gh: GitHubStandIn;
let root: string;
let homes: TestHome[];

beforeAll(async () => {
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "ana", workflows: true });
  gh.addUser(NO_WORKFLOW_TOKEN, { login: "bob", workflows: false });
  root = await tempDir();
  homes = ["alpha", "beta", "gamma"].map((n) => makeUsedHome(root, n, gh.clientEnv(TOKEN, PASSPHRASE)));
});
afterAll(() => gh.close());

const cli = async (h: TestHome, ...args: string[]) => {
  const r = await runCli(h.env, args);
  if (r.code !== 0 && r.code !== 3) throw new Error(`oc-sync ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
};
const runsOf = () => gh.runner.runs.get("ana/oc-data") ?? [];
const cfg = (h: TestHome) => join(h.config, "opencode.jsonc");
const setTheme = (h: TestHome, theme: string) => writeFileSync(cfg(h), readFileSync(cfg(h), "utf8").replace(/"theme": "[^"]*"/, `"theme": "${theme}"`));
const isInMain = async (machine: string) => (await runGit(["--git-dir", gh.gitDir("ana/oc-data"), "merge-base", "--is-ancestor", `machines/${machine}`, "main"], { okCodes: [1] })).code === 0;
/** gamma moves main; alpha and beta then change the same setting: only the Action may decide those. */
async function competingThemes(name: string): Promise<void> {
  const [a, b, c] = homes as [TestHome, TestHome, TestHome];
  setTheme(c, `gamma-${name}`);
  await cli(c, "sync");
  setTheme(a, `alpha-${name}`);
  setTheme(b, `beta-${name}`);
}
/** Every machine syncs twice (the second round brings each what the others' first round merged); their themes. */
async function convergedThemes(): Promise<Set<string>> {
  for (let round = 0; round < 2; round++) for (const h of homes) await cli(h, "sync");
  return new Set(homes.map((h) => /"theme": "([^"]*)"/.exec(readFileSync(cfg(h), "utf8"))![1]!));
}
// Each step runs the CLI several times as child processes; give them room on a busy machine.
const SLOW = 180_000;

describe("the merge Action through a GitHub stand-in", () => {
  it("init --github creates a private repository with the workflow and the vendored Action", async () => {
    const [a] = homes;
    writeFileSync(join(a!.config, "opencode.jsonc"), `{\n  // shared settings\n  "theme": "dark",\n  "model": "x/y"\n}\n`);
    writeFileSync(join(a!.data, "auth.json"), JSON.stringify({ openai: { type: "api", key: CANARY } }));
    chmodSync(join(a!.data, "auth.json"), 0o600);
    const r = await cli(a!, "init", "--github", "ana/oc-data", "--machine", "alpha");
    expect(r.stdout).toMatch(/created private repository ana\/oc-data/);
    const tree = (await runGit(["--git-dir", gh.gitDir("ana/oc-data"), "ls-tree", "-r", "--name-only", "main"])).stdout.toString();
    expect(tree).toContain(".github/workflows/oc-sync.yml");
    expect(tree).toContain(".github/actions/oc-sync/action.yml");
    expect(tree).toContain(".github/actions/oc-sync/dist/action.js");
    expect(tree).toContain("config/opencode.jsonc");
    expect(gh.requests.map((q) => `${q.method} ${q.path}`)).toEqual(expect.arrayContaining(["GET /repos/ana/oc-data", "GET /user", "POST /user/repos"]));
    await gh.runner.idle();
    expect(runsOf()).toEqual([]);
  }, SLOW);

  it("later machines adopt the repository; edits that fast-forward start no workflow run", async () => {
    const [a, b, c] = homes;
    await cli(b!, "init", "--github", "ana/oc-data", "--machine", "beta");
    await cli(c!, "init", "--github", "ana/oc-data", "--machine", "gamma");
    expect(readFileSync(join(c!.data, "auth.json"), "utf8")).toContain(CANARY);
    // Joining machines bring their own project row, which meets alpha's: that is a real merge.
    await gh.runner.idle();
    for (const h of [a!, b!, c!]) await cli(h, "sync");
    const runsBefore = runsOf().length;
    writeFileSync(join(a!.config, "AGENTS.md"), "keep answers short\n");
    const pushed = await cli(a!, "sync", "--json");
    expect(JSON.parse(pushed.stdout)).toMatchObject({ outcome: "fast-forward" });
    const pulled = await cli(b!, "sync", "--json");
    expect(JSON.parse(pulled.stdout), pulled.stdout).toMatchObject({ outcome: "pulled" });
    await gh.runner.idle();
    expect(readFileSync(join(b!.config, "AGENTS.md"), "utf8")).toBe("keep answers short\n");
    expect(runsOf().length).toBe(runsBefore);
  }, SLOW);

  it("an edit meeting main's newer version of the same file merges here, cleanly, without a workflow run", async () => {
    const [a, b] = homes as [TestHome, TestHome];
    const history = (h: TestHome) => join(h.state, "prompt-history.jsonl");
    const prompt = (h: TestHome, text: string) => appendFileSync(history(h), JSON.stringify({ input: text, parts: [], mode: "normal" }) + "\n");
    for (const h of homes) await cli(h, "sync");
    await gh.runner.idle();
    const runsBefore = runsOf().length;
    // Both machines keep typing; beta never syncs before its next prompt, so each of its syncs meets alpha's newer history.
    for (let round = 0; round < 3; round++) {
      prompt(a, `alpha ${round}`);
      expect(JSON.parse((await cli(a, "sync", "--json")).stdout)).toMatchObject({ outcome: round === 0 ? "fast-forward" : "merged" });
      prompt(b, `beta ${round}`);
      expect(JSON.parse((await cli(b, "sync", "--json")).stdout)).toMatchObject({ outcome: "merged" });
    }
    await cli(a, "sync");
    await gh.runner.idle();
    expect(runsOf().length).toBe(runsBefore);
    for (const h of [a, b]) {
      const lines = readFileSync(history(h), "utf8");
      for (let round = 0; round < 3; round++) {
        expect(lines).toContain(`alpha ${round}`);
        expect(lines).toContain(`beta ${round}`);
      }
    }
    expect(readFileSync(history(a), "utf8")).toBe(readFileSync(history(b), "utf8"));
  }, SLOW);

  it("concurrent edits on three machines converge after the Action merges them", async () => {
    const [a, b, c] = homes as [TestHome, TestHome, TestHome];
    const edit = (h: TestHome, from: string, to: string) => writeFileSync(cfg(h), readFileSync(cfg(h), "utf8").replace(from, to));
    edit(a, '"dark"', '"light"');
    // A plugin (executable: held unless it comes from the user's machines) in a file the Action must merge.
    edit(b, '"x/y"', '"x/z",\n  "plugin": ["from-beta"]');
    edit(c, '"dark"', '"solarized"');
    const sessions = homes.map((h) => {
      const db = openDb(h);
      const s = addSession(db, h, { messages: 2 });
      db.close();
      return s.id;
    });
    for (const h of homes) await cli(h, "sync");
    await gh.runner.idle();
    const runs = runsOf();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.every((r) => r.conclusion === "success" || r.conclusion === "cancelled")).toBe(true);
    for (const h of homes) await cli(h, "sync");
    await gh.runner.idle();
    for (const h of homes) await cli(h, "sync");
    const texts = homes.map((h) => readFileSync(cfg(h), "utf8"));
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain("// shared settings");
    expect(texts[0]).toContain('"model": "x/z"');
    // The Action's merges are redone by each machine from the signed versions they name: nothing held.
    expect(texts[0]).toMatch(/"plugin": \[\s*"from-beta"\s*\]/);
    for (const h of homes) expect((await cli(h, "review")).stdout).toContain("nothing held");
    expect(texts[0]).toMatch(/"theme": "(light|solarized)"/);
    for (const h of homes) {
      const db = openDb(h);
      expect(db.prepare(`SELECT count(*) AS n FROM session WHERE id IN (${sessions.map((s) => `'${s}'`).join(",")})`).get()).toEqual({ n: 3 });
      db.close();
    }
    const conflicts = JSON.parse((await cli(a, "conflicts", "--json")).stdout) as { path: string; at: string }[];
    expect(conflicts).toEqual(expect.arrayContaining([expect.objectContaining({ path: "config/opencode.jsonc", at: "/theme" })]));
    const merged = runs.filter((r) => r.conclusion === "success" && Number(r.outputs.merged) > 0);
    expect(merged.length).toBeGreaterThanOrEqual(1);
    expect(merged.map((r) => r.summary).join("\n")).toMatch(/\| machine branch \|.*\n|<th>machine branch<\/th>/);
    expect(merged.map((r) => r.log).join("\n")).toMatch(/config\/opencode\.jsonc: concurrent → merged/);
  }, SLOW);

  it("an older workflow in the sync repo (a full checkout) is replaced by the next init --github", async () => {
    const [a] = homes as [TestHome];
    const older = WORKFLOW.replace(/ {6}# Only the vendored[\s\S]*?(?= {6}- uses: \.\/)/, "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n          persist-credentials: false\n");
    expect(older).not.toBe(WORKFLOW);
    const server = new GitRepo(gh.gitDir("ana/oc-data"));
    const main = (await server.revParse("refs/heads/main"))!;
    const commit = await server.commit({ parents: [main], message: "an older oc-sync's workflow [skip ci]", changes: [[WORKFLOW_PATH, Buffer.from(older)]] });
    await server.updateRef("refs/heads/main", commit, main);
    const r = await cli(a, "init", "--github", "ana/oc-data", "--machine", "alpha");
    expect(r.stdout).toMatch(/installed the merge workflow/);
    expect((await server.readBlob(`refs/heads/main:${WORKFLOW_PATH}`))?.toString()).toBe(WORKFLOW);
    server.close();
    await gh.runner.idle();
    for (const h of homes) await cli(h, "sync");
  }, SLOW);

  it("a run puts only the vendored Action on the runner's disk (no record file, no record blob), and its merge lands", async () => {
    const [a, b] = homes as [TestHome, TestHome];
    await competingThemes("checkout");
    const before = runsOf().length;
    for (const h of [a, b]) expect(JSON.parse((await cli(h, "sync", "--json")).stdout)).toMatchObject({ outcome: "waiting-for-action" });
    await gh.runner.idle();
    const runs = runsOf().slice(0, runsOf().length - before);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const tree = (await runGit(["--git-dir", gh.gitDir("ana/oc-data"), "ls-tree", "-r", "--name-only", "main"])).stdout.toString();
    expect(tree).toMatch(/^db\//m);
    for (const run of runs.filter((x) => x.conclusion !== "cancelled")) {
      expect(run.conclusion, run.log).toBe("success");
      expect(run.checkedOut?.files).toEqual([".github/actions/oc-sync/action.yml", ".github/actions/oc-sync/dist/action.js"]);
      expect(run.checkedOut?.blobs).toBe(2);
    }
    expect([await isInMain("alpha"), await isInMain("beta")]).toEqual([true, true]);
    expect((await convergedThemes()).size).toBe(1);
  }, SLOW);

  it("logs, job summaries and the repository's history hold no plaintext secret", async () => {
    const everything = runsOf().map((r) => r.log + r.summary + JSON.stringify(r.outputs)).join("\n");
    const objects = (await runGit(["--git-dir", gh.gitDir("ana/oc-data"), "cat-file", "--batch-all-objects", "--batch"])).stdout.toString("latin1");
    for (const secret of [CANARY, PASSPHRASE, TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString("base64")]) {
      expect(everything).not.toContain(secret);
      expect(objects).not.toContain(secret);
    }
    const log = await cli(homes[0]!, "log", "--json");
    expect((JSON.parse(log.stdout) as { runs: unknown[] }).runs.length).toBe(runsOf().length);
  }, SLOW);

  it("two Action runs racing for main lose nothing", async () => {
    const [a, b] = homes as [TestHome, TestHome];
    await competingThemes("theme");
    writeFileSync(join(a.config, "AGENTS.md"), "alpha's rules\n");
    writeFileSync(join(b.config, "tui.json"), '{"from":"beta"}');
    gh.runner.hold();
    expect(JSON.parse((await cli(a, "sync", "--json")).stdout)).toMatchObject({ outcome: "waiting-for-action" });
    expect(JSON.parse((await cli(b, "sync", "--json")).stdout)).toMatchObject({ outcome: "waiting-for-action" });
    expect([await isInMain("alpha"), await isInMain("beta")]).toEqual([false, false]);
    // Two runs start at once, outside the concurrency group; the queued ones follow.
    await Promise.all([runActionDirectly(), runActionDirectly()]);
    expect([await isInMain("alpha"), await isInMain("beta")]).toEqual([true, true]);
    gh.runner.release();
    await gh.runner.idle();
    const themes = await convergedThemes();
    expect(themes.size).toBe(1);
    for (const h of homes) {
      expect(readFileSync(join(h.config, "AGENTS.md"), "utf8")).toBe("alpha's rules\n");
      expect(readFileSync(join(h.config, "tui.json"), "utf8")).toBe('{"from":"beta"}');
    }
    // The two values that lost are kept as conflicts.
    const conflicts = JSON.parse((await cli(a, "conflicts", "--json")).stdout) as unknown[];
    const lost = ["gamma-theme", "alpha-theme", "beta-theme"].filter((t) => !themes.has(t));
    for (const t of lost) expect(JSON.stringify(conflicts)).toContain(t);
  }, SLOW);

  it("refuses a public repository", async () => {
    await gh.createRepo("ana/public-data", false);
    const h = makeHome(root, "delta", gh.clientEnv(TOKEN, PASSPHRASE));
    const r = await runCli(h.env, ["init", "--github", "ana/public-data"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ana\/public-data is public/);
    const tree = (await runGit(["--git-dir", gh.gitDir("ana/public-data"), "for-each-ref"])).stdout.toString();
    expect(tree).toBe("");
  }, SLOW);

  it("explains a token without the workflow permission", async () => {
    const h = makeHome(root, "bob", gh.clientEnv(NO_WORKFLOW_TOKEN, PASSPHRASE));
    const r = await runCli(h.env, ["init", "--github", "bob/data"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no permission to write workflows.*Workflows: read and write/);
    expect(r.stderr).not.toContain(NO_WORKFLOW_TOKEN);
  });
});

/** Runs the vendored Action the way the runner does, in its own workspace, with its own token. */
async function runActionDirectly(): Promise<void> {
  const token = `ghs_race_${Math.random().toString(36).slice(2)}`;
  gh.addUser(token, { login: "github-actions", workflows: false });
  const temp = await tempDir("oc-sync-race-");
  const ws = join(temp, "ws");
  const main = (await runGit(["--git-dir", gh.gitDir("ana/oc-data"), "rev-parse", "main"])).stdout.toString().trim();
  await checkout(ws, `${gh.gitUrl}/ana/oc-data.git`, token, { sha: main, branch: "main" }, checkoutStepInputs(WORKFLOW));
  writeFileSync(join(temp, "summary"), "");
  writeFileSync(join(temp, "output"), "");
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join(ws, ".github/actions/oc-sync/dist/action.js")], {
      env: { PATH: process.env.PATH, GITHUB_WORKSPACE: ws, GITHUB_REPOSITORY: "ana/oc-data", GITHUB_SERVER_URL: gh.gitUrl, GITHUB_STEP_SUMMARY: join(temp, "summary"), GITHUB_OUTPUT: join(temp, "output"), RUNNER_TEMP: temp, INPUT_TOKEN: token, INPUT_STRATEGY: "auto-merge", "INPUT_DRY-RUN": "false" },
      stdio: "ignore",
    });
    child.on("close", (c) => resolve(c ?? 1));
  });
  expect(code).toBe(0);
}
