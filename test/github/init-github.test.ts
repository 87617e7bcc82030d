// init --github through the GitHub stand-in: without a name it sets up <login>/opencode-sync; while a
// `remote` is configured (which wins over `github`) it refuses and changes nothing.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import { makeUsedHome } from "../support/opencode-home.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "standin-token-cleo-0123456789abcdef";
let gh: GitHubStandIn;
let root: string;

beforeAll(async () => {
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "cleo", workflows: true });
  root = await tempDir();
});
afterAll(() => gh.close());

const settingsOf = (config: string) => join(config, "opencode-sync.jsonc");
const mainTree = async (full: string) => (await runGit(["--git-dir", gh.gitDir(full), "ls-tree", "-r", "--name-only", "main"])).stdout.toString();

describe("init --github", () => {
  it("with no name creates the private repository <login>/opencode-sync, installs the workflow and syncs", async () => {
    const h = makeUsedHome(root, "one", gh.clientEnv(TOKEN, ""));
    writeFileSync(join(h.config, "opencode.json"), JSON.stringify({ theme: "one-theme" }));
    // --github before another option is the default name too, not "--machine".
    const r = await runCli(h.env, ["init", "--github", "--machine", "one"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("created private repository cleo/opencode-sync");
    const tree = await mainTree("cleo/opencode-sync");
    expect(tree).toContain(".github/workflows/oc-sync.yml");
    expect(tree).toContain("config/opencode.json");
    expect(readFileSync(settingsOf(h.config), "utf8")).toMatch(/"github": "cleo\/opencode-sync"/);
    const created = gh.requests.filter((q) => q.method === "POST" && q.path === "/user/repos");
    expect(created).toHaveLength(1);
  }, 120_000);

  it("run again with no name adopts the same repository", async () => {
    const h = makeUsedHome(root, "two", gh.clientEnv(TOKEN, ""));
    const r = await runCli(h.env, ["init", "--machine", "two", "--github"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("using existing private repository cleo/opencode-sync");
    expect(gh.requests.filter((q) => q.method === "POST" && q.path === "/user/repos")).toHaveLength(1);
  }, 120_000);

  it("refuses while a remote is configured, naming the setting, and changes nothing", async () => {
    const other = join(root, "other.git");
    await runGit(["init", "--bare", "-q", "-b", "main", other]);
    const h = makeUsedHome(root, "three", gh.clientEnv(TOKEN, ""));
    const before = `{\n  "remote": ${JSON.stringify(other)}\n}\n`;
    writeFileSync(settingsOf(h.config), before);
    const requests = gh.requests.length;
    const r = await runCli(h.env, ["init", "--github", "cleo/elsewhere"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${settingsOf(h.config)}: setting "remote" names ${other}, which wins over --github; nothing was changed`);
    expect(readFileSync(settingsOf(h.config), "utf8")).toBe(before);
    expect(gh.requests.length).toBe(requests);
    expect(existsSync(join(h.home, ".local", "share", "oc-sync", "repo"))).toBe(false);
  }, 120_000);
});
