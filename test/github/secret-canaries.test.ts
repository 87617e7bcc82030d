// Secret canaries: unique strings planted in auth.json, mcp-auth.json, a session's share secret,
// the GitHub token and the passphrase; then full syncs, Action merges (through the GitHub stand-in's
// runner), every read-only command and a few failing ones. Searched afterwards: every object in the
// remote's history, each machine's local sync repo and its git config, every log oc-sync wrote, the
// Action's logs, job summaries and outputs, and everything any command printed. Zero hits.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { runCli, type CliResult } from "../support/cli.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import { addSession, makeHome, makeUsedHome, openDb, type TestHome } from "../support/opencode-home.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "standin-token-CANARY-TOKEN-9d1e77";
const PASSPHRASE = "CANARY-PASSPHRASE-4b2a";
const CANARIES = {
  "auth.json key": "sk-CANARY-AUTH-7c1f0e",
  "mcp-auth.json token": "mcp-CANARY-OAUTH-33a9d2",
  "session share secret": "share-CANARY-SECRET-0b8e41",
  "GitHub token": TOKEN,
  passphrase: PASSPHRASE,
};
// How a token can show up in git traffic: in an Authorization header, base64 with a user name.
const ENCODED = [Buffer.from(`x-access-token:${TOKEN}`).toString("base64"), Buffer.from(TOKEN).toString("base64")];

let gh: GitHubStandIn;
let root: string;
let homes: TestHome[];
const printed: CliResult[] = [];
const SLOW = 240_000;

beforeAll(async () => {
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "ana", workflows: true });
  root = await tempDir();
  homes = ["north", "south"].map((n) => makeUsedHome(root, n, gh.clientEnv(TOKEN, PASSPHRASE)));
});
afterAll(() => gh.close());

const cli = async (h: TestHome, args: string[], env: Record<string, string> = {}) => {
  const r = await runCli(h.env, args, env);
  printed.push(r);
  return r;
};

/** Every file below `dir`, as latin1 text (binary-safe for a substring search). */
function filesBelow(dir: string): { path: string; text: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((rel) => join(dir, rel))
    .filter((p) => statSync(p).isFile())
    .map((path) => ({ path, text: readFileSync(path).toString("latin1") }));
}

describe("secret canaries", () => {
  it("planted secrets never leave the machine in plaintext", async () => {
    const [north, south] = homes as [TestHome, TestHome];
    writeFileSync(join(north.data, "auth.json"), JSON.stringify({ anthropic: { type: "api", key: CANARIES["auth.json key"] } }), { mode: 0o600 });
    writeFileSync(join(north.data, "mcp-auth.json"), JSON.stringify({ linear: { tokens: { accessToken: CANARIES["mcp-auth.json token"] } } }), { mode: 0o600 });
    const db = openDb(north);
    const s = addSession(db, north, { messages: 2 });
    db.prepare("INSERT INTO session_share (session_id, id, secret, url, time_created, time_updated) VALUES (?, 'shr_1', ?, 'https://opncd.ai/s/shr_1', 0, 0)").run(s.id, CANARIES["session share secret"]);
    db.close();
    writeFileSync(join(north.config, "opencode.jsonc"), '{\n  "theme": "dark"\n}\n');

    expect((await cli(north, ["init", "--github", "ana/canary", "--machine", "north"])).code).toBe(0);
    expect((await cli(south, ["init", "--github", "ana/canary", "--machine", "south"])).code).toBe(0);
    // The credentials did arrive (so they were synced, encrypted), and so did the session.
    expect(readFileSync(join(south.data, "mcp-auth.json"), "utf8")).toContain(CANARIES["mcp-auth.json token"]);
    const check = openDb(south);
    expect(check.prepare("SELECT count(*) AS n FROM session WHERE id = ?").get(s.id)).toEqual({ n: 1 });
    check.close();

    // Concurrent edits on both machines: the Action has to merge.
    writeFileSync(join(north.config, "opencode.jsonc"), '{\n  "theme": "light"\n}\n');
    writeFileSync(join(south.config, "opencode.jsonc"), '{\n  "theme": "solarized"\n}\n');
    writeFileSync(join(south.data, "auth.json"), JSON.stringify({ anthropic: { type: "api", key: CANARIES["auth.json key"] }, openai: { type: "api", key: `${CANARIES["auth.json key"]}-2` } }), { mode: 0o600 });
    for (const h of homes) await cli(h, ["sync"]);
    await gh.runner.idle();
    for (const h of homes) await cli(h, ["sync"]);
    const runs = gh.runner.runs.get("ana/canary") ?? [];
    expect(runs.some((r) => r.conclusion === "success" && Number(r.outputs.merged) > 0)).toBe(true);

    // Every read-only command, and commands that fail.
    for (const args of [["status"], ["status", "--json"], ["conflicts"], ["conflicts", "--json"], ["doctor"], ["log"], ["history", "credentials/auth.json"], ["history", s.id]]) await cli(north, args);
    const revoked = await cli(makeHome(root, "east", {}), ["init", "--github", "ana/canary"], gh.clientEnv(`${TOKEN}-revoked`, PASSPHRASE));
    expect(revoked.code).toBe(1);
    const wrong = await cli(makeHome(root, "west", {}), ["init", "--github", "ana/canary"], gh.clientEnv(TOKEN, "not-the-passphrase"));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase/);

    const places: { where: string; text: string }[] = [
      { where: "remote history (every object)", text: (await runGit(["--git-dir", gh.gitDir("ana/canary"), "cat-file", "--batch-all-objects", "--batch"])).stdout.toString("latin1") },
      ...runs.map((r) => ({ where: `Action run ${r.id} log, summary and outputs`, text: r.log + r.summary + JSON.stringify(r.outputs) })),
      ...printed.map((p, i) => ({ where: `command output ${i}`, text: p.stdout + p.stderr })),
    ];
    for (const h of [...homes, makeHome(root, "east"), makeHome(root, "west")]) {
      const ocSync = join(h.home, ".local", "share", "oc-sync");
      for (const f of filesBelow(join(ocSync, "log"))) places.push({ where: f.path, text: f.text });
      const repo = join(ocSync, "repo.git");
      if (existsSync(repo)) {
        places.push({ where: `${h.home} local sync repo objects`, text: (await runGit(["--git-dir", repo, "cat-file", "--batch-all-objects", "--batch"])).stdout.toString("latin1") });
        places.push({ where: `${repo}/config`, text: readFileSync(join(repo, "config"), "latin1") });
      }
    }
    expect(places.filter((p) => p.where.endsWith("oc-sync.log")).length).toBeGreaterThanOrEqual(2);
    const hits = places.flatMap((p) => [...Object.entries(CANARIES), ...ENCODED.map((e) => ["token, base64", e] as const)].filter(([, v]) => p.text.includes(v)).map(([what]) => `${what} in ${p.where}`));
    expect(hits).toEqual([]);
  }, SLOW);
});
