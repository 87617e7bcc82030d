import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord, makeRecord } from "../../core/record.js";
import { GitRepo } from "../../git/repo.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { addSession, createDatabase, openDb, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, type SyncWorld } from "../support/sync-env.js";

let world: SyncWorld;

beforeAll(async () => {
  world = await syncWorld();
});

const machine = (name: string, withDb = true, w: SyncWorld = world): TestHome => w.machine(name, withDb);

const count = (h: TestHome, sql: string) => {
  const db = openDb(h);
  try {
    return Number((db.prepare(sql).get() as { n: number }).n);
  } finally {
    db.close();
  }
};

/** Replaces one record on the remote's main with `edit(record)` (an attacker or a broken tool). */
async function tamperRemote(w: SyncWorld, path: string, edit: (text: string) => string): Promise<void> {
  const repo = new GitRepo(w.remoteDir);
  const main = (await repo.revParse("main"))!;
  const rec = decodeRecord(path, (await repo.readBlob(`${main}:${path}`))!);
  const changed = makeRecord({ ...rec, content: new TextEncoder().encode(edit(new TextDecoder().decode(rec.content!))), vector: { ...rec.vector, attacker: 1 } });
  const commit = await repo.commit({ parents: [main], message: "tamper", changes: [[path, encodeRecord(changed)]] });
  await repo.updateRef("refs/heads/main", commit, main);
  repo.close();
}

describe("bad input and hostile conditions", () => {
  const flip = (c: string) => (c === "A" ? "B" : "A");
  it.each([
    ["tampered ciphertext", (t: string) => t.replace(/("v2:[^:"]+:)(.)/, (_m, head: string, c: string) => head + flip(c))],
    // The merge compares entries by fingerprint: a forged one could make an edit look unchanged.
    ["a forged fingerprint", (t: string) => t.replace(/("v2:)(.)/, (_m, head: string, c: string) => head + flip(c))],
  ])("refuses %s with a clear message and leaves auth.json untouched", async (_what, tamper) => {
    // Its own remote: the tampered record would otherwise trouble every later test.
    const own = await syncWorld();
    const A = machine("tamper-a", false, own);
    writeFileSync(join(A.data, "auth.json"), JSON.stringify({ anthropic: { type: "api", key: "sk-ant-canary-1" } }));
    await sync(A);
    const B = machine("tamper-b", false, own);
    writeFileSync(join(B.data, "auth.json"), '{"mine":"untouched"}');
    await tamperRemote(own, "credentials/auth.json", tamper);
    const r = await sync(B);
    expect(r.problems.join("\n")).toMatch(/credential entry "anthropic" in credentials\/auth.json fails authentication/);
    expect(readFileSync(join(B.data, "auth.json"), "utf8")).toBe('{"mine":"untouched"}');
  });

  it("a tampered mcp-auth.json does not hold back auth.json: it alone is named and left untouched", async () => {
    const own = await syncWorld();
    const A = machine("tamper-one-a", false, own);
    writeFileSync(join(A.data, "auth.json"), JSON.stringify({ anthropic: { type: "api", key: "sk-ant-1" } }));
    writeFileSync(join(A.data, "mcp-auth.json"), JSON.stringify({ server: { accessToken: "tok-1" } }));
    await sync(A);
    const B = machine("tamper-one-b", false, own);
    await sync(B);
    const mcpBefore = readFileSync(join(B.data, "mcp-auth.json"), "utf8");
    await tamperRemote(own, "credentials/mcp-auth.json", (t) => t.replace(/("v2:[^:"]+:)(.)/, (_m, head: string, c: string) => head + flip(c)));
    writeFileSync(join(A.data, "auth.json"), JSON.stringify({ anthropic: { type: "api", key: "sk-ant-2" } }));
    await sync(A);
    const r = await sync(B);
    expect(r.problems.join("\n")).toMatch(/credential entry "server" in credentials\/mcp-auth.json fails authentication/);
    expect(JSON.parse(readFileSync(join(B.data, "auth.json"), "utf8"))).toEqual({ anthropic: { type: "api", key: "sk-ant-2" } });
    expect(readFileSync(join(B.data, "mcp-auth.json"), "utf8")).toBe(mcpBefore);
  });

  it("never writes to a database whose schema is newer, keeps syncing files, and catches up after", async () => {
    const A = machine("schema-a");
    const db = openDb(A);
    const s = addSession(db, A);
    db.close();
    writeFileSync(join(A.config, "AGENTS.md"), "be brief\n");
    await sync(A);
    const B = machine("schema-b");
    const dbB = openDb(B);
    dbB.prepare("INSERT INTO migration (id, time_completed) VALUES ('99990101000000_from_the_future', 0)").run();
    dbB.close();
    const r = await sync(B);
    expect(r.problems.join("\n")).toMatch(/newer than this oc-sync knows/);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("be brief\n");
    expect(count(B, `SELECT count(*) AS n FROM session WHERE id = '${s.id}'`)).toBe(0);
    const dbB2 = openDb(B);
    dbB2.prepare("DELETE FROM migration WHERE id = '99990101000000_from_the_future'").run();
    dbB2.close();
    expect((await sync(B)).problems).toEqual([]);
    expect(count(B, `SELECT count(*) AS n FROM session WHERE id = '${s.id}'`)).toBe(1);
  });

  it("waits for OpenCode's write lock instead of failing or corrupting the database", async () => {
    const A = machine("lock-a");
    const db = openDb(A);
    const s = addSession(db, A, { messages: 5 });
    db.close();
    await sync(A);
    const B = machine("lock-b");
    // Another process holds the write lock for 2 s while B applies.
    const holder = spawn(process.execPath, ["-e", `const {DatabaseSync}=require("node:sqlite");const d=new DatabaseSync(${JSON.stringify(B.db)});d.exec("BEGIN IMMEDIATE");console.log("locked");setTimeout(()=>{d.exec("COMMIT");d.close()},2000)`]);
    await new Promise<void>((r) => holder.stdout.once("data", () => r()));
    const r = await sync(B);
    expect(r.problems).toEqual([]);
    expect(count(B, `SELECT count(*) AS n FROM message WHERE session_id = '${s.id}'`)).toBe(5);
    const check = openDb(B);
    expect(check.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(check.prepare("PRAGMA foreign_key_check").all()).toEqual([]);
    check.close();
  });

  it("halts a sync that would delete most sessions until --allow-mass-delete", async () => {
    const A = machine("mass-a");
    const db = openDb(A);
    const ids = Array.from({ length: 12 }, () => addSession(db, A, { messages: 1 }).id);
    db.close();
    await sync(A);
    const before = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString();
    const wipe = openDb(A);
    wipe.prepare("DELETE FROM session").run();
    wipe.close();
    const halted = await runCli(A.env, ["sync"]);
    expect(halted.code).toBe(3);
    expect(halted.stderr).toMatch(/would be deleted.*--allow-mass-delete/s);
    expect((await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString()).toBe(before);
    const forced = await runCli(A.env, ["sync", "--allow-mass-delete"]);
    expect(forced.code).toBe(0);
    const C = machine("mass-c");
    await sync(C);
    expect(count(C, `SELECT count(*) AS n FROM session WHERE id IN (${ids.map((i) => `'${i}'`).join(",")})`)).toBe(0);
    expect(count(A, "SELECT count(*) AS n FROM session")).toBe(0);
  });

  it("syncs files on a machine where OpenCode never ran, and sessions once its database exists", async () => {
    const A = machine("fresh-a");
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    db.close();
    writeFileSync(join(A.config, "tui.json"), '{"theme":"x"}');
    await sync(A);
    const E = machine("fresh-e", false);
    const first = await sync(E);
    expect(existsSync(join(E.config, "tui.json"))).toBe(true);
    expect(first.problems.join("\n")).toMatch(/does not exist yet/);
    const created = createDatabase(E);
    created.close();
    await sync(E);
    expect(count(E, `SELECT count(*) AS n FROM message WHERE session_id = '${s.id}'`)).toBe(2);
  });
});

describe("offline", () => {
  it("commits local changes while the remote is unreachable and pushes them on the next sync", async () => {
    const A = machine("offline-a");
    const B = machine("offline-b");
    mkdirSync(join(A.config, "command"), { recursive: true });
    writeFileSync(join(A.config, "command", "offline.md"), "written offline\n");
    world.server.setFault("reset");
    try {
      const r = await sync(A);
      expect(r.outcome).toBe("offline");
      expect(r.problems.join("\n")).toMatch(/remote unreachable/);
    } finally {
      world.server.setFault(null);
    }
    expect((await sync(A)).outcome).toMatch(/fast-forward|merged/);
    await sync(B);
    expect(readFileSync(join(B.config, "command", "offline.md"), "utf8")).toBe("written offline\n");
  });
});

describe("crash safety", () => {
  for (const point of ["after-fetch", "after-commit", "before-push", "mid-apply"] as const) {
    it(`a sync killed ${point} is finished by the next sync, losing nothing`, async () => {
      const A = machine(`crash-${point}-a`);
      const B = machine(`crash-${point}-b`);
      const dbB = openDb(B);
      const sb = addSession(dbB, B, { messages: 2 });
      dbB.close();
      mkdirSync(join(B.config, "command"), { recursive: true });
      writeFileSync(join(B.config, "command", `b-${point}.md`), `from B ${point}\n`);
      await sync(B);
      const dbA = openDb(A);
      const sa = addSession(dbA, A, { messages: 3 });
      dbA.close();
      mkdirSync(join(A.config, "command"), { recursive: true });
      writeFileSync(join(A.config, "command", `a-${point}.md`), `from A ${point}\n`);
      const crashed = await runCli(A.env, ["sync"], { OC_SYNC_CRASH_AT: point });
      expect(crashed.code).toBe(137);
      const again = await runCli(A.env, ["sync", "--json"]);
      expect(again.code, again.stderr).toBe(0);
      await sync(B);
      for (const h of [A, B]) {
        expect(count(h, `SELECT count(*) AS n FROM message WHERE session_id IN ('${sa.id}', '${sb.id}')`)).toBe(5);
        expect(readFileSync(join(h.config, "command", `a-${point}.md`), "utf8")).toBe(`from A ${point}\n`);
        expect(readFileSync(join(h.config, "command", `b-${point}.md`), "utf8")).toBe(`from B ${point}\n`);
      }
    });
  }

  it("a row written by a sync killed before it saved its index, then edited, keeps the edit", async () => {
    // A world of its own: the killed apply must be the database's (B's session is all there is to apply).
    const w = await syncWorld();
    const A = machine("crash-edit-a", true, w);
    const B = machine("crash-edit-b", true, w);
    const dbB = openDb(B);
    const s = addSession(dbB, B, { messages: 1, title: "from B" });
    dbB.close();
    await sync(B);
    expect((await runCli(A.env, ["sync"], { OC_SYNC_CRASH_AT: "mid-apply" })).code).toBe(137);
    const dbA = openDb(A);
    // The killed sync wrote B's session here; its index does not know the row.
    const edit = dbA.prepare("UPDATE session SET title = 'edited on A', time_updated = ? WHERE id = ?").run(Date.now() + 5, s.id);
    dbA.close();
    expect(edit.changes).toBe(1);
    await sync(A);
    expect(count(A, `SELECT count(*) AS n FROM session WHERE id = '${s.id}' AND title = 'edited on A'`)).toBe(1);
    await sync(A);
    await sync(B);
    for (const h of [A, B]) expect(count(h, `SELECT count(*) AS n FROM session WHERE id = '${s.id}' AND title = 'edited on A'`)).toBe(1);
  });
});
