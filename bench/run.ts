// npm run bench [-- --quick | S M L] [--only=sizes,reconcile,growth,actions,stall,plugin]: oc-sync against the loopback git server at realistic sizes.
// Every figure is measured in this one run; speed targets are ratios to the floor (bench/floor.ts:
// one JSON file per session with plain git) or to a plain bare clone, measured beside it, because
// this machine is shared and noisy.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { deflateSync } from "node:zlib";
import { loadContext, type SyncContext } from "../client/sync/context.js";
import { runSync } from "../client/sync/cycle.js";
import { recordSigner } from "../client/crypto/record-mac.js";
import { RECORD_ROOTS } from "../core/layout.js";
import { decodeRecord, encodeRecord, makeRecord } from "../core/record.js";
import { mergeAllBranches } from "../git/merge-all.js";
import { GitRepo } from "../git/repo.js";
import { runGit } from "../git/run.js";
import { createDatabase, DEMO_PROJECT, makeHome, type TestHome } from "../test/support/opencode-home.js";
import { benchActionJob } from "./action-job.js";
import { replayMonth } from "./actions-minutes.js";
import { floorCloneAll, floorPullNew, floorPushAll, floorPushSession, type FloorRemote } from "./floor.js";
import { median } from "./median.js";
import { measurePluginOverhead } from "./plugin-overhead.js";
import { measurePluginStall } from "../test/support/plugin-stall.js";
import { addGeneratedSession, addMessage, generate, SIZES, type Size } from "./generate.js";

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

/** One size's run: the generated machine A, the loopback server, and the floor's three remotes (floor-0..2.git). */
interface SizeRun {
  readonly size: Size;
  readonly root: string;
  readonly srv: string;
  readonly server: Awaited<ReturnType<typeof gitServerProcess>>;
  readonly env: Record<string, string>;
  readonly A: TestHome;
  readonly sessions: readonly string[];
}

const AUTH = { token: TOKEN };
const floorRemote = (r: SizeRun, i: number): FloorRemote => ({ url: r.server.url(`floor-${i}.git`), auth: AUTH });
const floorCheckout = (r: SizeRun, i: number) => join(r.root, `floor-push-${i}`);
const timesFloor = (ms: number, floorMs: number) => `${(ms / floorMs).toFixed(2)}× floor (${secs(floorMs)})`;
const peakGoal = (size: Size) => `peak ≤ ${size.name === "R" ? 200 : 400} MB`;
const countRows = (db: DatabaseSync, table: string) => Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
const mainOf = async (r: SizeRun) => (await runGit(["--git-dir", join(r.srv, "sync.git"), "rev-parse", "main"])).stdout.toString().trim();

/** A repository's objects on disk, packed and loose, and how many (`git count-objects -v`). */
async function repoSize(gitDir: string): Promise<{ kib: number; objects: number }> {
  const out = (await runGit(["--git-dir", gitDir, "count-objects", "-v"])).stdout.toString();
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(out)![1]);
  return { kib: field("size-pack") + field("size"), objects: field("in-pack") + field("count") };
}

async function benchSize(size: Size): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `oc-sync-bench-${size.name}-`));
  try {
    const srv = join(root, "srv");
    for (const repo of ["sync.git", "floor-0.git", "floor-1.git", "floor-2.git"]) await runGit(["init", "--bare", "-q", "-b", "main", join(srv, repo)]);
    // The floor's pushed pack is kept as it came, as oc-sync's is (git unpacks a push of under 100 objects into loose files).
    for (let i = 0; i < 3; i++) await runGit(["--git-dir", join(srv, `floor-${i}.git`), "config", "receive.unpackLimit", "1"]);
    const server = await gitServerProcess(srv);
    const env = { OC_SYNC_REMOTE: server.url("sync.git"), OC_SYNC_TOKEN: TOKEN };
    const A = makeHome(root, "a", env);
    const t0 = performance.now();
    const { sessions } = generate(A.db, size, DEMO_PROJECT, A.repo);
    const counts = new DatabaseSync(A.db, { readOnly: true });
    const n = (t: string) => countRows(counts, t);
    const shape = `${n("session")} sessions, ${n("message")} messages, ${n("part")} parts, ${(statSync(A.db).size / 1e6).toFixed(0)} MB`;
    counts.close();
    console.error(`[${size.name}] generated ${shape} in ${secs(performance.now() - t0)}`);
    const r: SizeRun = { size, root, srv, server, env, A, sessions };
    await initialPush(r);
    const { B, floorClone } = await firstPulls(r);
    const ctxA = await loadContext({ env: A.env });
    const heads = await incremental(r, ctxA);
    const ctxB = await pullRecords(r, ctxA, B);
    await pullNewSession(r, ctxA, ctxB, floorClone);
    floorClone.db.close();
    await actionJob(r, heads);
    if (size.name !== "L") await passphraseCost(r);
    await server.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** oc-sync's initial sync through the CLI, then the floor's initial push three times (one fresh remote each). */
async function initialPush(r: SizeRun): Promise<void> {
  const initial = await cliSync(r.A);
  const remote = await repoSize(join(r.srv, "sync.git"));
  const floorMs: number[] = [];
  for (let i = 0; i < 3; i++) floorMs.push(await floorPushAll(r.A.db, floorCheckout(r, i), floorRemote(r, i)));
  const floor = await repoSize(join(r.srv, "floor-0.git"));
  row(r.size.name, "initial sync (push all)", secs(initial.ms), `${timesFloor(initial.ms, median(floorMs))}, peak ${initial.maxRssMb.toFixed(0)} MB`, `target ≤ 0.5× floor, ${peakGoal(r.size)}`);
  const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
  row(r.size.name, "remote after the initial push", mb(remote.kib), `${(remote.kib / floor.kib).toFixed(2)}× floor (${mb(floor.kib)}); ${remote.objects} objects, floor ${floor.objects}`, "target ≤ 4× floor");
  await signingCost(r, initial.ms);
}

/**
 * What signing records costs (a machine with a passphrase signs every record it commits, and checks
 * what it applies): every record of the initial push signed and checked once, in this process,
 * against the initial sync's time (which the bench runs without a passphrase).
 */
async function signingCost(r: SizeRun, initialMs: number): Promise<void> {
  const repo = await GitRepo.open(join(r.srv, "sync.git"));
  const entries = await repo.listTree("main", RECORD_ROOTS);
  const blobs = await repo.readBlobs(entries.map((e) => e.oid));
  repo.close();
  const records = entries.map((e, i) => decodeRecord(e.path, blobs[i]!));
  const signer = recordSigner({ current: randomBytes(32), older: [] });
  const t0 = performance.now();
  const signed = records.map((x) => signer.sign(x));
  const checked = signed.filter((x) => signer.authentic(x)).length;
  const ms = performance.now() - t0;
  const extra = signed.reduce((n, x) => n + encodeRecord(x).length, 0) - records.reduce((n, x) => n + encodeRecord(x).length, 0);
  row(r.size.name, `signing: sign and check every record (${checked})`, secs(ms), `${((100 * ms) / initialMs).toFixed(1)} % of the initial sync (${secs(initialMs)}); +${(extra / 1e6).toFixed(1)} MB of headers before compression`, "measured (no target)");
}

/**
 * First pull: new machines where OpenCode has run (an empty database, in WAL mode as OpenCode
 * leaves it), alternating with the floor's clone and import from floor-0.git into the same kind of
 * database. Three of each but at L, so a neighbour's burst moves the median little. The first
 * machine and the first floor clone stay for the pulls after.
 */
async function firstPulls(r: SizeRun): Promise<{ B: TestHome; floorClone: { dir: string; db: DatabaseSync } }> {
  const pulls: { ms: number; maxRssMb: number }[] = [];
  const floorMs: number[] = [];
  const machines: TestHome[] = [];
  const floorDbs: DatabaseSync[] = [];
  for (let i = 0; i < (r.size.name === "L" ? 1 : 3); i++) {
    const h = makeHome(r.root, `b${i}`, r.env);
    createDatabase(h).close();
    pulls.push(await cliSync(h));
    machines.push(h);
    floorDbs.push(createDatabase(makeHome(r.root, `floor-b${i}`)));
    floorMs.push(await floorCloneAll(floorRemote(r, 0), join(r.root, `floor-clone-${i}`), floorDbs[i]!));
  }
  const floorSessions = countRows(floorDbs[0]!, "session");
  if (floorSessions !== r.sessions.length) throw new Error(`the floor imported ${floorSessions} sessions of ${r.sessions.length}`);
  for (const db of floorDbs.slice(1)) db.close();
  const pullMs = median(pulls.map((p) => p.ms));
  const runs = pulls.length > 1 ? `runs ${pulls.map((p) => secs(p.ms)).join(", ")}; ` : "";
  const goal = `target ≤ 1.5× floor, ${peakGoal(r.size)}${r.size.name === "R" ? "; best existing tool: 4.8 s on this shape" : ""}`;
  row(r.size.name, "first pull onto a new machine", secs(pullMs), `${runs}${timesFloor(pullMs, median(floorMs))}, peak ${Math.max(...pulls.map((p) => p.maxRssMb)).toFixed(0)} MB`, goal);
  return { B: machines[0]!, floorClone: { dir: join(r.root, "floor-clone-0"), db: floorDbs[0]! } };
}

/**
 * Incremental: one message with ten parts, oc-sync's full cycle (detect, commit, push) in process,
 * alternating with the floor's one-file push of that session to floor-1.git. Returns main after
 * each sync (and before the first), for the Action job.
 */
async function incremental(r: SizeRun, ctxA: SyncContext): Promise<string[]> {
  const inc: { ms: number; cpuMs: number }[] = [];
  const floorMs: number[] = [];
  const heads = [await mainOf(r)];
  for (let i = 0; i < 5; i++) {
    const session = r.sessions[i % r.sessions.length]!;
    addOneMessage(r.A, session);
    inc.push(await timed(() => runSync(ctxA)));
    heads.push(await mainOf(r));
    floorMs.push(await floorPushSession(r.A.db, floorCheckout(r, 1), session, floorRemote(r, 1)));
  }
  const incMs = median(inc.map((x) => x.ms));
  row(r.size.name, "incremental: 1 message + 10 parts", secs(incMs), `${timesFloor(incMs, median(floorMs))}: its session's file pushed; CPU ${median(inc.map((x) => x.cpuMs)).toFixed(0)} ms`, "target ≤ 2.5× floor, < 500 ms CPU");
  return heads;
}

/** Pull: 1,000 remote records into B's database while an "OpenCode" writer keeps writing. */
async function pullRecords(r: SizeRun, ctxA: SyncContext, B: TestHome): Promise<SyncContext> {
  for (let i = 0; i < 91; i++) addOneMessage(r.A, r.sessions[(i * 7) % r.sessions.length]!);
  await runSync(ctxA);
  const writer = spawn(process.execPath, ["-e", `
    const {DatabaseSync}=require("node:sqlite"); const d=new DatabaseSync(${JSON.stringify(B.db)}); d.exec("PRAGMA busy_timeout=5000");
    let worst=0; const end=Date.now()+120000;
    (function tick(){ const t=Date.now(); try{ d.exec("BEGIN IMMEDIATE"); d.exec("COMMIT"); }catch(e){ worst=1e9 } worst=Math.max(worst,Date.now()-t);
      if(Date.now()<end) setTimeout(tick,20); })();
    process.on("SIGTERM",()=>{ console.log(worst); process.exit(0); });`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const ctxB = await loadContext({ env: B.env });
  const pull = await timed(() => runSync(ctxB));
  const worst = await new Promise<number>((resolve) => {
    let out = "";
    writer.stdout.on("data", (d: Buffer) => (out += d));
    writer.on("close", () => resolve(Number(out.trim())));
    writer.kill("SIGTERM");
  });
  row(r.size.name, `pull: ${pull.value.applied} records into the database`, secs(pull.ms), `OpenCode writer waited at most ${worst} ms`, "target: never near the 5 s busy timeout");
  return ctxB;
}

/** Pull one new session: A adds one of the size's shape and syncs, then B syncs; beside it the floor's one-file pull into its first clone. */
async function pullNewSession(r: SizeRun, ctxA: SyncContext, ctxB: SyncContext, floorClone: { dir: string; db: DatabaseSync }): Promise<void> {
  const pulls: number[] = [];
  const floorMs: number[] = [];
  let applied = 0;
  for (let i = 0; i < 3; i++) {
    const session = addGeneratedSession(r.A.db, r.size, DEMO_PROJECT, r.A.repo, r.size.sessions + i);
    await runSync(ctxA);
    const pull = await timed(() => runSync(ctxB));
    pulls.push(pull.ms);
    applied = pull.value.applied;
    await floorPushSession(r.A.db, floorCheckout(r, 0), session, floorRemote(r, 0));
    floorMs.push(await floorPullNew(floorRemote(r, 0), floorClone.dir, floorClone.db));
  }
  row(r.size.name, `pull 1 new session (${applied} records)`, secs(median(pulls)), timesFloor(median(pulls), median(floorMs)), "target ≤ 2.5× floor");
}

async function actionJob(r: SizeRun, heads: readonly string[]): Promise<void> {
  const runs = await benchActionJob(r.root, r.srv, join(r.srv, "sync.git"), r.server.url, AUTH, heads.slice(-3) as [string, string, string]);
  const job = median(runs.jobMs);
  const clone = median(runs.bareCloneMs);
  row(r.size.name, "Action job: checkout + merge of 1 branch (1 message)", secs(job), `${(job / clone).toFixed(2)}× plain git clone --bare (${secs(clone)}); runs ${runs.jobMs.map(secs).join(", ")}, checkout ${secs(median(runs.checkoutMs))} of each`, "target ≤ 1.5× a bare clone");
}

/**
 * What a passphrase costs whole syncs (a machine signs every record it commits, checks the
 * executable config and credentials it applies, and unwraps the key once): A's data synced to two
 * fresh remotes, one machine with a passphrase and one without, side by side: the initial sync, a
 * new machine's first pull, and three incremental syncs of one message each.
 */
async function passphraseCost(r: SizeRun): Promise<void> {
  const sides = await Promise.all(
    ["plain", "pass"].map(async (name) => {
      await runGit(["init", "--bare", "-q", "-b", "main", join(r.srv, `${name}.git`)]);
      const env = { ...r.env, OC_SYNC_REMOTE: r.server.url(`${name}.git`), ...(name === "pass" ? { OC_SYNC_PASSPHRASE: "bench passphrase" } : {}) };
      const A = makeHome(r.root, `${name}-a`, env);
      const source = new DatabaseSync(r.A.db, { readOnly: true });
      source.exec(`VACUUM INTO '${A.db}'`);
      source.close();
      return { A, B: makeHome(r.root, `${name}-b`, env), initial: 0, pull: 0, inc: [] as number[] };
    }),
  );
  for (const side of sides) side.initial = (await cliSync(side.A)).ms;
  for (const side of sides) {
    createDatabase(side.B).close();
    side.pull = (await cliSync(side.B)).ms;
  }
  const contexts = await Promise.all(sides.map((side) => loadContext({ env: side.A.env })));
  for (let i = 0; i < 3; i++) {
    for (const [k, side] of sides.entries()) {
      addOneMessage(side.A, r.sessions[i]!);
      side.inc.push((await timed(() => runSync(contexts[k]!))).ms);
    }
  }
  const [plain, pass] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const against = (ms: number, without: number) => [secs(ms), `${(ms / without).toFixed(2)}× the same without a passphrase (${secs(without)})`];
  row(r.size.name, "with a passphrase: initial sync", ...against(pass.initial, plain.initial), "measured (issue 16: report)");
  row(r.size.name, "with a passphrase: first pull", ...against(pass.pull, plain.pull), "measured (issue 16: report)");
  row(r.size.name, "with a passphrase: incremental (1 message + 10 parts)", ...against(median(pass.inc), median(plain.inc)), "measured (issue 16: report)");
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
    const sizeOf = async () => (await repoSize(remote)).kib * 1024;
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
