// A realistic OpenCode database for benchmarks: the real 1.18.33 schema, sessions with messages,
// long text parts and tool parts with inputs and outputs, and todos.
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_SQL } from "../test/support/opencode-home.js";

export interface Size {
  readonly name: string;
  readonly sessions: number;
  readonly messagesPerSession: number;
  readonly partsPerMessage: number;
}

export const SIZES: Record<string, Size> = {
  // The shape the existing tools were measured on (DESIGN.md §6): 503 sessions, 17.5k messages, 49k parts.
  R: { name: "R", sessions: 503, messagesPerSession: 35, partsPerMessage: 3 },
  S: { name: "S", sessions: 50, messagesPerSession: 40, partsPerMessage: 10 },
  M: { name: "M", sessions: 500, messagesPerSession: 40, partsPerMessage: 10 },
  L: { name: "L", sessions: 2500, messagesPerSession: 40, partsPerMessage: 10 },
};

const words = "the a function returns value when file test build error fix refactor module import export config session message part tool output input".split(" ");
function text(n: number, seed: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += words[(seed * 31 + i * 7) % words.length] + (i % 13 === 12 ? ".\n" : " ");
  return s;
}

let seq = 0;
export const id = (prefix: string) => `${prefix}_${(Date.now() + seq++).toString(16)}${randomBytes(7).toString("hex")}`;

export function generate(path: string, size: Size, project: string, repo: string): { sessions: string[] } {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
  db.exec(SCHEMA_SQL);
  const now = Date.now() - 86_400_000;
  db.prepare("INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?, ?, 'git', ?, ?, '[]')").run(project, repo, now, now);
  const st = statements(db);
  const sessions: string[] = [];
  db.exec("BEGIN");
  for (let s = 0; s < size.sessions; s++) {
    sessions.push(insertSession(st, size, project, repo, s, now + s * 1000));
    if (s % 50 === 49) {
      db.exec("COMMIT");
      db.exec("BEGIN");
    }
  }
  db.exec("COMMIT");
  db.close();
  return { sessions };
}

/** One more session of the size's shape (as OpenCode would add it while the database is in use). */
export function addGeneratedSession(path: string, size: Size, project: string, repo: string, seed: number): string {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("BEGIN");
  const sid = insertSession(statements(db), size, project, repo, seed, Date.now());
  db.exec("COMMIT");
  db.close();
  return sid;
}

function statements(db: DatabaseSync) {
  return {
    ses: db.prepare("INSERT INTO session (id, project_id, slug, directory, path, title, version, time_created, time_updated) VALUES (?, ?, 'bench', ?, '', ?, '1.18.33', ?, ?)"),
    msg: db.prepare("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)"),
    prt: db.prepare("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)"),
    todo: db.prepare("INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?, ?, 'pending', 'medium', ?, ?, ?)"),
  };
}

function insertSession(st: ReturnType<typeof statements>, size: Size, project: string, repo: string, s: number, t: number): string {
  const sid = id("ses");
  st.ses.run(sid, project, repo, `Session ${s}: ${text(40, s)}`, t, t);
  for (let m = 0; m < size.messagesPerSession; m++) addMessage(st.msg, st.prt, sid, repo, t + m, size.partsPerMessage, s * 1000 + m);
  for (let k = 0; k < 3; k++) st.todo.run(sid, text(30, s + k), k, t, t);
  return sid;
}

type Stmt = ReturnType<DatabaseSync["prepare"]>;
export function addMessage(msg: Stmt, prt: Stmt, sid: string, repo: string, t: number, parts: number, seed: number): string {
  const mid = id("msg");
  const role = seed % 2 ? "assistant" : "user";
  msg.run(mid, sid, t, t, JSON.stringify({ role, agent: "build", path: { cwd: repo, root: repo }, time: { created: t, completed: t }, modelID: "m", providerID: "p", tokens: { input: 2000, output: 300 } }));
  for (let p = 0; p < parts; p++) {
    const data =
      p % 3 === 0
        ? { type: "text", text: text(600, seed + p) }
        : { type: "tool", tool: "write", callID: `call-${seed}-${p}`, state: { status: "completed", input: { filePath: `${repo}/src/f${p}.ts`, content: text(300, seed + p) }, output: text(400, seed * 3 + p) } };
    prt.run(id("prt"), mid, sid, t, t, JSON.stringify(data));
  }
  return mid;
}
