// npm run bench [-- --quick | S M L] [--only=sizes,reconcile,growth,actions,stall,plugin]: oc-sync against the loopback git server at realistic sizes.
// Every figure is measured in this one run; speed targets are ratios to a plain-git lower bound
// measured beside it, because this machine is shared and noisy.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { deflateSync } from "node:zlib";
import { loadContext } from "../client/sync/context.js";
import { runSync } from "../client/sync/cycle.js";
import { encodeRecord, makeRecord } from "../core/record.js";
import { mergeAllBranches } from "../git/merge-all.js";
import { GitRepo } from "../git/repo.js";
import { runGit } from "../git/run.js";
import { createDatabase, DEMO_PROJECT, makeHome, type TestHome } from "../test/support/opencode-home.js";
import { replayMonth } from "./actions-minutes.js";
import { median } from "./median.js";
import { measurePluginOverhead } from "./plugin-overhead.js";
import { measurePluginStall } from "../test/support/plugin-stall.js";
import { addMessage, generate, SIZES, type Size } from "./generate.js";

const run = promisify(execFile);
const TOKEN = "bench_token_0123456789abcdef";
const args = process.argv.slice(2);
const sizes = args.includes("--quick") ? ["S"] : args.filter((a) => a in SIZES).length ? args.filter((a) => a in SIZES) : ["S", "M"];
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const part = (name: string) => !only || only.includes(name);
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const secs = (ms: number) => (ms / 1000).toFixed(2) + " s";

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = await fn();
  const cu = process.cpuUsage(c);
  return { ms: performance.now() - t, cpuMs: (cu.user + cu.system) / 1000, value };
}

/** The installed CLI (bin/oc-sync.js, the bundled dist/cli.js: `npm run build` first) under /usr/bin/time: wall time and peak memory. */
async function cliSync(h: TestHome): Promise<{ ms: number; maxRssMb: number }> {
  const r = await run("/usr/bin/time", ["-f", "%e %M", process.execPath, "bin/oc-sync.js", "sync", "--json"], { env: h.env as NodeJS.ProcessEnv, maxBuffer: 64 << 20 });
  const [e, kb] = r.stderr.trim().split("\n").pop()!.split(" ");
  return { ms: Number(e) * 1000, maxRssMb: Number(kb) / 1024 };
}

function addOneMessage(h: TestHome, sessionId: string, parts = 10): void {
  const db = new DatabaseSync(h.db);
  db.exec("PRAGMA busy_timeout = 5000");
  const msg = db.prepare("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)");
  const prt = db.prepare("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)");
  const t = Date.now();
  db.exec("BEGIN");
  addMessage(msg, prt, sessionId, h.repo, t, parts, t % 1000);
  db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(t + 1, sessionId);
  db.exec("COMMIT");
  db.close();
}

/** The loopback git server in its own process (bench/git-server-process.ts). */
async function gitServerProcess(root: string): Promise<{ url: (repo: string) => string; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/git-server-process.ts", root, TOKEN], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (c) => reject(new Error(`git server exited with ${c}`)));
  });
  return {
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    close: () => new Promise((r) => (child.once("exit", () => r()), child.kill("SIGTERM"))),
  };
}

async function benchSize(size: Size): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `oc-sync-bench-${size.name}-`));
  try {
    const srv = join(root, "srv");
    await runGit(["init", "--bare", "-q", "-b", "main", join(srv, "sync.git")]);
    const server = await gitServerProcess(srv);
    const env = { OC_SYNC_REMOTE: server.url("sync.git"), OC_SYNC_TOKEN: TOKEN };
    const A = makeHome(root, "a", env);
    const t0 = performance.now();
    const { sessions } = generate(A.db, size, DEMO_PROJECT, A.repo);
    const counts = new DatabaseSync(A.db, { readOnly: true });
    const n = (t: string) => Number((counts.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
    const shape = `${n("session")} sessions, ${n("message")} messages, ${n("part")} parts, ${(statSync(A.db).size / 1e6).toFixed(0)} MB`;
    counts.close();
    console.error(`[${size.name}] generated ${shape} in ${secs(performance.now() - t0)}`);

    const initial = await cliSync(A);
    row(size.name, "initial sync (push all)", secs(initial.ms), `peak ${initial.maxRssMb.toFixed(0)} MB`, "target < 60 s, < 400 MB");

    // First pull: new machines where OpenCode has run (an empty database, in WAL mode as OpenCode
    // leaves it), beside plain git cloning the same repo from the same server. Three of each but at
    // L, alternating, so a neighbour's burst moves the median little.
    const pulls: { ms: number; maxRssMb: number }[] = [];
    const clones: number[] = [];
    const machines: TestHome[] = [];
    for (let i = 0; i < (size.name === "L" ? 1 : 3); i++) {
      const h = makeHome(root, `b${i}`, env);
      createDatabase(h).close();
      pulls.push(await cliSync(h));
      machines.push(h);
      const clone = join(root, "clone.git");
      const t = performance.now();
      await runGit(["clone", "-q", "--bare", server.url("sync.git"), clone], { auth: { token: TOKEN } });
      clones.push(performance.now() - t);
      rmSync(clone, { recursive: true, force: true });
    }
    const B = machines[0]!;
    const pullMs = median(pulls.map((p) => p.ms));
    row(
      size.name,
      "first pull onto a new machine",
      secs(pullMs),
      `${pulls.length > 1 ? `runs ${pulls.map((p) => secs(p.ms)).join(", ")}; ` : ""}${(pullMs / median(clones)).toFixed(2)}× plain git clone (${secs(median(clones))}), peak ${Math.max(...pulls.map((p) => p.maxRssMb)).toFixed(0)} MB`,
      size.name === "R" ? "best existing tool: 4.8 s on this shape" : "",
    );

    // Incremental: one message with ten parts, full cycle (detect, commit, push), in process.
    const ctxA = await loadContext({ env: A.env });
    const inc: { ms: number; cpuMs: number }[] = [];
    for (let i = 0; i < 5; i++) {
      addOneMessage(A, sessions[i % sessions.length]!);
      inc.push(await timed(() => runSync(ctxA)));
    }
    // Lower bound: the same files written and pushed with plain git in an existing checkout.
    const checkout = join(root, "checkout");
    await runGit(["clone", "-q", join(srv, "sync.git"), checkout]);
    await runGit(["-C", checkout, "config", "gc.auto", "0"]);
    const plain: number[] = [];
    // The push alone: the receiving git's connectivity check grows with the repo, for plain git as for oc-sync.
    const pushOnly: number[] = [];
    for (let i = 0; i < 5; i++) {
      const files = Array.from({ length: 12 }, (_, k) => [`db/sessions/${sessions[i]}/bench/${Date.now()}-${k}.json`, JSON.stringify({ k, text: "x".repeat(900) })] as const);
      const t = performance.now();
      for (const [p, c] of files) {
        mkdirSync(dirname(join(checkout, p)), { recursive: true });
        writeFileSync(join(checkout, p), c);
      }
      await runGit(["-C", checkout, "add", "-A"]);
      await runGit(["-C", checkout, "commit", "-q", "-m", "plain"]);
      const p = performance.now();
      await runGit(["-C", checkout, "push", "-q", join(srv, "sync.git"), "HEAD:refs/heads/plain-bound"]);
      pushOnly.push(performance.now() - p);
      plain.push(performance.now() - t);
    }
    const incMs = median(inc.map((x) => x.ms));
    row(size.name, "incremental: 1 message + 10 parts", secs(incMs), `${(incMs / median(plain)).toFixed(2)}× plain git (${secs(median(plain))}, of which its push ${secs(median(pushOnly))}), CPU ${median(inc.map((x) => x.cpuMs)).toFixed(0)} ms`, "target ≤ 1.5× plain git, < 500 ms CPU");

    // Pull: 1,000 remote records into B's database while an "OpenCode" writer keeps writing.
    for (let i = 0; i < 91; i++) addOneMessage(A, sessions[(i * 7) % sessions.length]!);
    await runSync(ctxA);
    const writer = spawn(process.execPath, ["-e", `
      const {DatabaseSync}=require("node:sqlite"); const d=new DatabaseSync(${JSON.stringify(B.db)}); d.exec("PRAGMA busy_timeout=5000");
      let worst=0; const end=Date.now()+120000;
      (function tick(){ const t=Date.now(); try{ d.exec("BEGIN IMMEDIATE"); d.exec("COMMIT"); }catch(e){ worst=1e9 } worst=Math.max(worst,Date.now()-t);
        if(Date.now()<end) setTimeout(tick,20); })();
      process.on("SIGTERM",()=>{ console.log(worst); process.exit(0); });`], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((r) => setTimeout(r, 300));
    const ctxB = await loadContext({ env: B.env });
    const pull = await timed(() => runSync(ctxB));
    const worst = await new Promise<number>((resolve) => {
      let out = "";
      writer.stdout.on("data", (d: Buffer) => (out += d));
      writer.on("close", () => resolve(Number(out.trim())));
      writer.kill("SIGTERM");
    });
    row(size.name, `pull: ${pull.value.applied} records into the database`, secs(pull.ms), `OpenCode writer waited at most ${worst} ms`, "target: never near the 5 s busy timeout");
    await server.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function benchReconcile(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "oc-sync-bench-reconcile-"));
  try {
    const repo = await GitRepo.open(join(root, "work.git"));
    const remoteDir = join(root, "remote.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remoteDir]);
    const rec = (path: string, v: Record<string, number>, body: unknown, who: string) => encodeRecord(makeRecord({ path, kind: "json", content: Buffer.from(JSON.stringify(body, null, 1)), vector: v, updatedAt: Date.now(), writer: who }));
    const paths = Array.from({ length: 5000 }, (_, i) => `db/sessions/s${i % 100}/messages/m${i}.json`);
    const base = await repo.commit({ parents: [], message: "base", changes: paths.map((p) => [p, rec(p, { a: 1 }, { a: 1, b: 1, text: "x".repeat(500) }, "a")] as const) });
    const main = await repo.commit({ parents: [base], message: "main", changes: paths.map((p) => [p, rec(p, { a: 1, m: 1 }, { a: 2, b: 1, text: "x".repeat(500) }, "m")] as const) });
    await repo.updateRef("refs/heads/main", main);
    const push = [`${main}:refs/heads/main`];
    for (let k = 0; k < 5; k++) {
      const mine = paths.slice(k * 1000, (k + 1) * 1000);
      const c = await repo.commit({ parents: [base], message: `machine ${k}`, changes: mine.map((p) => [p, rec(p, { a: 1, [`k${k}`]: 1 }, { a: 1, b: 2 + k, text: "x".repeat(500) }, `k${k}`)] as const) });
      push.push(`${c}:refs/heads/machines/k${k}`);
    }
    await repo.git(["push", "-q", remoteDir, ...push]);
    const worker = await GitRepo.open(join(root, "action.git"));
    const r = await timed(() => mergeAllBranches(worker, { url: remoteDir }, { strategy: "auto-merge", who: "bench" }));
    worker.close();
    repo.close();
    const merged = r.value.machines.reduce((s, m) => s + (m.result?.changed.length ?? 0), 0);
    row("-", "reconcile 5 branches × 1,000 divergent records", secs(r.ms), `${merged} records merged, pushed: ${r.value.pushed}`, "target < 10 s");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function benchGrowth(syncs: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "oc-sync-bench-growth-"));
  try {
    const remote = join(root, "remote.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    const A = makeHome(root, "a", { OC_SYNC_REMOTE: remote });
    const { sessions } = generate(A.db, { name: "tiny", sessions: 5, messagesPerSession: 2, partsPerMessage: 2 }, DEMO_PROJECT, A.repo);
    const ctx = await loadContext({ env: A.env });
    await runSync(ctx);
    await runGit(["--git-dir", remote, "repack", "-a", "-d", "-q"]);
    const sizeOf = async () => Number(/size-pack: (\d+)/.exec((await runGit(["--git-dir", remote, "count-objects", "-v"])).stdout.toString())![1]) * 1024;
    const before = await sizeOf();
    let added = 0;
    const repo = new GitRepo(remote);
    for (let i = 0; i < syncs; i++) {
      addOneMessage(A, sessions[i % sessions.length]!, 1);
      const prev = await repo.revParse("main");
      await runSync(ctx);
      const now = await repo.revParse("main");
      for (const c of await repo.diff(prev, now!)) if (c.oid) added += deflateSync((await repo.readBlob(c.oid))!).length;
    }
    repo.close();
    await runGit(["--git-dir", remote, "gc", "-q", "--aggressive", "--prune=now"]);
    const grown = (await sizeOf()) - before;
    row("-", `repo growth: ${syncs} syncs of one message`, `${(grown / 1024).toFixed(0)} KiB`, `${(grown / added).toFixed(2)}× the compressed content added (${(added / 1024).toFixed(0)} KiB)`, "target ≤ 1.3×");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function benchActionsMinutes(days: number): Promise<void> {
  const r = await replayMonth(days);
  const perMonth = (r.pushRuns * 22) / days + r.scheduledRuns;
  row("-", `Actions: ${days} working days, 2 machines, 1 h overlap a day`, `${r.pushRuns} merge runs`, `${r.syncs} syncs (${Object.entries(r.outcomes).map(([k, n]) => `${n} ${k}`).join(", ")}); a 22-day month: ${perMonth.toFixed(0)} billed runs (${r.scheduledRuns} of them the daily safety net)`, "target ≤ 100 runs a month");
}

async function benchPluginOverhead(windowS: number, rounds: number): Promise<void> {
  const o = await measurePluginOverhead(20, windowS, rounds);
  const extra = o.rssMb.with - o.rssMb.without;
  row("-", "plugin in real OpenCode, idle", `${extra < 0 ? "−" : "+"}${Math.abs(extra).toFixed(0)} MB`, `medians of ${o.rounds} alternating runs: RSS ${o.rssMb.with.toFixed(0)} vs ${o.rssMb.without.toFixed(0)} MB without; CPU over ${o.windowS} s idle: ${o.idleCpuMs.with.toFixed(0)} vs ${o.idleCpuMs.without.toFixed(0)} ms`, "idle CPU ~0");
}

async function benchStall(size: Size): Promise<void> {
  const s = await measurePluginStall(size);
  row(size.name, "plugin first pull in real OpenCode: worst answer", `${s.worstMs.toFixed(0)} ms`, `${s.requests} session-list requests every 100 ms over the ${secs(s.pullMs)} pull of ${s.sessions} sessions; ${(s.worstMs / s.withoutMs).toFixed(2)}× the worst without the plugin (${s.withoutMs.toFixed(0)} ms, same requests)`, "< 500 ms; OpenCode's loop never blocked > 100 ms");
}

if (part("sizes")) for (const s of sizes) await benchSize(SIZES[s]!);
if (part("reconcile")) await benchReconcile();
if (part("growth")) await benchGrowth(args.includes("--quick") ? 50 : 1000);
if (part("actions")) await benchActionsMinutes(args.includes("--quick") ? 3 : 22);
if (part("stall")) for (const s of sizes.filter((n) => n === "R" || n === "M")) await benchStall(SIZES[s]!);
if (part("plugin")) await benchPluginOverhead(args.includes("--quick") ? 30 : 60, args.includes("--quick") ? 1 : 3);

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(["size", "operation", "time", "measure", "goal"].map((h, i) => h.padEnd(widths[i] ?? h.length)).join(" | "));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join(" | "));
