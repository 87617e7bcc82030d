// The plugin inside the real OpenCode (opencode-linux-x64 1.18.33): two machines, one remote, no
// CLI calls — startup sync, session round trip with continuation, config changes, one sync at a time.
import { remoteHasRecord } from "../support/remote-view.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { ensureOpenCode, opencode, prepareHome, serve, startFakeLlm, waitFor, type Background, type OcHome, type Server } from "../support/opencode-real.js";
import { tempDir } from "../support/tmp.js";

let bin: string;
let llm: Background;
let remote: string;
let A: OcHome;
let B: OcHome;
const servers: Server[] = [];

const settings = () => ({ remote, debounceMs: 300, maxWaitMs: 1500, interval: 5, remoteCheck: 2 });

beforeAll(async () => {
  bin = await ensureOpenCode();
  const root = await tempDir("oc-sync-real-");
  llm = await startFakeLlm(join(root, "llm.jsonl"));
  remote = join(root, "remote.git");
  await runGit(["init", "--bare", "-q", "-b", "main", remote]);
  A = await prepareHome(root, "oc-a", llm.port, settings());
  B = await prepareHome(root, "oc-b", llm.port, settings());
}, 600_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await llm?.stop();
});

const query = <T>(h: OcHome, sql: string, ...params: string[]) => {
  if (!existsSync(h.db)) return [] as T[];
  const db = new DatabaseSync(h.db, { readOnly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
};
const remoteHas = (path: string) => remoteHasRecord(remote, path);
const logOf = (h: OcHome) => (existsSync(h.log) ? readFileSync(h.log, "utf8") : "");

describe("the oc-sync plugin in real OpenCode", () => {
  it("loads in `opencode run` and its startup sync reaches the remote", async () => {
    // The answer takes a few seconds, as real ones do; the startup sync runs meanwhile, in the background.
    await opencode(bin, A, ["run", "--model", "fakellm/fake-model", "say hello [[slow:4000]]"]);
    expect(logOf(A)).toMatch(/plugin sync \(startup\)/);
    expect(await remoteHas("config/opencode.json")).toBe(true);
  }, 180_000);

  let sessionId: string;
  it("a session made on A is listed on B, exports the same, continues on B, and syncs back to A", async () => {
    const a = await serve(bin, A);
    servers.push(a);
    sessionId = await a.prompt("Plan and note. [[todo]] [[write:notes/a.txt|from machine A]]");
    await waitFor("A's plugin to push the session", async () => (await remoteHas(`db/sessions/${sessionId}/session.json`)) || undefined);
    const b = await serve(bin, B);
    servers.push(b);
    await waitFor("B to receive the session", () => (query(B, "SELECT id FROM session WHERE id = ?", sessionId).length ? true : undefined));
    await waitFor("B to receive the parts", () => (query<{ n: number }>(B, "SELECT count(*) AS n FROM part WHERE session_id = ?", sessionId)[0]!.n === query<{ n: number }>(A, "SELECT count(*) AS n FROM part WHERE session_id = ?", sessionId)[0]!.n ? true : undefined));

    const listed = JSON.parse(await opencode(bin, B, ["session", "list", "--format", "json"])) as { id: string }[];
    expect(listed.map((s) => s.id)).toContain(sessionId);
    const exportA = JSON.parse(await opencode(bin, A, ["export", sessionId]));
    const exportB = JSON.parse(await opencode(bin, B, ["export", sessionId]));
    // Equal apart from paths: the session's and messages' paths are translated to B; tool inputs keep A's.
    const samePaths = (x: unknown) => JSON.parse(JSON.stringify(x).split(A.home).join(B.home)) as unknown;
    expect(samePaths(exportB)).toEqual(samePaths(exportA));
    expect(exportB.info.directory).toBe(B.repo);
    expect(query<{ directory: string }>(B, "SELECT directory FROM session WHERE id = ?", sessionId)[0]!.directory).toBe(B.repo);

    const before = query(A, "SELECT id FROM message WHERE session_id = ?", sessionId).length;
    await opencode(bin, B, ["run", "--session", sessionId, "--model", "fakellm/fake-model", "continue on B [[write:notes/b.txt|from machine B]]"]);
    const onB = query(B, "SELECT id FROM message WHERE session_id = ?", sessionId).length;
    expect(onB).toBeGreaterThan(before);
    // Neither machine runs a CLI: B's plugin (interval) pushes, A's plugin (remote check) pulls.
    await waitFor("A to receive B's new messages", () => (query(A, "SELECT id FROM message WHERE session_id = ?", sessionId).length === onB ? true : undefined), 90_000);
    const messages = (await a.get(`/session/${sessionId}/message`)) as { info: { id: string } }[];
    expect(messages.length).toBe(onB);
  }, 300_000);

  it("a config change on B reaches A through the plugin, without any CLI call", async () => {
    mkdirSync(join(B.config, "command"), { recursive: true });
    writeFileSync(join(B.config, "command", "hello.md"), "---\ndescription: say hello\n---\nSay hello to $ARGUMENTS\n");
    const cfgFile = join(B.config, "opencode.json");
    const cfg = JSON.parse(readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, username: "synced-user" }, null, 2));
    await waitFor("A to receive the command file", () => (existsSync(join(A.config, "command", "hello.md")) ? true : undefined), 90_000);
    await waitFor("A to receive the opencode.json edit", () => (/"username": "synced-user"/.test(readFileSync(join(A.config, "opencode.json"), "utf8")) ? true : undefined), 90_000);
    expect(readFileSync(join(A.config, "command", "hello.md"), "utf8")).toContain("Say hello");
  }, 180_000);

  it("the oc_sync tool (what /sync calls) answers inside the busy session that called it", async () => {
    // The session is busy while its tool runs, and the plugin holds scheduled syncs while a session is busy.
    const id = await servers[0]!.prompt('Sync now. [[tool:oc_sync {"action":"sync"}]]');
    const [call] = query<{ data: string }>(A, "SELECT data FROM part WHERE session_id = ? AND json_extract(data, '$.tool') = 'oc_sync'", id).map((r) => JSON.parse(r.data) as { state: { status: string; output?: string } });
    expect(call?.state.status).toBe("completed");
    expect(call?.state.output).toMatch(/^oc-a: (pushed to main|merged|pulled|already up to date) \(\d+ local change/m);
  }, 120_000);

  it("/sync in `opencode run`: the command's oc_sync call answers and the run ends (no wait for its own busy session)", async () => {
    // A run that hung on its own session (as /sync once did in serve) is killed at 90 s and fails here. `run` quotes
    // (and escapes) an argument with spaces in it: one word per argument keeps the fake model's JSON as it is.
    await opencode(bin, B, ["run", "--model", "fakellm/fake-model", "--command", "sync", "[[tool:oc_sync", '{"action":"sync"}]]'], 90_000);
    const [call] = query<{ data: string }>(B, "SELECT data FROM part WHERE json_extract(data, '$.tool') = 'oc_sync' ORDER BY time_created DESC LIMIT 1").map((r) => JSON.parse(r.data) as { state: { status: string; output?: string } });
    expect(call?.state.status).toBe("completed");
    expect(call?.state.output).toMatch(/^oc-b: (pushed to main|merged|pulled|already up to date) \(\d+ local change/m);
  }, 150_000);

  it("two OpenCode processes on one machine never sync at the same time", async () => {
    const extra = await serve(bin, A);
    servers.push(extra);
    writeFileSync(join(A.config, "AGENTS.md"), "two processes\n");
    await waitFor("a sync after the edit", async () => (await remoteHas("config/AGENTS.md")) || undefined, 60_000);
    const log = logOf(A);
    // Both OpenCode processes synced; each sync is a child process of its own, held apart by the lock.
    expect(new Set([...log.matchAll(/ plugin sync \(.*\) in pid (\d+)/g)].map((m) => m[1])).size).toBeGreaterThanOrEqual(2);
    const spans = syncSpans(log);
    expect(spans.length).toBeGreaterThanOrEqual(2);
    for (const x of spans) for (const y of spans) if (x !== y && x.pid !== y.pid) expect(x.end <= y.start || y.end <= x.start, JSON.stringify([x, y])).toBe(true);
  }, 180_000);
});

/** [start, end] of each sync that held the lock, from the log's "holding/releasing the sync lock in pid" lines. */
function syncSpans(log: string): { pid: string; start: number; end: number }[] {
  const open = new Map<string, number>();
  const spans: { pid: string; start: number; end: number }[] = [];
  for (const line of log.split("\n")) {
    const t = Date.parse(line.slice(0, 24));
    const start = / holding the sync lock in pid (\d+)/.exec(line);
    const done = / releasing the sync lock in pid (\d+)/.exec(line);
    if (start) open.set(start[1]!, t);
    else if (done && open.has(done[1]!)) spans.push({ pid: done[1]!, start: open.get(done[1]!)!, end: t });
    if (done) open.delete(done[1]!);
  }
  return spans;
}
