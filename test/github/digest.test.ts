// The audit trail in a normal month: clients move main themselves ([skip ci], no run), and the
// daily scheduled run's digest still names every commit that reached main, once.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import { makeUsedHome, type TestHome } from "../support/opencode-home.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "standin-token-dora-0123456789abcdef";
const PASSPHRASE = "a long passphrase for the digest";
const SECRET_THEME = "theme-value-never-in-a-digest";
const REPO = "dora/oc-audit";
let gh: GitHubStandIn;
let north: TestHome;
let south: TestHome;

const cli = async (h: TestHome, ...args: string[]) => {
  const r = await runCli(h.env, args);
  if (r.code !== 0) throw new Error(`oc-sync ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
};
const git = async (...args: string[]) => (await runGit(["--git-dir", gh.gitDir(REPO), ...args])).stdout.toString().trim();
const runs = () => gh.runner.runs.get(REPO) ?? [];
async function scheduledRun(conclusion: "success" | "failure" = "success") {
  await gh.runner.schedule({ fullName: REPO, gitDir: gh.gitDir(REPO) });
  await gh.runner.idle();
  const run = runs()[0]!; // newest first, as GitHub lists them
  expect(run.event).toBe("schedule");
  expect(run.conclusion, run.log).toBe(conclusion);
  return run;
}
/** The commits a run's digest names: its summary table's rows, which its log's digest group must name too. */
function named(run: { summary: string; log: string }): Set<string> {
  const section = run.summary.slice(run.summary.indexOf("main since the last digest"));
  const inSummary = new Set([...section.matchAll(/<td>([0-9a-f]{12})<\/td>/g)].map((m) => m[1]!));
  const group = run.log.slice(run.log.indexOf("::group::digest"), run.log.indexOf("::endgroup::", run.log.indexOf("::group::digest")));
  const inLog = new Set([...group.matchAll(/^(?: {2}brought )?([0-9a-f]{12}) /gm)].map((m) => m[1]!));
  expect(inLog).toEqual(inSummary);
  return inSummary;
}
const short = (oids: readonly string[]) => new Set(oids.map((o) => o.slice(0, 12)));
const SLOW = 180_000;

beforeAll(async () => {
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "dora", workflows: true });
  const root = await tempDir();
  [north, south] = ["north", "south"].map((n) => makeUsedHome(root, n, gh.clientEnv(TOKEN, PASSPHRASE))) as [TestHome, TestHome];
});
afterAll(() => gh.close());

describe("the digest in the scheduled run", () => {
  let digested: string[] = [];

  it("names every commit two machines put into main without a run, with machine, records and merges", async () => {
    writeFileSync(join(north.config, "opencode.json"), JSON.stringify({ theme: SECRET_THEME }));
    await cli(north, "init", "--github", REPO, "--machine", "north");
    await cli(south, "init", "--github", REPO, "--machine", "south");
    writeFileSync(join(north.config, "AGENTS.md"), "north's rules\n");
    await cli(north, "sync");
    writeFileSync(join(south.config, "tui.json"), '{"from":"south"}');
    await cli(south, "sync");
    await gh.runner.idle();
    expect(runs()).toEqual([]);

    const run = await scheduledRun();
    digested = (await git("rev-list", "main")).split("\n");
    expect(digested.length).toBeGreaterThanOrEqual(4);
    expect(named(run)).toEqual(short(digested));
    expect(run.summary).toMatch(/north<\/td><td>changes<\/td><td>config \+\d/);
    expect(run.summary).toMatch(/south<\/td><td>changes<\/td><td>config \+1/);
    expect(run.summary).not.toMatch(/unknown/);
    expect(run.log).toMatch(/digest: \d+ move\(s\) of main since its first commit/);
    expect(run.summary + run.log).not.toContain(SECRET_THEME);
    // The position is kept in the repo: main as this digest reported it.
    expect(await git("log", "-1", "--format=%B", "refs/heads/oc-sync/digest")).toContain(`Oc-Sync-Digested: ${await git("rev-parse", "main")}`);
    expect(await git("ls-tree", "refs/heads/oc-sync/digest")).toBe("");
  }, SLOW);

  it("'oc-sync log' shows the same digest on a machine", async () => {
    // south made main's tip and has not fetched the digest's position since: the same range as the run's.
    const log = await cli(south, "log");
    const lines = log.stdout.split("\n").filter((l) => /^([0-9a-f]{12}|  brought [0-9a-f]{12}) /.test(l));
    expect(lines.length).toBe(digested.length);
    for (const line of lines) expect(runs().at(-1)!.log).toContain(line);
  }, SLOW);

  it("the next scheduled run names none of them again, and a later commit once", async () => {
    const again = await scheduledRun();
    expect(named(again), again.log).toEqual(new Set());
    expect(again.summary).toMatch(/main has not moved since the last digest/);

    const position = /Oc-Sync-Digested: (\w+)/.exec(await git("log", "-1", "--format=%B", "refs/heads/oc-sync/digest"))![1]!;
    writeFileSync(join(south.config, "tui.json"), '{"from":"south, later"}');
    await cli(south, "sync");
    const later = await scheduledRun();
    const fresh = (await git("rev-list", "main", `^${position}`)).split("\n").filter(Boolean);
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(named(later)).toEqual(short(fresh));
  }, SLOW);

  it("a digest that could not move its position reports the same moves again, never fewer", async () => {
    const before = await git("rev-parse", "refs/heads/oc-sync/digest");
    writeFileSync(join(north.config, "AGENTS.md"), "north's rules, v2\n");
    await cli(north, "sync");
    const head = await git("rev-parse", "main");
    // The position's ref locked on the server: the run reports, then cannot record where it ended.
    writeFileSync(join(gh.gitDir(REPO), "refs", "heads", "oc-sync", "digest.lock"), "");
    const failed = await scheduledRun("failure");
    expect(named(failed)).toContain(head.slice(0, 12));
    expect(failed.log).toMatch(/could not record where this digest ended \(the next run reports these moves again\)/);
    expect(await git("rev-parse", "refs/heads/oc-sync/digest")).toBe(before);
    rmSync(join(gh.gitDir(REPO), "refs", "heads", "oc-sync", "digest.lock"), { force: true });
    const retried = await scheduledRun();
    expect(named(retried)).toEqual(named(failed));
  }, SLOW);
});

