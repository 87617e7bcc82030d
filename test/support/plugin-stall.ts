// How long the real OpenCode stops answering while the plugin's first pull runs: a machine pushes a
// realistic history, then a new machine starts `opencode serve` with the plugin while a client asks
// the server for the session list every 100 ms, as the TUI keeps doing. The worst answer time is
// the longest freeze a user would feel.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { runGit } from "../../git/run.js";
import { generate, type Size } from "../../bench/generate.js";
import { runCli } from "./cli.js";
import { DEMO_PROJECT, makeHome } from "./opencode-home.js";
import { ensureOpenCode, prepareHome, serve, startFakeLlm, withoutPlugin, type OcHome } from "./opencode-real.js";
import { tempDir } from "./tmp.js";

export interface Stall {
  /** The slowest answer to a session-list request while the plugin's first pull ran, in ms. */
  readonly worstMs: number;
  /** The slowest answer over as many requests to the same server without the plugin, right after. */
  readonly withoutMs: number;
  readonly requests: number;
  /** How long the plugin's first pull took, from the server answering to the log saying done. */
  readonly pullMs: number;
  /** The sync's outcome as the plugin logged it. */
  readonly outcome: string;
  /** Sessions in the new machine's database afterwards. */
  readonly sessions: number;
  readonly expected: number;
}

const POLL_MS = 100;
const DONE = /plugin sync done in pid \d+: ([\w-]+)/;

export async function measurePluginStall(size: Size): Promise<Stall> {
  const bin = await ensureOpenCode();
  const root = await tempDir("oc-sync-stall-");
  const llm = await startFakeLlm(join(root, "llm.jsonl"));
  try {
    const remote = join(root, "remote.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    const A = makeHome(root, "desk", { OC_SYNC_REMOTE: remote });
    generate(A.db, size, DEMO_PROJECT, A.repo);
    const pushed = await runCli(A.env, ["sync"]);
    if (pushed.code !== 0) throw new Error(`initial sync failed: ${pushed.stderr}`);
    const B = await prepareHome(root, "laptop", llm.port, { remote, interval: 3600 });
    const done = () => (existsSync(B.log) ? DONE.exec(readFileSync(B.log, "utf8"))?.[1] : undefined);
    const withPlugin = await poll(bin, B, () => done() !== undefined);
    const db = new DatabaseSync(B.db, { readOnly: true });
    const sessions = Number((db.prepare("SELECT count(*) AS n FROM session").get() as { n: number }).n);
    db.close();
    withoutPlugin(B);
    const without = await poll(bin, B, (n) => n >= withPlugin.requests);
    return { worstMs: withPlugin.worstMs, withoutMs: without.worstMs, requests: withPlugin.requests, pullMs: withPlugin.ms, outcome: done()!, sessions, expected: size.sessions };
  } finally {
    await llm.stop();
  }
}

/** Starts the server and asks it for the session list every 100 ms until `enough`; the slowest answer. */
async function poll(bin: string, h: OcHome, enough: (requests: number) => boolean): Promise<{ worstMs: number; requests: number; ms: number }> {
  const server = await serve(bin, h);
  const t0 = performance.now();
  try {
    let worstMs = 0;
    let requests = 0;
    while (!enough(requests)) {
      const t = performance.now();
      await server.get("/session");
      worstMs = Math.max(worstMs, performance.now() - t);
      requests++;
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (performance.now() - t0 > 600_000) throw new Error("gave up polling after 10 minutes: the plugin's first pull (or the requests) never finished");
    }
    return { worstMs, requests, ms: performance.now() - t0 };
  } finally {
    await server.stop();
  }
}
