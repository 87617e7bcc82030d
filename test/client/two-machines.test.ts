import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { beforeAll, describe, expect, it } from "vitest";
import { ocSyncPaths } from "../../client/platform/paths.js";
import { runGit } from "../../git/run.js";
import { addMessage, addProject, addSession, createDatabase, DEMO_PROJECT, openDb, type TestHome } from "../support/opencode-home.js";
import { PASSPHRASE, sync, syncWorld, TOKEN, type SyncWorld } from "../support/sync-env.js";

let world: SyncWorld;
let A: TestHome;
let B: TestHome;

beforeAll(async () => {
  world = await syncWorld();
  A = world.home("laptop");
  B = world.home("desktop");
  for (const h of [A, B]) {
    const db = createDatabase(h);
    addProject(db, h);
    db.close();
  }
  writeFileSync(join(A.config, "opencode.jsonc"), `{\n  // my models\n  "model": "fakellm/fake-model",\n  "theme": "dark",\n  "autoupdate": false\n}\n`);
  mkdirSync(join(A.config, "agent"), { recursive: true });
  writeFileSync(join(A.config, "agent", "review.md"), "# Review\n\nBe thorough.\n");
  mkdirSync(join(A.config, "node_modules", "x"), { recursive: true });
  writeFileSync(join(A.config, "node_modules", "x", "index.js"), "generated");
  writeFileSync(join(A.config, "package.json"), "{}");
  writeFileSync(join(A.data, "auth.json"), JSON.stringify({ openai: { type: "api", key: "sk-canary-OPENAI-7f3a9c" } }, null, 2));
  chmodSync(join(A.data, "auth.json"), 0o600);
  await sync(A);
  await sync(B);
});

const rows = (h: TestHome, sql: string, ...p: (string | number)[]) => {
  const db = openDb(h);
  try {
    return db.prepare(sql).all(...p) as Record<string, unknown>[];
  } finally {
    db.close();
  }
};

describe("two machines through one git remote", () => {
  it("brings config, agents and credentials to a new machine, but not what OpenCode generates", () => {
    expect(readFileSync(join(B.config, "opencode.jsonc"), "utf8")).toContain("// my models");
    expect(readFileSync(join(B.config, "agent", "review.md"), "utf8")).toBe("# Review\n\nBe thorough.\n");
    expect(existsSync(join(B.config, "node_modules"))).toBe(false);
    expect(existsSync(join(B.config, "package.json"))).toBe(false);
    const auth = join(B.data, "auth.json");
    expect(JSON.parse(readFileSync(auth, "utf8"))).toEqual({ openai: { type: "api", key: "sk-canary-OPENAI-7f3a9c" } });
    expect(statSync(auth).mode & 0o777).toBe(0o600);
  });

  it("merges concurrent edits of the same JSONC file and keeps its comments", async () => {
    const fileA = join(A.config, "opencode.jsonc");
    const fileB = join(B.config, "opencode.jsonc");
    writeFileSync(fileA, readFileSync(fileA, "utf8").replace('"dark"', '"light"'));
    writeFileSync(fileB, readFileSync(fileB, "utf8").replace("false", "true"));
    await sync(A);
    const r = await sync(B);
    expect(r.outcome).toBe("merged");
    await sync(A);
    for (const f of [fileA, fileB]) {
      const text = readFileSync(f, "utf8");
      expect(text).toContain("// my models");
      expect(text).toContain('"theme": "light"');
      expect(text).toContain('"autoupdate": true');
    }
    expect(r.conflicts).toEqual([]);
  });

  it("copies a session with its messages, parts and todos, translating the directory", async () => {
    const db = openDb(A);
    const s = addSession(db, A, { messages: 3 });
    db.close();
    await sync(A);
    await sync(B);
    const q = "SELECT * FROM session WHERE id = ?";
    const [a] = rows(A, q, s.id);
    const [b] = rows(B, q, s.id);
    expect(b).toEqual({ ...a, directory: B.repo });
    const strip = (r: Record<string, unknown>) => ({ ...r, data: JSON.parse(String(r.data)) });
    const msgsA = rows(A, "SELECT * FROM message WHERE session_id = ? ORDER BY id", s.id).map(strip);
    const msgsB = rows(B, "SELECT * FROM message WHERE session_id = ? ORDER BY id", s.id).map(strip);
    expect(msgsB).toHaveLength(3);
    expect(msgsB.map((m) => (m.data as { path: unknown }).path)).toEqual(msgsA.map(() => ({ cwd: B.repo, root: B.repo })));
    expect(rows(B, "SELECT * FROM part WHERE session_id = ? ORDER BY id", s.id)).toEqual(rows(A, "SELECT * FROM part WHERE session_id = ? ORDER BY id", s.id));
    expect(rows(B, "SELECT * FROM todo WHERE session_id = ? ORDER BY position", s.id)).toEqual(rows(A, "SELECT * FROM todo WHERE session_id = ? ORDER BY position", s.id));
  });

  it("syncs one new message without rewriting the session's other records", async () => {
    const db = openDb(A);
    const s = addSession(db, A, { messages: 20 });
    db.close();
    await sync(A);
    await sync(B);
    const before = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
    const db2 = openDb(A);
    const mid = addMessage(db2, A, { id: s.id, messages: [], parts: [] }, "one more", 10);
    db2.close();
    await sync(A);
    const after = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
    const changed = (await runGit(["--git-dir", world.remoteDir, "diff", "--name-only", before, after])).stdout.toString().trim().split("\n");
    expect(changed.sort()).toEqual(
      [`db/sessions/${s.id}/session.json`, `db/sessions/${s.id}/messages/${mid}.json`, ...rows(A, "SELECT id FROM part WHERE message_id = ?", mid).map((r) => `db/sessions/${s.id}/parts/${mid}/${r.id}.json`)].sort(),
    );
    await sync(B);
    expect(rows(B, "SELECT count(*) AS n FROM part WHERE message_id = ?", mid)).toEqual([{ n: 10 }]);
  });

  it("propagates deletes, and a stale machine cannot bring the deleted session back", async () => {
    const C = world.home("stale");
    const dbC = createDatabase(C);
    addProject(dbC, C);
    dbC.close();
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    db.close();
    await sync(A);
    expect((await sync(C)).problems).toEqual([]);
    expect(rows(C, "SELECT id FROM session WHERE id = ?", s.id)).toHaveLength(1);
    const dbA = openDb(A);
    dbA.prepare("DELETE FROM session WHERE id = ?").run(s.id);
    dbA.close();
    await sync(A);
    await sync(B);
    expect(rows(B, "SELECT id FROM session WHERE id = ?", s.id)).toHaveLength(0);
    expect(rows(B, "SELECT id FROM part WHERE session_id = ?", s.id)).toHaveLength(0);
    await sync(C);
    await sync(A);
    expect(rows(C, "SELECT id FROM session WHERE id = ?", s.id)).toHaveLength(0);
    expect(rows(A, "SELECT id FROM session WHERE id = ?", s.id)).toHaveLength(0);
  });

  it("never stores a credential in plaintext anywhere in the remote's history", async () => {
    const objects = (await runGit(["--git-dir", world.remoteDir, "cat-file", "--batch-all-objects", "--batch"])).stdout;
    expect(objects.length).toBeGreaterThan(1000);
    expect(objects.includes(Buffer.from("sk-canary-OPENAI-7f3a9c"))).toBe(false);
    expect(objects.includes(Buffer.from(PASSPHRASE))).toBe(false);
    expect(objects.includes(Buffer.from(TOKEN))).toBe(false);
  });

  it("refuses a wrong passphrase on a new machine and leaves its files untouched", async () => {
    const D = world.home("newbox", { OC_SYNC_PASSPHRASE: "not the passphrase" });
    writeFileSync(join(D.data, "auth.json"), '{"local":"keep me"}');
    await expect(sync(D)).rejects.toThrow(/wrong passphrase/);
    expect(readFileSync(join(D.data, "auth.json"), "utf8")).toBe('{"local":"keep me"}');
    expect(existsSync(join(D.config, "opencode.jsonc"))).toBe(false);
  });
});

describe("a first pull larger than one apply batch", () => {
  it("after a first pull, what OpenCode then adds to a pulled session is committed, though the scan no longer rereads every row", async () => {
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    db.close();
    await sync(A);
    const C = world.machine("tablet");
    const before = Date.now();
    const pulled = await sync(C);
    expect(pulled.applied).toBeGreaterThan(0);
    // The scan's window for each session the pull created starts at the pull.
    const state = new DatabaseSync(ocSyncPaths(C.env).stateDb, { readOnly: true });
    const mark = state.prepare("SELECT value FROM meta WHERE key = ?").get(`seen:${s.id}`) as { value: string } | undefined;
    state.close();
    expect(Number(mark?.value)).toBeGreaterThanOrEqual(before);
    expect((await sync(C)).committed).toBe(0);
    // OpenCode on the tablet continues the session and edits a part it pulled.
    const cdb = openDb(C);
    const mid = addMessage(cdb, C, s, "continued on the tablet");
    cdb.prepare("UPDATE part SET data = json_set(data, '$.text', 'edited on the tablet'), time_updated = ? WHERE id = ?").run(Date.now(), s.parts[0]!);
    cdb.close();
    expect((await sync(C)).committed).toBeGreaterThanOrEqual(4);
    await sync(A);
    expect(rows(A, "SELECT id FROM message WHERE id = ?", mid)).toHaveLength(1);
    expect(rows(A, "SELECT json_extract(data, '$.text') AS t FROM part WHERE id = ?", s.parts[0]!)).toEqual([{ t: "edited on the tablet" }]);
  });

  it("places every message and part, whichever batch its session falls in", async () => {
    const w = await syncWorld();
    const A = w.home("big-a");
    const { generate } = await import("../../bench/generate.js");
    // 12 sessions × (40 messages + 400 parts): over 5,000 records, so batches split sessions.
    generate(A.db, { name: "t", sessions: 12, messagesPerSession: 40, partsPerMessage: 10 }, DEMO_PROJECT, A.repo);
    await sync(A);
    const B = w.home("big-b");
    createDatabase(B).close();
    const r = await sync(B);
    expect(r.problems).toEqual([]);
    for (const table of ["session", "message", "part"]) {
      const count = (h: TestHome) => {
        const db = openDb(h);
        const n = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        db.close();
        return n;
      };
      expect(count(B), table).toBe(count(A));
    }
  });
});
