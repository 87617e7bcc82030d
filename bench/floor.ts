// The floor (DESIGN.md §6): what any tool must at least pay to sync these sessions. One JSON file
// per session (its row, todos, messages and parts) committed with plain git, then `git clone` and a
// plain row-by-row import (prepared INSERTs, one transaction) into a fresh OpenCode database; for
// one change, one file written, committed and pushed, then fetched and imported on the other side.
// The size benchmark gives every oc-sync figure as a ratio to its floor, measured in the same run.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { GitAuth } from "../git/auth.js";
import { runGit } from "../git/run.js";

export interface FloorRemote {
  readonly url: string;
  readonly auth: GitAuth;
}

/** A file's tables, parents first: each plain INSERT finds the row its foreign key names. */
const TABLES = ["project", "session", "todo", "message", "part"] as const;
type Row = Record<string, SQLInputValue>;
type FloorFile = Partial<Record<(typeof TABLES)[number], Row[]>>;

/** Projects before sessions, which name them. */
const FOLDERS = ["projects", "sessions"];
const sessionFile = (id: string) => join("sessions", `${id}.json`);

/** Session id → that session's file, with the queries prepared once. */
function sessionExporter(db: DatabaseSync): (id: string) => string {
  const q = {
    session: db.prepare("SELECT * FROM session WHERE id = ?"),
    todo: db.prepare("SELECT * FROM todo WHERE session_id = ?"),
    message: db.prepare("SELECT * FROM message WHERE session_id = ?"),
    part: db.prepare("SELECT * FROM part WHERE session_id = ?"),
  };
  return (id) => JSON.stringify(Object.fromEntries(Object.entries(q).map(([table, st]) => [table, st.all(id)])));
}

function exportDatabase(dbPath: string, dir: string): void {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  for (const f of FOLDERS) mkdirSync(join(dir, f), { recursive: true });
  for (const p of db.prepare("SELECT * FROM project").all()) writeFileSync(join(dir, "projects", `${String(p.id)}.json`), JSON.stringify({ project: [p] }));
  const exportSession = sessionExporter(db);
  for (const { id } of db.prepare("SELECT id FROM session").all()) writeFileSync(join(dir, sessionFile(String(id))), exportSession(String(id)));
  db.close();
}

async function commitAndPush(dir: string, remote: FloorRemote, message: string): Promise<void> {
  await runGit(["-C", dir, "add", "-A"]);
  await runGit(["-C", dir, "commit", "-q", "-m", message]);
  await runGit(["-C", dir, "push", "-q", remote.url, "HEAD:refs/heads/main"], { auth: remote.auth });
}

/** Every row of the files, in one transaction of plain prepared INSERTs. */
function importFiles(db: DatabaseSync, dir: string, paths: readonly string[]): void {
  const prepared = new Map<string, StatementSync>();
  const insert = (table: string, row: Row) => {
    const columns = Object.keys(row);
    const key = `${table}(${columns.join(",")})`;
    let st = prepared.get(key);
    if (!st) prepared.set(key, (st = db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)));
    st.run(...columns.map((c) => row[c]!));
  };
  db.exec("BEGIN");
  for (const path of paths) {
    const file = JSON.parse(readFileSync(join(dir, path), "utf8")) as FloorFile;
    for (const table of TABLES) for (const row of file[table] ?? []) insert(table, row);
  }
  db.exec("COMMIT");
}

/** Initial push: every session exported to its file, committed in a new repository and pushed. Milliseconds. */
export async function floorPushAll(dbPath: string, dir: string, remote: FloorRemote): Promise<number> {
  const t = performance.now();
  await runGit(["init", "-q", "-b", "main", dir]);
  exportDatabase(dbPath, dir);
  await commitAndPush(dir, remote, "every session");
  return performance.now() - t;
}

/** First pull: clone, then every file imported into `db` (a fresh OpenCode database). Milliseconds. */
export async function floorCloneAll(remote: FloorRemote, dir: string, db: DatabaseSync): Promise<number> {
  const t = performance.now();
  await runGit(["clone", "-q", remote.url, dir], { auth: remote.auth });
  importFiles(db, dir, FOLDERS.flatMap((f) => readdirSync(join(dir, f)).map((name) => join(f, name))));
  return performance.now() - t;
}

/** One-file push: one session's file written again from the database, committed and pushed from the initial push's `dir`. Milliseconds. */
export async function floorPushSession(dbPath: string, dir: string, id: string, remote: FloorRemote): Promise<number> {
  const t = performance.now();
  const db = new DatabaseSync(dbPath, { readOnly: true });
  writeFileSync(join(dir, sessionFile(id)), sessionExporter(db)(id));
  db.close();
  await commitAndPush(dir, remote, `session ${id}`);
  return performance.now() - t;
}

/**
 * One-file pull into a clone and its database: fetch, reset to what was fetched, import the files
 * that changed. Plain INSERTs: the files must be new sessions. Milliseconds.
 */
export async function floorPullNew(remote: FloorRemote, dir: string, db: DatabaseSync): Promise<number> {
  const t = performance.now();
  await runGit(["-C", dir, "fetch", "-q", remote.url, "main"], { auth: remote.auth });
  const changed = (await runGit(["-C", dir, "diff", "--name-only", "-z", "HEAD", "FETCH_HEAD"])).stdout.toString().split("\0").filter(Boolean);
  await runGit(["-C", dir, "reset", "-q", "--hard", "FETCH_HEAD"]);
  importFiles(db, dir, changed);
  return performance.now() - t;
}
