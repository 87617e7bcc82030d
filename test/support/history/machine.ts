// One machine of a history: an isolated home with OpenCode's folders and database, the edits a
// user makes there, and a snapshot of everything oc-sync syncs (paths made machine-independent).
import { appendFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyEdits, modify, parse } from "jsonc-parser";
import { addMessage, addProject, addSession, createDatabase, makeHome, openDb, type TestHome } from "../opencode-home.js";

/** Every machine of a history commits records of at most 50 KiB (the setting recordLimitMB), so a history can grow one past it cheaply. */
export const HISTORY_RECORD_LIMIT = 50 * 1024;
import { ocSyncPaths, type Env } from "../../../client/platform/paths.js";

export class Machine {
  home: TestHome;
  constructor(
    readonly name: string,
    root: string,
    env: Env,
    copyOf?: Machine,
  ) {
    if (copyOf) copyHome(copyOf.home.home, join(root, name));
    this.home = makeHome(root, name, env);
    if (copyOf) {
      // The same paths as on the machine it was copied from (a copied home keeps its absolute paths).
      const db = openDb(this.home);
      db.prepare("UPDATE project SET worktree = replace(worktree, ?, ?), sandboxes = replace(sandboxes, ?, ?)").run(copyOf.home.home, this.home.home, copyOf.home.home, this.home.home);
      db.prepare("UPDATE session SET directory = replace(directory, ?, ?)").run(copyOf.home.home, this.home.home);
      db.prepare("UPDATE message SET data = replace(data, ?, ?)").run(copyOf.home.home, this.home.home);
      db.close();
      return;
    }
    const db = createDatabase(this.home);
    addProject(db, this.home);
    db.close();
    this.writeSettings();
  }

  /** oc-sync's settings here: the history's record limit, and a push budget (MiB) when one is set. */
  writeSettings(pushBudgetMB?: number): void {
    const budget = pushBudgetMB === undefined ? "" : `, "pushBudgetMB": ${pushBudgetMB}`;
    writeFileSync(join(this.home.config, "opencode-sync.jsonc"), `{ "recordLimitMB": ${HISTORY_RECORD_LIMIT / 1024 / 1024}${budget} }\n`);
  }

  /** Points this machine at another remote or gives it another id, as `init` would. */
  setEnv(patch: Env): void {
    this.home = { ...this.home, env: { ...this.home.env, ...patch } };
  }

  private get backupDir(): string {
    return `${this.home.home}.backup`;
  }

  /** A backup of the whole home (OpenCode's folders, its database, oc-sync's state). */
  backUp(): void {
    rmSync(this.backupDir, { recursive: true, force: true });
    copyHome(this.home.home, this.backupDir);
  }

  /** The home as the backup had it; false when there is none. */
  restoreBackup(): boolean {
    if (!existsSync(this.backupDir)) return false;
    rmSync(this.home.home, { recursive: true, force: true });
    copyHome(this.backupDir, this.home.home);
    return true;
  }

  /** `count` messages whose tool outputs are just under the record limit: together more than one push carries. */
  addLargeMessages(sessionId: string, count: number): { id: string; parts: string[] }[] {
    const made: { id: string; parts: string[] }[] = [];
    for (let i = 0; i < count; i++) {
      const m = this.addMessage(sessionId, `large output ${i}`);
      if (!m) break;
      this.setPart(sessionId, m.parts[1]!, `${i}:`.padEnd(HISTORY_RECORD_LIMIT - 2048, "y"));
      made.push(m);
    }
    return made;
  }

  /** A message whose tool output is over the record limit; undefined when this machine lacks the session. */
  addOversizedMessage(sessionId: string): { id: string; parts: string[] } | undefined {
    const made = this.addMessage(sessionId, "a huge tool output follows");
    if (!made) return undefined;
    this.setPart(sessionId, made.parts[1]!, "x".repeat(HISTORY_RECORD_LIMIT + 1024));
    return made;
  }

  /** Replaces a part's output, and touches its session as OpenCode does (the user compacts a session). */
  setPart(sessionId: string, partId: string, output: string): void {
    const db = openDb(this.home);
    try {
      const now = Date.now();
      db.prepare("UPDATE part SET data = ?, time_updated = ? WHERE id = ?").run(JSON.stringify({ type: "tool", tool: "bash", callID: `call-${partId}`, state: { status: "completed", input: {}, output } }), now, partId);
      db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(now, sessionId);
    } finally {
      db.close();
    }
  }

  private get configFile(): string {
    return join(this.home.config, "opencode.jsonc");
  }

  private get authFile(): string {
    return join(this.home.data, "auth.json");
  }

  /** Sets a top-level key of opencode.jsonc, keeping its comments; returns what was there. */
  editConfig(key: string, value: string): string | undefined {
    const text = existsSync(this.configFile) ? readFileSync(this.configFile, "utf8") : "{\n  // shared by every machine\n}\n";
    const prev = (parse(text) as Record<string, unknown> | undefined)?.[key];
    writeFileSync(this.configFile, applyEdits(text, modify(text, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2 } })));
    return typeof prev === "string" ? prev : undefined;
  }

  editCredential(entry: string, key: string): string | undefined {
    const entries = existsSync(this.authFile) ? (JSON.parse(readFileSync(this.authFile, "utf8")) as Record<string, { key: string }>) : {};
    const prev = entries[entry]?.key;
    entries[entry] = { key };
    writeFileSync(this.authFile, JSON.stringify(entries, null, 2), { mode: 0o600 });
    return prev;
  }

  appendPrompt(input: string): void {
    mkdirSync(this.home.state, { recursive: true });
    appendFileSync(join(this.home.state, "prompt-history.jsonl"), JSON.stringify({ input, parts: [], mode: "normal" }) + "\n");
  }

  newSession(): { id: string; title: string; messages: { id: string; parts: string[] }[] } {
    const db = openDb(this.home);
    try {
      const title = `title ${this.name} ${Date.now().toString(36)}`;
      const s = addSession(db, this.home, { messages: 1, title });
      return { id: s.id, title, messages: [{ id: s.messages[0]!, parts: [...s.parts] }] };
    } finally {
      db.close();
    }
  }

  /** Adds a message to a session this machine has; undefined when it has none of those given. */
  addMessage(sessionId: string, text: string): { id: string; parts: string[] } | undefined {
    const db = openDb(this.home);
    try {
      if (!db.prepare("SELECT 1 FROM session WHERE id = ?").get(sessionId)) return undefined;
      const made = { id: sessionId, messages: [] as string[], parts: [] as string[] };
      const id = addMessage(db, this.home, made, text);
      return { id, parts: made.parts };
    } finally {
      db.close();
    }
  }

  rename(sessionId: string, title: string): string | undefined {
    const db = openDb(this.home);
    try {
      const row = db.prepare("SELECT title FROM session WHERE id = ?").get(sessionId) as { title: string } | undefined;
      if (!row) return undefined;
      db.prepare("UPDATE session SET title = ?, time_updated = ? WHERE id = ?").run(title, Date.now(), sessionId);
      return row.title;
    } finally {
      db.close();
    }
  }

  /** Deletes a session as OpenCode does (children go with it); returns what this machine had of it. */
  deleteSession(sessionId: string): { messages: Set<string>; title: string } | undefined {
    const db = openDb(this.home);
    try {
      const row = db.prepare("SELECT title FROM session WHERE id = ?").get(sessionId) as { title: string } | undefined;
      if (!row) return undefined;
      const messages = new Set((db.prepare("SELECT id FROM message WHERE session_id = ?").all(sessionId) as { id: string }[]).map((m) => m.id));
      db.prepare("DELETE FROM session WHERE id = ?").run(sessionId);
      return { messages, title: row.title };
    } finally {
      db.close();
    }
  }

  /** oc-sync's own state is lost (deleted, or a reinstall): its index and sync marks are gone, the user's data is not. */
  loseSyncState(): void {
    for (const f of ["state.db", "state.db-wal", "state.db-shm"]) rmSync(join(ocSyncPaths(this.home.env).data, f), { force: true });
  }

  /** OpenCode reinstalled: its database starts empty again (the project row it writes when opened). */
  wipeDatabase(): void {
    for (const f of ["", "-wal", "-shm"]) rmSync(this.home.db + f, { force: true });
    const db = createDatabase(this.home);
    addProject(db, this.home);
    db.close();
  }

  /** The config folder moves into a dotfiles checkout and is linked back (GNU stow, home-manager); false if it already is. */
  linkConfigFolder(): boolean {
    if (lstatSync(this.home.config).isSymbolicLink()) return false;
    const dotfiles = join(this.home.home, "dotfiles", "opencode");
    mkdirSync(join(dotfiles, ".."), { recursive: true });
    renameSync(this.home.config, dotfiles);
    symlinkSync(dotfiles, this.home.config);
    return true;
  }

  /** A power loss zeroes opencode.jsonc: returns what it held, to put back once the user notices. */
  zeroConfig(): string | null {
    if (!existsSync(this.configFile)) return null;
    const before = readFileSync(this.configFile, "utf8");
    writeFileSync(this.configFile, Buffer.alloc(before.length, 0));
    return before;
  }

  restoreConfig(text: string): void {
    writeFileSync(this.configFile, text);
  }

  sessionIds(): string[] {
    return this.query<{ id: string }>("SELECT id FROM session ORDER BY id").map((r) => r.id);
  }

  query<T>(sql: string): T[] {
    const db = openDb(this.home);
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }

  /** Everything oc-sync syncs, in a form that must be equal on every machine once they converge. */
  snapshot(): MachineSnapshot {
    const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : null);
    const local = (text: string) => text.split(this.home.home).join("~");
    return {
      config: read(this.configFile),
      // Entry order is the writer's; what must match is the entries.
      credentials: existsSync(this.authFile) ? sortKeys(JSON.parse(readFileSync(this.authFile, "utf8")) as Record<string, { key: string }>) : null,
      prompts: read(join(this.home.state, "prompt-history.jsonl")),
      sessions: this.query<{ id: string; title: string; directory: string }>("SELECT id, title, directory FROM session ORDER BY id").map((s) => ({ ...s, directory: local(s.directory) })),
      messages: this.query<{ id: string; session_id: string; data: string }>("SELECT id, session_id, data FROM message ORDER BY id").map((m) => ({ ...m, data: local(m.data) })),
      parts: this.query<{ id: string; message_id: string; data: string }>("SELECT id, message_id, data FROM part ORDER BY id"),
      todos: this.query<{ session_id: string; position: number; content: string; status: string }>("SELECT session_id, position, content, status FROM todo ORDER BY session_id, position"),
    };
  }
}

export interface MachineSnapshot {
  readonly config: string | null;
  readonly credentials: Record<string, { key: string }> | null;
  readonly prompts: string | null;
  readonly sessions: readonly { id: string; title: string; directory: string }[];
  readonly messages: readonly { id: string; session_id: string; data: string }[];
  readonly parts: readonly { id: string; message_id: string; data: string }[];
  readonly todos: readonly unknown[];
}

/** Copies a home as `cp -a` would; a link into the home (a dotfiles folder) points into the copy. */
function copyHome(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  const config = join(to, ".config", "opencode");
  if (lstatSync(config, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const target = readlinkSync(config);
    rmSync(config);
    symlinkSync(target.split(from).join(to), config);
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}
