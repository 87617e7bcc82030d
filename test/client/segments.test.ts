// The segment layout end to end: what a user would check after a first sync of a long history (the
// remote holds few objects, the next machine gets every row), and that everything after it (an
// edit, a new message, a deletion) still syncs record by record.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { addMessage, addSession, createDatabase, addProject, openDb, type MadeSession, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, type SyncWorld } from "../support/sync-env.js";

const rows = (h: TestHome, sql: string) => {
  const db = openDb(h);
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
};
const everything = (h: TestHome) => ({
  sessions: rows(h, "SELECT id, title FROM session ORDER BY id"),
  // Not the paths in them: each machine has its own checkout (path translation).
  messages: rows(h, "SELECT id, session_id, json_extract(data, '$.role') AS role FROM message ORDER BY id"),
  parts: rows(h, "SELECT id, message_id, json_extract(data, '$.text') AS text, json_extract(data, '$.state.output') AS output FROM part ORDER BY id"),
});
const remoteFiles = async (w: SyncWorld) => (await runGit(["--git-dir", w.remoteDir, "ls-tree", "-r", "--name-only", "main"])).stdout.toString().trim().split("\n");
const objects = async (w: SyncWorld) => {
  const out = (await runGit(["--git-dir", w.remoteDir, "count-objects", "-v"])).stdout.toString();
  return Number(/^count: (\d+)/m.exec(out)![1]) + Number(/^in-pack: (\d+)/m.exec(out)![1]);
};

function machineWith(w: SyncWorld, name: string, sessions: number): { home: TestHome; made: MadeSession[] } {
  const home = w.home(name);
  const db = createDatabase(home);
  addProject(db, home);
  const made = Array.from({ length: sessions }, (_, i) => addSession(db, home, { messages: 10, title: `session ${i}` }));
  db.close();
  return { home, made };
}

describe("segments: a first sync of many sessions", () => {
  let world: SyncWorld;
  let A: TestHome;
  let B: TestHome;
  let made: MadeSession[];

  beforeAll(async () => {
    world = await syncWorld();
    ({ home: A, made } = machineWith(world, "laptop", 6));
    await sync(A);
    B = world.home("desktop");
    const db = createDatabase(B);
    addProject(db, B);
    db.close();
    await sync(B);
  });

  it("stores each session as a segment (two blobs, not one per row) and the next machine gets every row", async () => {
    const files = await remoteFiles(world);
    for (const s of made) expect(files.filter((f) => f.startsWith(`db/sessions/${s.id}/`))).toEqual([`db/sessions/${s.id}/segment-0.idx`, `db/sessions/${s.id}/segment-0.seg`]);
    // 6 sessions × (1 row, 1 todo list, 10 messages, 20 parts) = 192 rows, in 12 blobs and their folders.
    expect(await objects(world)).toBeLessThan(60);
    expect(everything(B)).toEqual(everything(A));
    expect(everything(B).parts.length).toBe(6 * 20);
  });

  it("writes a later message loose, and both machines converge on it", async () => {
    const db = openDb(B);
    addMessage(db, B, made[2]!, "written on the desktop");
    db.close();
    await sync(B);
    await sync(A);
    expect(everything(A)).toEqual(everything(B));
    const files = await remoteFiles(world);
    expect(files.filter((f) => f.startsWith(`db/sessions/${made[2]!.id}/messages/`)).length).toBe(1);
    expect(rows(A, "SELECT data FROM part").some((p) => String(p.data).includes("written on the desktop"))).toBe(true);
  });

  it("edits a row held in a segment, and deletes a session held in one, on the other machine too", async () => {
    const db = openDb(A);
    db.prepare("UPDATE session SET title = 'renamed on the laptop', time_updated = time_updated + 10 WHERE id = ?").run(made[0]!.id);
    for (const t of ["part", "message", "todo", "session"]) db.prepare(`DELETE FROM ${t} WHERE ${t === "session" ? "id" : "session_id"} = ?`).run(made[5]!.id);
    db.close();
    await sync(A);
    await sync(B);
    expect(rows(B, `SELECT title FROM session WHERE id = '${made[0]!.id}'`)).toEqual([{ title: "renamed on the laptop" }]);
    expect(rows(B, `SELECT id FROM message WHERE session_id = '${made[5]!.id}'`)).toEqual([]);
    expect(everything(B)).toEqual(everything(A));
  });
});

describe("segments: a sync repo an older oc-sync made", () => {
  it("keeps writing one blob per row, as every machine of it can read that", async () => {
    const world = await syncWorld();
    const { home: A } = machineWith(world, "laptop", 1);
    // Format 1, as an older oc-sync set it up.
    const seed = join(world.root, "seed.git");
    await runGit(["init", "--bare", "-q", "-b", "main", seed]);
    const blob = (await runGit(["--git-dir", seed, "hash-object", "-w", "--stdin"], { input: '{"format":1}\n' })).stdout.toString().trim();
    const tree = (await runGit(["--git-dir", seed, "mktree"], { input: `100644 blob ${blob}\tformat.json\n` })).stdout.toString().trim();
    const top = (await runGit(["--git-dir", seed, "mktree"], { input: `040000 tree ${tree}\t.oc-sync\n` })).stdout.toString().trim();
    const commit = (await runGit(["--git-dir", seed, "commit-tree", top, "-m", "oc-sync: set up sync repository"])).stdout.toString().trim();
    await runGit(["--git-dir", seed, "push", "-q", world.remoteDir, `${commit}:refs/heads/main`]);
    await sync(A);
    const files = await remoteFiles(world);
    expect(files.some((f) => f.includes("/segment-"))).toBe(false);
    expect(files.filter((f) => f.includes("/parts/")).length).toBe(20);
  });
});
