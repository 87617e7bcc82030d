// The segment layout end to end: what a user would check after a first sync of a long history (the
// remote holds few objects, the next machine gets every row), and that everything after it (an
// edit, a new message, a deletion) still syncs record by record.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FORMAT_PATH } from "../../core/layout.js";
import { encodeRecord, makeRecord } from "../../core/record.js";
import { mergeAllBranches } from "../../git/merge-all.js";
import { mergeBranch } from "../../git/merge-branch.js";
import { GitRepo } from "../../git/repo.js";
import { runGit } from "../../git/run.js";
import { addMessage, addSession, createDatabase, addProject, openDb, type MadeSession, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, TOKEN, type SyncWorld } from "../support/sync-env.js";

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

/** A remote whose main holds these files (path → content), as something other than this oc-sync left it. */
async function seedMain(world: SyncWorld, files: Record<string, string>): Promise<void> {
  const seed = await GitRepo.open(join(world.root, "seed.git"));
  const commit = await seed.commit({ parents: [], message: "oc-sync: set up sync repository", changes: Object.entries(files).map(([p, c]) => [p, new TextEncoder().encode(c)] as const) });
  await runGit(["--git-dir", seed.gitDir, "push", "-q", world.remoteDir, `${commit}:refs/heads/main`]);
  seed.close();
}

async function rowsAreLoose(world: SyncWorld): Promise<void> {
  const files = await remoteFiles(world);
  expect(files.some((f) => f.includes("/segment-"))).toBe(false);
  expect(files.filter((f) => f.includes("/parts/")).length).toBe(20);
}

describe("segments: where other machines could not read them", () => {
  it("a sync repo an older oc-sync made (format 1) keeps one blob per row, as every machine of it can read that", async () => {
    const world = await syncWorld();
    const { home: A } = machineWith(world, "laptop", 1);
    await seedMain(world, { [FORMAT_PATH]: '{"format":1}\n' });
    await sync(A);
    await rowsAreLoose(world);
  });

  it("with the merge Action, and main's vendored Action not this oc-sync's (an older one cannot read them), rows stay one blob each", async () => {
    const world = await syncWorld();
    const home = world.home("laptop", { OC_SYNC_MERGE: "action" });
    const db = createDatabase(home);
    addProject(db, home);
    addSession(db, home, { messages: 10 });
    db.close();
    await seedMain(world, { [FORMAT_PATH]: '{"format":2}\n', ".github/actions/oc-sync/dist/action.js": "// an older oc-sync's Action\n" });
    await sync(home);
    await rowsAreLoose(world);
  });
});

describe("segments: merges", () => {
  it("write a session main lacks as a segment too, and the Action refuses a format newer than it knows", async () => {
    const world = await syncWorld();
    const repo = await GitRepo.open(join(world.root, "merge.git"));
    const format = (n: number) => [FORMAT_PATH, new TextEncoder().encode(`{"format":${n}}\n`)] as const;
    const record = (text: string) => encodeRecord(makeRecord({ path: "", kind: "json", content: new TextEncoder().encode(text), vector: { b: 1 }, updatedAt: 1, writer: "b" }));
    const base = await repo.commit({ parents: [], message: "base", changes: [format(2)] });
    const main = await repo.commit({ parents: [base], message: "main", changes: [["config/x.json", record("{}")]] });
    const rowsOf = (s: string) => [`db/sessions/${s}/session.json`, `db/sessions/${s}/messages/m1.json`, `db/sessions/${s}/parts/m1/p1.json`];
    const branch = await repo.commit({ parents: [base], message: "branch", changes: rowsOf("ses_b").map((p) => [p, record(`{"at":"${p}"}`)] as const) });
    const merged = await mergeBranch(repo, main, branch, { strategy: "auto-merge", message: "merge" });
    expect((await repo.rawListTree(merged.commit!, ["db/"])).map((e) => e.path)).toEqual(["db/sessions/ses_b/segment-0.idx", "db/sessions/ses_b/segment-0.seg"]);
    expect((await repo.listTree(merged.commit!, ["db/"])).map((e) => e.path).sort()).toEqual(rowsOf("ses_b").sort());
    const newer = await repo.commit({ parents: [main], message: "newer", changes: [format(99)] });
    await runGit(["--git-dir", repo.gitDir, "push", "-q", world.remoteDir, `${newer}:refs/heads/main`, `${branch}:refs/heads/machines/b`]);
    await expect(mergeAllBranches(repo, { url: world.url, auth: { token: TOKEN } }, { strategy: "auto-merge", who: "oc-sync action" })).rejects.toThrow(/uses format 99; this oc-sync understands up to 2/);
    repo.close();
  });
});
