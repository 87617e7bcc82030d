// Rows of OpenCode's opencode.db as records. Read through a read-only connection; written with
// INSERT … ON CONFLICT DO UPDATE (never INSERT OR REPLACE, whose implicit delete cascades), parents
// first, in short transactions so OpenCode never waits near its 5 s busy timeout. Columns are
// handled generically; a schema newer than this code knows is never written.
import { existsSync } from "node:fs";
import { contentHash, type SyncRecord } from "../../core/record.js";
import { openDatabase, transaction, type Database, type Row, type SqlValue } from "../platform/sqlite.js";
import { toLocalPath, toPortablePath, type PathContext } from "./path-translation.js";
import { ApplyIncomplete, SourceError, unchangedSinceScan, waitingKey, type Applied, type ApplyResult, type KnownLocal, type LocalChange, type ScanContext, type Source } from "./source.js";

/** The newest OpenCode migration this code was built and tested against (OpenCode 1.18.33). */
export const KNOWN_LAST_MIGRATION = "20260622202450_simplify_session_input";

export type Table = "project" | "permission" | "session" | "message" | "part" | "todo";

/** Settings categories → tables. Parts travel with messages. */
export const dbCategories: Readonly<Record<string, readonly Table[]>> = {
  projects: ["project"],
  permissions: ["permission"],
  sessions: ["session"],
  messages: ["message", "part"],
  todos: ["todo"],
};

const RANK: Record<Table, number> = { project: 0, permission: 1, session: 2, message: 3, part: 4, todo: 5 };
/**
 * Columns that describe this machine only (its checkout of a project, when it first opened it):
 * neither synced nor overwritten. Without this, two machines would fight over them forever.
 */
const MACHINE_LOCAL: Partial<Record<Table, readonly string[]>> = { project: ["worktree", "sandboxes", "time_created", "time_updated", "time_initialized"] };
const CHUNK = 500;
const GLOBS: Record<Table, string> = {
  project: "db/projects/*",
  permission: "db/permissions/*",
  session: "db/sessions/*/session.json",
  todo: "db/sessions/*/todos.json",
  message: "db/sessions/*/messages/*",
  part: "db/sessions/*/parts/*",
};
const SLACK_MS = 60_000;
const SAFE_ID = /^[A-Za-z0-9_.-]{1,200}$/;

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface RecordAddress {
  readonly table: Table;
  readonly id: string;
  readonly sessionId?: string;
  readonly messageId?: string;
}

export function recordPath(a: RecordAddress): string {
  switch (a.table) {
    case "project":
      return `db/projects/${a.id}.json`;
    case "permission":
      return `db/permissions/${a.id}.json`;
    case "session":
      return `db/sessions/${a.id}/session.json`;
    case "todo":
      return `db/sessions/${a.id}/todos.json`;
    case "message":
      return `db/sessions/${a.sessionId}/messages/${a.id}.json`;
    case "part":
      return `db/sessions/${a.sessionId}/parts/${a.messageId}/${a.id}.json`;
  }
}

export function parseRecordPath(path: string): RecordAddress | undefined {
  const s = path.split("/");
  const id = (x: string | undefined) => (x !== undefined && SAFE_ID.test(x) && x !== "." && x !== ".." ? x : undefined);
  const json = (x: string | undefined) => (x?.endsWith(".json") ? id(x.slice(0, -5)) : undefined);
  if (s[0] !== "db") return undefined;
  if (s.length === 3 && s[1] === "projects" && json(s[2])) return { table: "project", id: json(s[2])! };
  if (s.length === 3 && s[1] === "permissions" && json(s[2])) return { table: "permission", id: json(s[2])! };
  if (s[1] !== "sessions" || !id(s[2])) return undefined;
  const sessionId = s[2]!;
  if (s.length === 4 && s[3] === "session.json") return { table: "session", id: sessionId };
  if (s.length === 4 && s[3] === "todos.json") return { table: "todo", id: sessionId };
  if (s.length === 5 && s[3] === "messages" && json(s[4])) return { table: "message", id: json(s[4])!, sessionId };
  if (s.length === 6 && s[3] === "parts" && id(s[4]) && json(s[5])) return { table: "part", id: json(s[5])!, sessionId, messageId: s[4]! };
  return undefined;
}

type Obj = Record<string, unknown>;

/** A row as plain JSON: sorted columns, JSON text columns (`data`) parsed, blobs as base64. */
function rowToJson(row: Row): Obj {
  const out: Obj = {};
  for (const key of Object.keys(row).sort()) {
    const v = row[key];
    if (typeof v === "bigint") out[key] = Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    else if (v instanceof Uint8Array) out[key] = { $base64: Buffer.from(v).toString("base64") };
    else if (key === "data" && typeof v === "string" && v.startsWith("{")) out[key] = safeJson(v) ?? v;
    else out[key] = v;
  }
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function jsonToSql(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "object") {
    const b64 = (v as Obj).$base64;
    return typeof b64 === "string" ? Buffer.from(b64, "base64") : JSON.stringify(v);
  }
  if (typeof v === "boolean") return v ? 1 : 0;
  return v as SqlValue;
}

const canonical = (o: unknown) => JSON.stringify(o, null, 1);
const hashOf = (o: unknown) => contentHash(enc.encode(canonical(o)));
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface DatabaseSourceOptions {
  readonly path: string;
  readonly tables: readonly Table[];
  readonly paths: PathContext;
  readonly warn: (message: string) => void;
}

export class DatabaseSource implements Source {
  readonly category = "database";
  readonly prefixes = ["db/"];
  private readonly marks: Record<string, string> = {};

  constructor(private readonly o: DatabaseSourceOptions) {}

  owns(path: string): boolean {
    return path.startsWith("db/");
  }

  groupOf(path: string): { name: string; glob: string } {
    const table = parseRecordPath(path)?.table;
    return table ? { name: `${table} records`, glob: GLOBS[table] } : { name: "database records", glob: "db/*" };
  }

  checkpoint(): Record<string, string> {
    return this.marks;
  }

  /** null when OpenCode has not created its database yet; a file SQLite cannot read is a SourceError. */
  private async open(readOnly: boolean): Promise<Database | null> {
    if (!existsSync(this.o.path)) return null;
    let db: Database | undefined;
    try {
      db = await openDatabase(this.o.path, { readOnly, busyTimeoutMs: 4000 });
      db.prepare("SELECT count(*) AS n FROM sqlite_master").get();
      return db;
    } catch (e) {
      db?.close();
      throw new SourceError(`cannot read OpenCode's database ${this.o.path}: ${(e as Error).message}; sessions are not synced until OpenCode can open it again (oc-sync did not change it; files still sync)`);
    }
  }

  async *scan(ctx: ScanContext): AsyncIterable<LocalChange> {
    const db = await this.open(true);
    if (!db) return;
    try {
      const has = (t: Table) => this.o.tables.includes(t) && tableExists(db, t);
      const roots = projectRoots(db);
      if (has("project")) {
        for (const row of db.prepare("SELECT * FROM project").iterate()) {
          if (row.id === "global" || !SAFE_ID.test(String(row.id))) continue;
          yield* this.change(ctx, { table: "project", id: String(row.id) }, localForm("project", row));
        }
      }
      if (has("permission")) {
        for (const row of db.prepare("SELECT * FROM permission").iterate()) yield* this.change(ctx, { table: "permission", id: String(row.id) }, rowToJson(row));
      }
      const active: string[] = [];
      // Sessions with records waiting to be applied are read whole: a row changed here since the
      // last scan must be committed (and merged) even if the time window would pass over it.
      const rescan = waitingSessions(ctx.meta(waitingKey(this.category)));
      if (has("session")) {
        const live = new Set<string>();
        let known = 0;
        for (const row of db.prepare("SELECT * FROM session").iterate()) {
          const id = String(row.id);
          if (!SAFE_ID.test(id)) continue;
          live.add(id);
          if (ctx.index(recordPath({ table: "session", id }))?.deleted === false) known++;
          const local = rowToJson(row);
          const address: RecordAddress = { table: "session", id };
          const localRoot = roots.get(String(row.project_id));
          let changed = false;
          for await (const c of this.change(ctx, address, local, async (l, prev) => ({
            ...l,
            directory: toPortablePath(String(l.directory), prev?.directory as string | undefined, this.o.paths, checkout(localRoot, prev && sessionRoot(prev))),
          }))) {
            changed = true;
            yield c;
          }
          const seen = Number(ctx.meta(`seen:${id}`) ?? -1);
          if (changed || seen < Number(row.time_updated) || rescan.has(id)) active.push(id);
        }
        // A deleted session takes its messages, parts and todos with it (OpenCode's delete cascades).
        // Only when the index knows more live sessions than the database has are the lists compared.
        const gone = new Set<string>();
        if (ctx.countLiveGlob(GLOBS.session) > known) {
          for (const path of ctx.livePathsGlob(GLOBS.session)) {
            const a = parseRecordPath(path);
            if (a && !live.has(a.id)) gone.add(a.id);
          }
        }
        for (const id of gone) for (const path of ctx.livePaths(`db/sessions/${id}/`)) yield { type: "delete", path, kind: "json" };
      }
      for (const sessionId of active) yield* this.scanSession(db, ctx, sessionId, has, roots, rescan.has(sessionId));
    } finally {
      db.close();
    }
  }

  private async *scanSession(db: Database, ctx: ScanContext, sessionId: string, has: (t: Table) => boolean, roots: Map<string, string>, whole: boolean): AsyncIterable<LocalChange> {
    const since = whole ? -1 : Number(ctx.meta(`seen:${sessionId}`) ?? -1) - SLACK_MS;
    let newest = Number(ctx.meta(`seen:${sessionId}`) ?? 0);
    const session = db.prepare("SELECT project_id, time_updated FROM session WHERE id = ?").get(sessionId);
    newest = Math.max(newest, Number(session?.time_updated ?? 0));
    const localRoot = roots.get(String(session?.project_id ?? ""));
    for (const table of ["message", "part"] as const) {
      if (!has(table)) continue;
      for (const row of db.prepare(`SELECT * FROM ${table} WHERE session_id = ? AND time_updated >= ?`).iterate(sessionId, since)) {
        newest = Math.max(newest, Number(row.time_updated));
        const address: RecordAddress = table === "message" ? { table, id: String(row.id), sessionId } : { table, id: String(row.id), sessionId, messageId: String(row.message_id) };
        if (!SAFE_ID.test(address.id) || (address.messageId !== undefined && !SAFE_ID.test(address.messageId))) continue;
        yield* this.change(ctx, address, rowToJson(row), table === "message" ? async (l, prev) => messageToPortable(l, prev, this.o.paths, localRoot) : undefined);
      }
      // Deletions: only when the counts disagree is the id set compared.
      const prefix = `db/sessions/${sessionId}/${table === "message" ? "messages" : "parts"}/`;
      const count = Number(db.prepare(`SELECT count(*) AS n FROM ${table} WHERE session_id = ?`).get(sessionId)?.n ?? 0);
      if (count !== ctx.countLive(prefix)) {
        const ids = new Set(db.prepare(`SELECT id FROM ${table} WHERE session_id = ?`).all(sessionId).map((r) => String(r.id)));
        for (const path of ctx.livePaths(prefix)) {
          const a = parseRecordPath(path);
          if (a && !ids.has(a.id)) yield { type: "delete", path, kind: "json" };
        }
      }
    }
    if (has("todo")) {
      const items = todoItems(db, sessionId);
      const path = recordPath({ table: "todo", id: sessionId });
      if (items.length || ctx.index(path)?.deleted === false) yield* this.change(ctx, { table: "todo", id: sessionId }, { items });
    }
    this.marks[`seen:${sessionId}`] = String(newest);
  }

  /** Yields a put when the local form differs from what the index knows. */
  private async *change(ctx: ScanContext, address: RecordAddress, local: Obj, toRepo?: (local: Obj, prev: Obj | undefined) => Promise<Obj>): AsyncIterable<LocalChange> {
    const path = recordPath(address);
    const localHash = hashOf(local);
    const known = ctx.index(path);
    if (known && !known.deleted && known.localHash === localHash) return;
    let repoForm = local;
    if (toRepo) {
      // Only a record this machine has synced has a previous version to translate paths against.
      const prev = known ? await ctx.previous(path) : undefined;
      repoForm = await toRepo(local, prev && !prev.deleted ? (JSON.parse(dec.decode(prev.content!)) as Obj) : undefined);
    }
    yield { type: "put", path, kind: "json", content: enc.encode(canonical(repoForm) + "\n"), localHash, stat: null };
  }

  async apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult> {
    const db = await this.open(false);
    if (!db) throw new SourceError(`OpenCode's database ${this.o.path} does not exist yet; session records will be applied once OpenCode has created it`);
    try {
      const newer = newerSchema(db);
      if (newer) throw new SourceError(`OpenCode's database has migration ${newer}, newer than this oc-sync knows (${KNOWN_LAST_MIGRATION}); it is left read-only until you upgrade oc-sync. Files still sync`);
      const columns = new Map<Table, Map<string, ColumnInfo>>();
      const cols = (t: Table) => columns.get(t) ?? columns.set(t, tableColumns(db, t)).get(t)!;
      const present = new Set(this.o.tables.filter((t) => tableExists(db, t)));
      const items = records
        .map((r) => ({ r, a: parseRecordPath(r.path) }))
        .filter((x): x is { r: SyncRecord; a: RecordAddress } => {
          if (!x.a) this.o.warn(`refused ${x.r.path}: not a database record path`);
          return x.a !== undefined && present.has(x.a.table);
        });
      // Deletes children first, then upserts parents first, so every chunk leaves foreign keys valid.
      const deletes = items.filter((x) => x.r.deleted).sort((x, y) => RANK[y.a.table] - RANK[x.a.table]);
      const upserts = items.filter((x) => !x.r.deleted).sort((x, y) => RANK[x.a.table] - RANK[y.a.table]);
      const ordered = [...deletes, ...upserts];
      const roots = projectRoots(db);
      const applied: Applied[] = [];
      const waiting: string[] = [];
      const editedHere: string[] = [];
      const checkpoint: Record<string, string> = {};
      const startedAt = String(Date.now());
      for (let i = 0; i < ordered.length; i += CHUNK) {
        const chunk = ordered.slice(i, i + CHUNK);
        try {
          const done = transaction(db, () => this.writeChunk(db, chunk, roots, cols, known, startedAt));
          applied.push(...done.applied);
          waiting.push(...done.waiting);
          editedHere.push(...done.editedHere);
          Object.assign(checkpoint, done.checkpoint);
        } catch (e) {
          const why = e instanceof SourceError ? e.message : `could not write ${chunk.length} record(s) into ${this.o.path}: ${(e as Error).message}`;
          throw new ApplyIncomplete([`${why}; no row of this batch was written, the next sync retries`], applied);
        }
      }
      return { applied, waiting, editedHere, checkpoint };
    } finally {
      db.close();
    }
  }

  /**
   * One transaction's worth of records; a record that cannot be written names itself and aborts the
   * chunk. Inside the transaction, so OpenCode cannot change a row between the check and the write:
   * a row changed since the scan, or a child whose parent is not here, waits.
   */
  private writeChunk(db: Database, chunk: readonly { r: SyncRecord; a: RecordAddress }[], roots: Map<string, string>, cols: (t: Table) => Map<string, ColumnInfo>, known: KnownLocal | undefined, startedAt: string): ApplyResult {
    const applied: Applied[] = [];
    const waiting: string[] = [];
    const editedHere: string[] = [];
    const checkpoint: Record<string, string> = {};
    for (const x of chunk) {
      // A todo list has no "absent" state to compare (no rows = an empty list), and OpenCode writes it only while a session runs.
      const before = known === undefined || x.a.table === "todo" ? undefined : currentHash(db, x.a);
      if (known !== undefined && before !== undefined && !unchangedSinceScan(known, x.r.path, before)) {
        editedHere.push(x.r.path);
        continue;
      }
      if (!x.r.deleted && !parentExists(db, x.a)) {
        waiting.push(x.r.path);
        continue;
      }
      try {
        if (x.r.deleted) deleteRow(db, x.a);
        else writeRow(db, x.a, this.toLocal(db, x.a, JSON.parse(dec.decode(x.r.content!)) as Obj, roots), cols);
      } catch (e) {
        throw new SourceError(`could not write record ${x.r.path} into ${this.o.path}: ${(e as Error).message}`);
      }
      applied.push({ path: x.r.path, localHash: x.r.deleted ? null : currentHash(db, x.a), stat: null });
      // A session this apply creates holds nothing of this machine's older than now: the scan may
      // start its time window here instead of reading every row once (a first pull's next sync did).
      if (x.a.table === "session" && !x.r.deleted && before === null) checkpoint[`seen:${x.a.id}`] = startedAt;
    }
    return { applied, waiting, editedHere, checkpoint };
  }

  /** Repo form → this machine's form: paths into this machine's checkout of the project. */
  private toLocal(db: Database, a: RecordAddress, value: Obj, roots: Map<string, string>): Obj {
    if (a.table === "session") {
      return { ...value, directory: toLocalPath(String(value.directory), this.o.paths, checkout(roots.get(String(value.project_id)), sessionRoot(value))) };
    }
    if (a.table === "message") {
      const projectId = db.prepare("SELECT project_id FROM session WHERE id = ?").get(a.sessionId!)?.project_id;
      return mapMessagePaths(value, (p, root) => toLocalPath(p, this.o.paths, checkout(roots.get(String(projectId)), root)));
    }
    return value;
  }
}

function waitingSessions(json: string | undefined): Set<string> {
  const paths = json ? (JSON.parse(json) as string[]) : [];
  return new Set(paths.map((p) => parseRecordPath(p)).map((a) => a?.sessionId ?? (a?.table === "session" ? a.id : undefined)).filter((s): s is string => s !== undefined));
}

/** A project's checkout here, paired with the portable root it stands for. */
function checkout(localRoot: string | undefined, portableRoot: string | undefined) {
  return localRoot && portableRoot ? { portableRoot, localRoot } : undefined;
}

/** The project root a session's directory is in: `directory` minus its repo-relative `path`. */
function sessionRoot(session: Obj): string {
  const dir = String(session.directory);
  const rel = typeof session.path === "string" ? session.path : "";
  return rel && dir.endsWith("/" + rel) ? dir.slice(0, -(rel.length + 1)) : dir;
}

/** Applies `map(path, portableRoot)` to a message's data.path.cwd and .root. */
function mapMessagePaths(value: Obj, map: (p: string, root: string | undefined) => string): Obj {
  const data = value.data as Obj | undefined;
  const p = data?.path as Obj | undefined;
  if (!data || !p || typeof p !== "object") return value;
  const root = typeof p.root === "string" ? p.root : undefined;
  const one = (k: string) => (typeof p[k] === "string" ? map(p[k] as string, root) : p[k]);
  return { ...value, data: { ...data, path: { ...p, cwd: one("cwd"), root: one("root") } } };
}

function messageToPortable(local: Obj, prev: Obj | undefined, paths: PathContext, localRoot: string | undefined): Obj {
  const prevPath = ((prev?.data as Obj | undefined)?.path as Obj | undefined) ?? {};
  const prevRoot = typeof prevPath.root === "string" ? prevPath.root : undefined;
  const localPath = ((local.data as Obj).path as Obj) ?? {};
  const previousOf = (p: string) => (p === localPath.root ? prevPath.root : prevPath.cwd) as string | undefined;
  return mapMessagePaths(local, (p) => toPortablePath(p, previousOf(p), paths, checkout(localRoot, prevRoot)));
}

/** The row as compared and synced: machine-local columns left out. */
function localForm(table: Table, row: Row): Obj {
  const out = rowToJson(row);
  for (const c of MACHINE_LOCAL[table] ?? []) delete out[c];
  return out;
}

interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  readonly pk: number;
}

function tableExists(db: Database, table: string): boolean {
  return db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

function tableColumns(db: Database, table: Table): Map<string, ColumnInfo> {
  const out = new Map<string, ColumnInfo>();
  for (const r of db.prepare(`PRAGMA table_info(${q(table)})`).all()) {
    out.set(String(r.name), { name: String(r.name), type: String(r.type).toLowerCase(), notNull: Number(r.notnull) === 1, hasDefault: r.dflt_value !== null, pk: Number(r.pk) });
  }
  return out;
}

/** The newest migration id when it is newer than the code knows, else undefined. */
export function newerSchema(db: Database): string | undefined {
  if (!tableExists(db, "migration")) return undefined;
  const last = String(db.prepare("SELECT max(id) AS id FROM migration").get()?.id ?? "");
  return last > KNOWN_LAST_MIGRATION ? last : undefined;
}

/** This machine's checkouts of each project (the global project has none). */
function projectRoots(db: Database): Map<string, string> {
  const out = new Map<string, string>();
  if (!tableExists(db, "project")) return out;
  for (const r of db.prepare("SELECT id, worktree FROM project").all()) {
    const w = String(r.worktree ?? "");
    if (w && w !== "/" && existsSync(w)) out.set(String(r.id), w);
  }
  return out;
}

function placeholder(c: ColumnInfo): SqlValue {
  return c.type.includes("int") || c.type.includes("real") ? 0 : "";
}

/**
 * Machine-local columns for a project this machine has not opened yet. OpenCode sets its own
 * worktree when the project is opened here; until then it is "/" like the global project's.
 */
function newProject(id: string): Obj {
  const now = Date.now();
  return { id, worktree: "/", sandboxes: "[]", time_created: now, time_updated: now };
}

/** A project row must exist before its sessions; when none came with the records, add a minimal one. */
function ensureProject(db: Database, projectId: string, cols: (t: Table) => Map<string, ColumnInfo>): void {
  if (db.prepare("SELECT 1 AS x FROM project WHERE id = ?").get(projectId)) return;
  upsertRow(db, "project", newProject(projectId), cols("project"));
}

function writeRow(db: Database, a: RecordAddress, value: Obj, cols: (t: Table) => Map<string, ColumnInfo>): void {
  switch (a.table) {
    case "todo":
      db.prepare("DELETE FROM todo WHERE session_id = ?").run(a.id);
      for (const item of (value.items as Obj[] | undefined) ?? []) upsertRow(db, "todo", { ...item, session_id: a.id }, cols("todo"));
      return;
    case "session":
      ensureProject(db, String(value.project_id), cols);
      return upsertRow(db, "session", value, cols("session"));
    case "project":
      return upsertRow(db, "project", { ...newProject(String(value.id)), ...value }, cols("project"));
    default:
      return upsertRow(db, a.table, value, cols(a.table));
  }
}

/** INSERT … ON CONFLICT DO UPDATE over the columns this database has; machine-local columns are only set on insert. */
function upsertRow(db: Database, table: Table, value: Obj, info: Map<string, ColumnInfo>): void {
  const row: Record<string, SqlValue> = {};
  for (const c of info.values()) {
    if (c.name in value) row[c.name] = jsonToSql(value[c.name]);
    else if (c.notNull && !c.hasDefault) row[c.name] = placeholder(c);
  }
  const names = Object.keys(row);
  const pk = [...info.values()].filter((c) => c.pk > 0).sort((x, y) => x.pk - y.pk).map((c) => c.name);
  const local = MACHINE_LOCAL[table] ?? [];
  const updates = names.filter((n) => !pk.includes(n) && !local.includes(n));
  const sql =
    `INSERT INTO ${q(table)} (${names.map(q).join(", ")}) VALUES (${names.map(() => "?").join(", ")}) ON CONFLICT(${pk.map(q).join(", ")}) ` +
    (updates.length ? `DO UPDATE SET ${updates.map((n) => `${q(n)} = excluded.${q(n)}`).join(", ")}` : "DO NOTHING");
  db.prepare(sql).run(...names.map((n) => row[n]!));
}

function parentExists(db: Database, a: RecordAddress): boolean {
  if (a.table === "message" || a.table === "todo") return db.prepare("SELECT 1 AS x FROM session WHERE id = ?").get(a.sessionId ?? a.id) !== undefined;
  if (a.table === "part") return db.prepare("SELECT 1 AS x FROM message WHERE id = ?").get(a.messageId!) !== undefined;
  return true;
}

function deleteRow(db: Database, a: RecordAddress): void {
  if (a.table === "todo") return void db.prepare("DELETE FROM todo WHERE session_id = ?").run(a.id);
  if (a.table === "project") {
    // A project row goes only once nothing refers to it: its delete would cascade to sessions.
    if (db.prepare("SELECT 1 AS x FROM session WHERE project_id = ? LIMIT 1").get(a.id)) return;
  }
  db.prepare(`DELETE FROM ${q(a.table)} WHERE id = ?`).run(a.id);
}

/** A session's todo list as one record: the rows in order, without the session id they share. */
function todoItems(db: Database, sessionId: string): Obj[] {
  return db
    .prepare("SELECT * FROM todo WHERE session_id = ? ORDER BY position")
    .all(sessionId)
    .map((r) => {
      const item = rowToJson(r);
      delete item.session_id;
      return item;
    });
}

/**
 * Hash of the row as the scan reads it (null when there is none): after an apply, so the next scan
 * does not see it as a local change; before, to tell whether OpenCode changed it since the scan.
 */
function currentHash(db: Database, a: RecordAddress): string | null {
  if (a.table === "todo") return hashOf({ items: todoItems(db, a.id) });
  const row = db.prepare(`SELECT * FROM ${q(a.table)} WHERE id = ?`).get(a.id);
  return row ? hashOf(localForm(a.table, row)) : null;
}
