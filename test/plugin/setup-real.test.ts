// /sync-setup inside the real OpenCode (opencode-linux-x64 1.18.33), against the GitHub stand-in:
// a machine with a token and no settings syncs into the embedded repository and says so once; the
// slash command then creates <login>/opencode-sync, installs the workflow and moves the history there.
import { remoteHasRecord } from "../support/remote-view.js";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMBEDDED_ONLY } from "../../client/plugin/runtime.js";
import { runGit } from "../../git/run.js";
import { startGitHubStandIn, type GitHubStandIn } from "../support/github/standin.js";
import { CHECKOUT_PLUGIN, ensureOpenCode, opencode, prepareHome, serve, startFakeLlm, waitFor, type Background, type OcHome } from "../support/opencode-real.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "standin-token-dana-0123456789abcdef";
const LOGGER = join(import.meta.dirname, "..", "..", "..", "shared", "opencode-real", "event-logger-plugin.js");
let bin: string;
let llm: Background;
let gh: GitHubStandIn;
let A: OcHome;
let events: string;

beforeAll(async () => {
  bin = await ensureOpenCode();
  const root = await tempDir("oc-sync-setup-real-");
  llm = await startFakeLlm(join(root, "llm.jsonl"));
  gh = await startGitHubStandIn();
  gh.addUser(TOKEN, { login: "dana", workflows: true });
  events = join(root, "events.jsonl");
  // No passphrase: setup must say how to give one, never ask for it in the chat.
  A = await prepareHome(root, "oc-a", llm.port, { debounceMs: 300, maxWaitMs: 1500 }, { env: { ...gh.clientEnv(TOKEN, ""), OC_PLUGIN_LOG: events } });
  // A second plugin records what OpenCode's bus carries, toasts included.
  const file = join(A.config, "opencode.json");
  const cfg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  cfg.plugin = [CHECKOUT_PLUGIN, `file://${LOGGER}`];
  writeFileSync(file, JSON.stringify(cfg, null, 2));
}, 600_000);

afterAll(async () => {
  await llm?.stop();
  await gh?.close();
});

const toasts = () =>
  (existsSync(events) ? readFileSync(events, "utf8") : "")
    .split("\n")
    .filter((l) => l.includes('"tui.toast.show"'));
const embeddedRemote = () => join(A.home, ".local", "share", "oc-sync", "default-remote.git");
const has = remoteHasRecord;
const toolOutput = (): string => {
  const db = new DatabaseSync(A.db, { readOnly: true });
  try {
    const rows = db.prepare("SELECT data FROM part WHERE json_extract(data, '$.tool') = 'oc_sync'").all() as { data: string }[];
    return rows.map((r) => (JSON.parse(r.data) as { state: { output?: string } }).state.output ?? "").join("\n");
  } finally {
    db.close();
  }
};

describe("/sync-setup in real OpenCode", () => {
  it("with no settings, the plugin syncs into the embedded repository and says once that nothing left the machine", async () => {
    await opencode(bin, A, ["run", "--model", "fakellm/fake-model", "say hello [[slow:4000]]"]);
    await waitFor("the embedded repository to hold the config", async () => (await has(embeddedRemote(), "config/opencode.json")) || undefined);
    expect(gh.requests.filter((q) => q.path.startsWith("/user") || q.path.startsWith("/repos"))).toEqual([]);
    await waitFor("the embedded-only toast", () => toasts().length > 0 || undefined, 30_000);
    const shown = toasts();
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain(JSON.stringify(EMBEDDED_ONLY).slice(1, 60));
    expect(shown[0]).toContain("/sync-setup");
  }, 180_000);

  it("/sync-setup creates the private dana/opencode-sync, installs the workflow, and the history moves there", async () => {
    // Through the server, as the TUI sends it: `opencode run --command` shell-quotes the arguments.
    const server = await serve(bin, A);
    let later: string;
    try {
      await server.command("sync-setup", '[[tool:oc_sync {"action":"setup"}]]');
      // The running OpenCode syncs with GitHub from now on, without a restart.
      later = await server.prompt('after the setup [[tool:oc_sync {"action":"status"}]]');
      await waitFor("the running plugin to push a new session to GitHub", async () => (await has(gh.gitDir("dana/opencode-sync"), `db/sessions/${later}/session.json`)) || undefined, 60_000);
    } finally {
      await server.stop();
    }
    const out = toolOutput();
    expect(out.match(/^connected to/gm)).toHaveLength(1);
    expect(out).toContain("connected to the private GitHub repository dana/opencode-sync; the merge workflow is installed");
    expect(out).toMatch(/credentials are not synced yet: they need a passphrase \(set OC_SYNC_PASSPHRASE/);
    expect(out).not.toContain(TOKEN);
    const gitDir = gh.gitDir("dana/opencode-sync");
    expect(await has(gitDir, ".github/workflows/oc-sync.yml")).toBe(true);
    expect(await has(gitDir, "config/opencode.json")).toBe(true);
    // The session of the first run, synced only into the embedded repository then, is on GitHub now.
    const db = new DatabaseSync(A.db, { readOnly: true });
    const sessions = (db.prepare("SELECT id FROM session").all() as { id: string }[]).map((r) => r.id);
    db.close();
    expect(sessions.length).toBeGreaterThan(0);
    expect(await has(gitDir, `db/sessions/${sessions[0]}/session.json`)).toBe(true);
    expect(readFileSync(join(A.config, "opencode-sync.json"), "utf8")).toMatch(/"github": "dana\/opencode-sync"/);
    // The plugin's own view moved too: its status names the GitHub remote.
    expect(out).toMatch(/remote +http:\/\/127\.0\.0\.1:\d+\/dana\/opencode-sync\.git\n/);
  }, 240_000);

  it("the next start syncs with GitHub and shows no embedded-only toast", async () => {
    const before = toasts().length;
    const main = async () => (await runGit(["--git-dir", gh.gitDir("dana/opencode-sync"), "rev-parse", "main"])).stdout.toString().trim();
    const was = await main();
    await opencode(bin, A, ["run", "--model", "fakellm/fake-model", "one more [[slow:4000]]"]);
    await waitFor("the new session to reach GitHub", async () => ((await main()) !== was) || undefined, 60_000);
    expect(toasts().slice(before).filter((t) => t.includes("/sync-setup"))).toEqual([]);
  }, 180_000);
});
