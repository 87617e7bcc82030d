// A session from a Windows machine continues in the real OpenCode on Linux, and its next messages
// reach the Windows machine in Windows form. The Windows machine is a database whose rows hold
// Windows paths (a real session, made by the real OpenCode, its paths rewritten as OpenCode on
// Windows writes them) synced by an oc-sync whose home is C:\Users\ana: no Windows runs here.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { DEMO_PROJECT, makeHome, type TestHome } from "../support/opencode-home.js";
import { ensureOpenCode, opencode, prepareHome, startFakeLlm, type Background, type OcHome } from "../support/opencode-real.js";
import { sync } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

const WIN_HOME = "C:\\Users\\ana";
const WIN_DIR = `${WIN_HOME}\\code\\demo`;

let bin: string;
let llm: Background;
let remote: string;
let W: TestHome;
let L: OcHome;
let sessionId: string;

/** Rows as OpenCode on Windows writes them: the project's worktree, the session's directory, each message's cwd and root. */
function asWindows(db: DatabaseSync): void {
  db.prepare("UPDATE project SET worktree = ? WHERE id = ?").run(WIN_DIR, DEMO_PROJECT);
  db.prepare("UPDATE project_directory SET directory = ?").run(WIN_DIR);
  db.prepare("UPDATE session SET directory = ?").run(WIN_DIR);
  db.prepare("UPDATE message SET data = json_set(data, '$.path.cwd', ?, '$.path.root', ?) WHERE json_extract(data, '$.path') IS NOT NULL").run(WIN_DIR, WIN_DIR);
}

beforeAll(async () => {
  bin = await ensureOpenCode();
  const root = await tempDir("oc-sync-cross-os-");
  llm = await startFakeLlm(join(root, "llm.jsonl"));
  remote = join(root, "remote.git");
  await runGit(["init", "--bare", "-q", "-b", "main", remote]);
  const scratch = join(root, "scratch.git");
  await runGit(["init", "--bare", "-q", "-b", "main", scratch]);
  const made = await prepareHome(root, "made-on-windows", llm.port, { remote: scratch });
  await opencode(bin, made, ["run", "--model", "fakellm/fake-model", "Plan and note. [[todo]] [[write:notes/w.txt|from Windows]]"]);
  const w = makeHome(root, "win-desk", { OC_SYNC_REMOTE: remote });
  W = { ...w, env: { ...w.env, HOME: WIN_HOME, XDG_CONFIG_HOME: join(w.home, ".config"), XDG_DATA_HOME: join(w.home, ".local", "share"), XDG_STATE_HOME: join(w.home, ".local", "state") } };
  mkdirSync(join(w.home, ".local", "share", "opencode"), { recursive: true });
  const source = new DatabaseSync(made.db);
  source.exec(`VACUUM INTO '${W.db}'`);
  source.close();
  const db = new DatabaseSync(W.db);
  asWindows(db);
  sessionId = String((db.prepare("SELECT id FROM session").get() as { id: string }).id);
  db.close();
  L = await prepareHome(root, "linux-box", llm.port, { remote, interval: 3600 });
}, 600_000);

afterAll(async () => {
  await llm?.stop();
});

const query = <T>(db: string, sql: string, ...params: string[]) => {
  const d = new DatabaseSync(db, { readOnly: true });
  try {
    return d.prepare(sql).all(...params) as T[];
  } finally {
    d.close();
  }
};
const paths = (db: string) => query<{ id: string; cwd: string; root: string }>(db, "SELECT id, json_extract(data, '$.path.cwd') AS cwd, json_extract(data, '$.path.root') AS root FROM message WHERE session_id = ? AND json_extract(data, '$.path') IS NOT NULL ORDER BY id", sessionId);

describe("a Windows session in the real OpenCode on Linux", () => {
  it("is listed and continued on Linux, and its new messages reach Windows with Windows paths", async () => {
    // OpenCode opens the demo repo on Linux once: its project row is the checkout sessions map into.
    await opencode(bin, L, ["run", "--model", "fakellm/fake-model", "say hello"]);
    expect(query<{ id: string }>(L.db, "SELECT id FROM project WHERE worktree = ?", L.repo)).toEqual([{ id: DEMO_PROJECT }]);

    await sync(W);
    expect((await runCli(L.env, ["sync"])).code).toBe(0);
    const listed = JSON.parse(await opencode(bin, L, ["session", "list", "--format", "json"])) as { id: string; directory: string }[];
    expect(listed.find((s) => s.id === sessionId)?.directory).toBe(L.repo);
    expect(new Set(paths(L.db).map((p) => p.cwd))).toEqual(new Set([L.repo]));

    const before = paths(L.db).length;
    await opencode(bin, L, ["run", "--session", sessionId, "--model", "fakellm/fake-model", "continue on Linux"]);
    const onLinux = paths(L.db);
    expect(onLinux.length).toBeGreaterThan(before);
    expect((await runCli(L.env, ["sync"])).code).toBe(0);

    await sync(W);
    const onWindows = paths(W.db);
    expect(onWindows.map((p) => p.id)).toEqual(onLinux.map((p) => p.id));
    for (const p of onWindows) expect(p).toMatchObject({ cwd: WIN_DIR, root: WIN_DIR });
    expect(query(W.db, "SELECT directory FROM session WHERE id = ?", sessionId)).toEqual([{ directory: WIN_DIR }]);
  }, 600_000);
});
