// GitHub's REST API misbehaving, through the stand-in: rate limits with retry-after (429, and 403
// with x-ratelimit-remaining: 0) are waited out, a passing 5xx is retried, a lasting one and a
// missing repository end in a clear message. `oc-sync log` is the REST call a user runs by hand.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import { makeHome, type TestHome } from "../support/opencode-home.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "standin-token-rest-5f5f5f5f5f5f5f5f";
let gh: GitHubStandIn;
let home: TestHome;

beforeAll(async () => {
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "ana", workflows: true });
  await gh.createRepo("ana/data", true);
  home = makeHome(await tempDir(), "rest", gh.clientEnv(TOKEN, ""));
  writeFileSync(join(home.config, "opencode-sync.jsonc"), '{ "github": "ana/data" }');
});
afterAll(() => gh.close());

const runCalls = () => gh.requests.filter((r) => r.path === "/repos/ana/data/actions/runs").length;

describe("GitHub REST faults", () => {
  // As GitHub documents them: a secondary limit is a 403 or 429 saying so, with retry-after; the
  // primary limit is a 403 with x-ratelimit-remaining: 0 and the reset time.
  it.each([
    ["429, secondary rate limit with retry-after", 429, () => ({ headers: { "retry-after": "1" }, message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }), /GitHub secondary rate limit on GET .*actions\/runs; retrying in 1s/],
    ["403, primary rate limit used up", 403, () => ({ headers: { "x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 1) }, message: "API rate limit exceeded for user ID 1." }), /GitHub rate limit on GET .*actions\/runs; retrying in \d+s/],
  ])("%s: waits as GitHub asks, says so, and succeeds", async (_what, status, fault, said) => {
    const before = runCalls();
    gh.failNext(status, fault());
    const r = await runCli(home.env, ["log"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no merge runs yet/);
    expect(runCalls() - before).toBe(2);
    expect(r.stderr).toMatch(said);
  });

  it("a passing 502 is retried", async () => {
    const before = runCalls();
    gh.failNext(502);
    const r = await runCli(home.env, ["log"]);
    expect(r.code, r.stderr).toBe(0);
    expect(runCalls() - before).toBe(2);
  });

  it("a lasting 503 is retried three times, then ends in a clear message without the token", async () => {
    const before = runCalls();
    gh.failNext(503, { times: 4 });
    const r = await runCli(home.env, ["log"]);
    expect(r.code).toBe(1);
    expect(runCalls() - before).toBe(4);
    expect(r.stderr).toMatch(/GitHub API GET \/repos\/ana\/data\/actions\/runs failed with 503 .*try again later/);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it("a repository that does not exist (or the token cannot see) is named", async () => {
    const h = makeHome(await tempDir(), "rest-404", gh.clientEnv(TOKEN, ""));
    writeFileSync(join(h.config, "opencode-sync.jsonc"), '{ "github": "ana/nothing-here" }');
    const r = await runCli(h.env, ["log"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GitHub API GET \/repos\/ana\/nothing-here\/actions\/runs failed with 404: the repository does not exist, or this token cannot see it/);
  });
});
