// GitHub's limits on a push (test/support/github/push-limits.ts), at a lowered push limit: the
// stand-in refuses a push over it and warns of a file over 50 MB as GitHub does, and a sync larger
// than one push lands in several, each under the limit, with nothing lost or half-written, even
// when it is killed between two of them or the server's limit is below oc-sync's push budget.
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MIB } from "../../core/layout.js";
import { loadContext } from "../../client/sync/context.js";
import { runSync, type SyncReport } from "../../client/sync/cycle.js";
import { GitRepo } from "../../git/repo.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { installPushLimits } from "../support/github/push-limits.js";
import { addMessage, addSession, openDb, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, TOKEN, type SyncWorld } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

const LIMIT = 2 * MIB;
const BUDGET_MB = 1;

/** A loopback remote that refuses a push whose pack is over LIMIT, and keeps a reflog of every push. */
async function limitedWorld(): Promise<SyncWorld> {
  const w = await syncWorld();
  installPushLimits(w.remoteDir, { pushLimitBytes: LIMIT });
  await runGit(["--git-dir", w.remoteDir, "config", "core.logAllRefUpdates", "always"]);
  return w;
}

/** About 6 MB of sessions, incompressible (random text), so a pack is as large as what it carries. */
function heavyHome(w: SyncWorld, name: string, budgetMB?: number): TestHome {
  const h = w.machine(name);
  if (budgetMB) writeFileSync(join(h.config, "opencode-sync.jsonc"), `{ "pushBudgetMB": ${budgetMB} }\n`);
  const db = openDb(h);
  for (let s = 0; s < 2; s++) {
    const session = addSession(db, h, { messages: 0 });
    for (let m = 0; m < 10; m++) addMessage(db, h, session, randomBytes(110_000).toString("base64"));
  }
  db.close();
  return h;
}

/** A sync as the CLI runs it, with its log lines. */
async function syncLogged(h: TestHome): Promise<{ report: SyncReport; log: string }> {
  const lines: string[] = [];
  const report = await runSync(await loadContext({ env: h.env, echo: (_, line) => lines.push(line) }));
  return { report, log: lines.join("\n") };
}

const rows = (h: TestHome, sql: string) => {
  const db = openDb(h);
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
};
/** Sessions, messages and parts as `h` has them (data as a hash), as they are on `as` (a message's folders are translated between homes, a part's are not). */
const content = (h: TestHome, as: TestHome = h) => {
  const hashed = (table: string, translate: boolean) =>
    (rows(h, `SELECT id, data FROM ${table} ORDER BY id`) as { id: string; data: string }[]).map((r) => `${r.id} ${createHash("sha256").update(translate ? r.data.replaceAll(h.home, as.home) : r.data).digest("hex")}`);
  return { sessions: rows(h, "SELECT id, title FROM session ORDER BY id"), messages: hashed("message", true), parts: hashed("part", false) };
};

/** Every commit a push moved the remote branch to, oldest first (the remote's reflog). */
async function pushesTo(w: SyncWorld, branch: string): Promise<string[]> {
  const out = await runGit(["--git-dir", w.remoteDir, "reflog", "show", "--format=%H", `refs/heads/${branch}`], { okCodes: [128] });
  return out.stdout.toString().split("\n").filter(Boolean).reverse();
}

const remoteHead = async (w: SyncWorld, branch: string) => (await runGit(["--git-dir", w.remoteDir, "rev-parse", branch])).stdout.toString().trim();

/** A plain git push of one commit holding `bytes` to the remote. */
async function plainPush(w: SyncWorld, bytes: Buffer): Promise<{ code: number; stderr: string }> {
  const repo = await GitRepo.open(join(await tempDir(), "plain.git"));
  const commit = await repo.commit({ parents: [], message: "one big commit", changes: [["big.bin", bytes]] });
  return repo.git(["push", "--porcelain", w.url, `${commit}:refs/heads/plain`], { auth: { token: TOKEN }, okCodes: [1] });
}

describe("GitHub's push limits in the stand-in", () => {
  it("refuses a push whose pack is over the limit, in git's (and GitHub's) words", async () => {
    const w = await limitedWorld();
    const r = await plainPush(w, randomBytes(3 * MIB));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/remote: fatal: pack exceeds maximum allowed size/);
    expect(await pushesTo(w, "plain")).toEqual([]);
  });

  it("lets a file over 50 MB through with GitHub's warning", async () => {
    const w = await syncWorld();
    installPushLimits(w.remoteDir);
    // Zeros: 51 MiB to GitHub's check, a few KB on disk and on the wire.
    const r = await plainPush(w, Buffer.alloc(51 * MIB));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("remote: warning: File big.bin is 51.00 MB; this is larger than GitHub's recommended maximum file size of 50.00 MB");
    expect(r.stderr).toContain("remote: warning: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com.");
  });
});

describe("a sync larger than one push", () => {
  it("lands in several pushes under the limit; another machine gets all of it; the next sync changes nothing", async () => {
    const w = await limitedWorld();
    const A = heavyHome(w, "heavy-a", BUDGET_MB);
    const { report, log } = await syncLogged(A);
    expect(report.outcome).toBe("fast-forward");
    expect(report.problems).toEqual([]);
    expect(log).toMatch(/MB to push, over the push budget of 1\.0 MB \(the setting pushBudgetMB\): in \d+ pushes/);
    expect(log).not.toContain("refused");

    const steps = await pushesTo(w, "machines/heavy-a");
    expect(steps.length).toBeGreaterThanOrEqual(5);
    const remote = new GitRepo(w.remoteDir);
    for (const [i, step] of steps.entries()) {
      // One chain, each push on the one before; each carries at most the budget of records.
      if (i === 0) continue;
      expect(await remote.isAncestor(steps[i - 1]!, step)).toBe(true);
      const blobs = (await remote.diff(steps[i - 1]!, step)).flatMap((c) => (c.oid ? [c.oid] : []));
      expect((await remote.objectSizes(blobs)).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BUDGET_MB * MIB);
    }
    // Main moved once, to the last step, after the set-up commit.
    expect((await pushesTo(w, "main")).slice(1)).toEqual([steps.at(-1)]);

    const B = w.machine("heavy-b");
    await sync(B);
    expect(content(B)).toEqual(content(A, B));
    expect(content(B).parts).toHaveLength(40);
    await sync(A);
    const main = await remoteHead(w, "main");
    expect((await sync(A)).committed).toBe(0);
    expect((await sync(B)).committed).toBe(0);
    expect(await remoteHead(w, "main")).toBe(main);
  });

  it("killed between two pushes: the next sync continues from what landed, losing nothing", async () => {
    const w = await limitedWorld();
    const A = heavyHome(w, "killed-a", BUDGET_MB);
    const killed = await runCli(A.env, ["sync"], { OC_SYNC_CRASH_AT: "between-pushes" });
    expect(killed.code).toBe(137);
    const landed = await pushesTo(w, "machines/killed-a");
    expect(landed).toHaveLength(1);
    expect(await pushesTo(w, "main")).toHaveLength(1);

    const again = await runCli(A.env, ["sync"]);
    expect(again.code, again.stderr).toBe(0);
    // Continued on the step that landed, not started over beside it.
    expect(await new GitRepo(w.remoteDir).isAncestor(landed[0]!, await remoteHead(w, "main"))).toBe(true);
    const B = w.machine("killed-b");
    await sync(B);
    expect(content(B)).toEqual(content(A, B));
  });

  it("one record rewritten offline many times, over the server's limit in all: refused once, then measured and split", async () => {
    const w = await limitedWorld();
    const A = w.machine("rewrite-a");
    await sync(A);
    const db = openDb(A);
    const session = addSession(db, A, { messages: 0 });
    addMessage(db, A, session, "first", 1);
    db.close();
    // Five versions of one ~900 KB part, each committed by a sync while the remote is unreachable: ~4.5 MB
    // to push (over the 2 MiB limit), while main and the last commit differ by one version only (what
    // the push-size shortcut sees: it says the push fits, and the server refuses it).
    w.server.setFault("reset");
    try {
      for (let i = 0; i < 5; i++) {
        const edit = openDb(A);
        edit.prepare("UPDATE part SET data = ?, time_updated = ? WHERE id = ?").run(JSON.stringify({ type: "text", text: randomBytes(675_000).toString("base64") }), Date.now() + i, session.parts[0]!);
        edit.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(Date.now() + i, session.id);
        edit.close();
        expect((await sync(A)).outcome).toBe("offline");
      }
    } finally {
      w.server.setFault(null);
    }
    const { report, log } = await syncLogged(A);
    expect(report.outcome).toBe("fast-forward");
    // After one refusal the push is measured exactly, not estimated again and refused again.
    expect(log.match(/the server refused a push of/g)).toHaveLength(1);
    const B = w.machine("rewrite-b");
    await sync(B);
    expect(content(B)).toEqual(content(A, B));
  });

  it("with a push budget above the server's limit: the refusal is recognised and the sync lands in smaller steps", async () => {
    const w = await limitedWorld();
    const A = heavyHome(w, "over-a");
    const { report, log } = await syncLogged(A);
    expect(report.outcome).toBe("fast-forward");
    expect(log).toMatch(/the server refused a push of [\d.]+ MB as too large; pushing in steps of at most [\d.]+ MB/);
    expect((await pushesTo(w, "machines/over-a")).length).toBeGreaterThan(1);
    const B = w.machine("over-b");
    await sync(B);
    expect(content(B)).toEqual(content(A, B));
  });
});
