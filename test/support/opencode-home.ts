// An isolated OpenCode home for tests: the real 1.18.33 schema (dumped from a database the real
// binary created), with sessions, messages, parts and todos shaped like the real ones.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Env } from "../../client/platform/paths.js";

export const SCHEMA_SQL = readFileSync(new URL("../fixtures/opencode-1.18.33-schema.sql", import.meta.url), "utf8");
export const DEMO_PROJECT = "5c2d8f04e8bd7fb6d9b74add0e49abfb7889d861";

export interface TestHome {
  readonly home: string;
  readonly env: Env;
  readonly config: string;
  readonly state: string;
  readonly data: string;
  readonly db: string;
  readonly repo: string;
}

export function makeHome(root: string, name: string, extraEnv: Env = {}): TestHome {
  const home = join(root, name);
  const config = join(home, ".config", "opencode");
  const state = join(home, ".local", "state", "opencode");
  const data = join(home, ".local", "share", "opencode");
  for (const d of [config, state, data]) mkdirSync(d, { recursive: true });
  const repo = join(home, "work", "demo-repo");
  mkdirSync(repo, { recursive: true });
  const env: Env = { PATH: process.env.PATH, HOME: home, OC_SYNC_MACHINE: name, ...extraEnv };
  return { home, env, config, state, data, db: join(data, "opencode.db"), repo };
}

/** A home where OpenCode has run once in the demo repo: its database with the project row. */
export function makeUsedHome(root: string, name: string, extraEnv: Env = {}): TestHome {
  const h = makeHome(root, name, extraEnv);
  const db = createDatabase(h);
  addProject(db, h);
  db.close();
  return h;
}

export function createDatabase(h: TestHome): DatabaseSync {
  const db = new DatabaseSync(h.db);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(SCHEMA_SQL);
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

export function openDb(h: TestHome): DatabaseSync {
  const db = new DatabaseSync(h.db);
  db.exec("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000");
  return db;
}

let counter = 0;
export function newId(prefix: string): string {
  counter++;
  return `${prefix}_${Date.now().toString(16)}${String(counter).padStart(6, "0")}Ab${Math.random().toString(36).slice(2, 8)}`;
}

/** The project row OpenCode writes when it opens the demo repo in this home. */
export function addProject(db: DatabaseSync, h: TestHome, id = DEMO_PROJECT): string {
  const now = Date.now();
  db.prepare("INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?, ?, 'git', ?, ?, '[]')").run(id, h.repo, now, now);
  db.prepare("INSERT INTO project_directory (project_id, directory, time_created) VALUES (?, ?, ?)").run(id, h.repo, now);
  return id;
}

export interface MadeSession {
  readonly id: string;
  readonly messages: string[];
  readonly parts: string[];
}

export function addSession(db: DatabaseSync, h: TestHome, opts: { project?: string; messages?: number; title?: string } = {}): MadeSession {
  const id = newId("ses");
  const project = opts.project ?? DEMO_PROJECT;
  const now = Date.now();
  db.prepare(
    `INSERT INTO session (id, project_id, slug, directory, path, title, version, permission, agent, model, time_created, time_updated)
     VALUES (?, ?, ?, ?, '', ?, '1.18.33', '[]', 'build', '{"id":"fake-model","providerID":"fakellm"}', ?, ?)`,
  ).run(id, project, "calm-river", h.repo, opts.title ?? "Fake: a session", now, now);
  const made: MadeSession = { id, messages: [], parts: [] };
  for (let i = 0; i < (opts.messages ?? 2); i++) addMessage(db, h, made, `message ${i}`);
  db.prepare("INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?, 'Read the task', 'completed', 'high', 0, ?, ?), (?, 'Write the file', 'pending', 'medium', 1, ?, ?)").run(id, now, now, id, now, now);
  return made;
}

export function addMessage(db: DatabaseSync, h: TestHome, s: MadeSession, text: string, parts = 2): string {
  const now = Date.now();
  const mid = newId("msg");
  const data = { role: "assistant", agent: "build", path: { cwd: h.repo, root: h.repo }, time: { created: now, completed: now }, modelID: "fake-model", providerID: "fakellm" };
  db.prepare("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)").run(mid, s.id, now, now, JSON.stringify(data));
  s.messages.push(mid);
  for (let p = 0; p < parts; p++) {
    const pid = newId("prt");
    const part = p === 0 ? { type: "text", text } : { type: "tool", tool: "write", callID: `call-${pid}`, state: { status: "completed", input: { filePath: join(h.repo, "notes.txt"), content: text }, output: "Wrote file" } };
    db.prepare("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)").run(pid, mid, s.id, now, now, JSON.stringify(part));
    s.parts.push(pid);
  }
  db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(now + 1, s.id);
  return mid;
}
