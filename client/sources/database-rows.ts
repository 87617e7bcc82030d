// OpenCode's rows as JSON and back: the form the repo holds, the fingerprint the scan and the
// apply compare, the schema this database has, and the writes of one apply transaction (upserts
// that hand back the stored row).
import { hash } from "node:crypto";
import { existsSync } from "node:fs";
import { contentHash } from "../../core/record.js";
import type { Database, Row, SqlValue } from "../platform/sqlite.js";
import type { RecordAddress, Table } from "../../core/db-paths.js";
import { isWindowsPath } from "./path-translation.js";

export type Obj = Record<string, unknown>;

/** The newest OpenCode migration this code was built and tested against (OpenCode 1.18.33). */
export const KNOWN_LAST_MIGRATION = "20260622202450_simplify_session_input";

/**
 * Columns that describe this machine only (its checkout of a project, when it first opened it):
 * neither synced nor overwritten. Without this, two machines would fight over them forever.
 */
const MACHINE_LOCAL: Partial<Record<Table, readonly string[]>> = { project: ["worktree", "sandboxes", "time_created", "time_updated", "time_initialized"] };

const enc = new TextEncoder();

export const canonical = (o: unknown) => JSON.stringify(o, null, 1);
const hashOf = (o: unknown) => contentHash(enc.encode(canonical(o)));
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

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

/** Marks a row fingerprint; an index entry without it holds the hash of the row's JSON form. */
const ROW_HASH = "row:";

/**
 * A row's fingerprint: SHA-256 over its synced columns' values as SQLite hands them over (names
 * sorted, each value typed and length-prefixed). Neither the scan of an unchanged row nor the write
 * of a new one has to parse or print its JSON for it.
 */
function rowHash(table: Table, row: Row): string {
  const local = MACHINE_LOCAL[table];
  let text = "";
  for (const name of Object.keys(row).sort()) {
    if (local?.includes(name)) continue;
    const v = row[name];
    const [type, body] =
      v === null ? ["z", ""] : typeof v === "string" ? ["s", v] : v instanceof Uint8Array ? ["b", Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")] : ["n", String(v)];
    text += `${name}\0${type}${body.length}\0${body}`;
  }
  return ROW_HASH + hash("sha256", text, "hex");
}

/** A record as it is in this database: its fingerprint, and its JSON form (built only when asked for). */
export interface LocalRecord {
  readonly hash: string;
  /** When OpenCode last changed the row (its time_updated), when it has one. */
  readonly editedAt?: number;
  json(): Obj;
}

export function rowRecord(table: Table, row: Row): LocalRecord {
  let json: Obj | undefined;
  const editedAt = typeof row.time_updated === "number" || typeof row.time_updated === "bigint" ? Number(row.time_updated) : undefined;
  return { hash: rowHash(table, row), editedAt, json: () => (json ??= localForm(table, row)) };
}

/** A session's todo list is several rows: its fingerprint is the hash of their JSON form. */
export function todoRecord(items: Obj[]): LocalRecord {
  const json = { items };
  return { hash: hashOf(json), json: () => json };
}

/**
 * Is `local` what the index last saw (`known`: the hash it saved)? Entries saved before rows had
 * fingerprints hold the hash of the row's JSON form and are compared as such: after an upgrade, an
 * apply does not take every row for one edited here, nor the scan rebuild every row's record.
 */
export function isKnown(known: string | null, local: LocalRecord): boolean {
  return known === local.hash || (known !== null && !known.startsWith(ROW_HASH) && known === hashOf(local.json()));
}

/** The row as compared and synced: machine-local columns left out. */
function localForm(table: Table, row: Row): Obj {
  const out = rowToJson(row);
  for (const c of MACHINE_LOCAL[table] ?? []) delete out[c];
  return out;
}

/** How SQLite converts a value stored in the column (its declared type's affinity, SQLite's §3.1 rules). */
type Affinity = "integer" | "text" | "blob" | "real" | "numeric";

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly affinity: Affinity;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  readonly pk: number;
}

export function tableExists(db: Database, table: string): boolean {
  return db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

export function tableColumns(db: Database, table: Table): Map<string, ColumnInfo> {
  const out = new Map<string, ColumnInfo>();
  for (const r of db.prepare(`PRAGMA table_info(${q(table)})`).all()) {
    const type = String(r.type).toLowerCase();
    out.set(String(r.name), { name: String(r.name), type, affinity: affinityOf(type), notNull: Number(r.notnull) === 1, hasDefault: r.dflt_value !== null, pk: Number(r.pk) });
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
export function projectRoots(db: Database): Map<string, string> {
  const out = new Map<string, string>();
  if (!tableExists(db, "project")) return out;
  for (const r of db.prepare("SELECT id, worktree FROM project").all()) {
    const w = String(r.worktree ?? "");
    // A checkout gone from this disk is no place to map sessions into; a worktree of the other OS family cannot be looked up here.
    const checkable = isWindowsPath(w) === (process.platform === "win32");
    if (w && w !== "/" && (!checkable || existsSync(w))) out.set(String(r.id), w);
  }
  return out;
}

/** A session's todo list as one record: the rows in order, without the session id they share. */
export function todoItems(db: Database, sessionId: string): Obj[] {
  return db
    .prepare("SELECT * FROM todo WHERE session_id = ? ORDER BY position")
    .all(sessionId)
    .map((r) => {
      const item = rowToJson(r);
      delete item.session_id;
      return item;
    });
}

function affinityOf(type: string): Affinity {
  if (type.includes("int")) return "integer";
  if (/char|clob|text/.test(type)) return "text";
  if (type === "" || type.includes("blob")) return "blob";
  if (/real|floa|doub/.test(type)) return "real";
  return "numeric";
}

/**
 * Does SQLite store `v` in column `c` as bound, so that it reads back the same? Affinity turns a
 * number into text in a text column and numeric-looking text into a number elsewhere; text is
 * stored as UTF-8, which a lone surrogate does not survive (JSON text never holds one, nor a NUL).
 */
function storedAsBound(c: ColumnInfo, v: SqlValue, jsonText: boolean): boolean {
  if (v === null || v instanceof Uint8Array) return true;
  if (typeof v === "number") return c.affinity !== "text" && (Number.isSafeInteger(v) || !Number.isInteger(v));
  if (typeof v === "string") return (c.affinity === "text" || c.affinity === "blob") && (jsonText || !/[\0\uD800-\uDFFF]/.test(v));
  return false;
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

/**
 * The reads and writes of one apply transaction. What it learns about rows (a session or message
 * is there, a session's project) holds until the transaction ends, as nobody else can write
 * meanwhile; a delete (which may cascade) forgets it all.
 */
export class RowsInTransaction {
  private readonly present = new Set<string>();
  private readonly projects = new Map<string, string>();
  private readonly upsertSql = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly columns: (t: Table) => Map<string, ColumnInfo>,
  ) {}

  /**
   * Is the row (a todo list: its rows) still as the scan saw it (`scanned`: the hash it saved, null
   * when there was none)? Asked before a write, to tell whether OpenCode changed it since.
   */
  unchangedSince(a: RecordAddress, scanned: string | null): boolean {
    const now = this.current(a);
    return now === null ? scanned === null : isKnown(scanned, now);
  }

  parentExists(a: RecordAddress): boolean {
    if (a.table === "message" || a.table === "todo") return this.exists("session", a.sessionId ?? a.id);
    if (a.table === "part") return this.exists("message", a.messageId!);
    return true;
  }

  /** The session's project id (undefined when the session is not here). */
  projectOf(sessionId: string): string | undefined {
    if (!this.projects.has(sessionId)) {
      const row = this.db.prepare("SELECT project_id FROM session WHERE id = ?").get(sessionId);
      if (row) this.projects.set(sessionId, String(row.project_id));
    }
    return this.projects.get(sessionId);
  }

  /**
   * Writes a row (a todo list: its rows) and returns the hash of what is now stored, so the next
   * scan sees no change. `onlyNew`: a row already there is left as it is, and null returned.
   */
  write(a: RecordAddress, value: Obj, onlyNew = false): string | null {
    switch (a.table) {
      case "todo":
        this.db.prepare("DELETE FROM todo WHERE session_id = ?").run(a.id);
        for (const item of (value.items as Obj[] | undefined) ?? []) this.upsert("todo", { ...item, session_id: a.id }, false);
        return this.current(a)!.hash;
      case "session": {
        this.ensureProject(String(value.project_id));
        const hash = this.stored(a, this.upsert("session", value, onlyNew), onlyNew);
        if (hash !== null) this.projects.set(a.id, String(value.project_id));
        return hash;
      }
      case "project":
        return this.stored(a, this.upsert("project", { ...newProject(String(value.id)), ...value }, onlyNew), onlyNew);
      default:
        return this.stored(a, this.upsert(a.table, value, onlyNew), onlyNew);
    }
  }

  delete(a: RecordAddress): void {
    this.present.clear();
    this.projects.clear();
    if (a.table === "todo") return void this.db.prepare("DELETE FROM todo WHERE session_id = ?").run(a.id);
    if (a.table === "project") {
      // A project row goes only once nothing refers to it: its delete would cascade to sessions.
      if (this.db.prepare("SELECT 1 AS x FROM session WHERE project_id = ? LIMIT 1").get(a.id)) return;
    }
    this.db.prepare(`DELETE FROM ${q(a.table)} WHERE id = ?`).run(a.id);
  }

  /** The row as synced (machine-local columns left out), as it is here now; undefined when there is none. */
  json(a: RecordAddress): Obj | undefined {
    return this.current(a)?.json();
  }

  /** The row (a todo list: its rows) as the scan reads it; null when there is none. */
  private current(a: RecordAddress): LocalRecord | null {
    if (a.table === "todo") return todoRecord(todoItems(this.db, a.id));
    const row = this.db.prepare(`SELECT * FROM ${q(a.table)} WHERE id = ?`).get(a.id);
    return row ? rowRecord(a.table, row) : null;
  }

  private exists(table: Table, id: string): boolean {
    const key = `${table}:${id}`;
    if (this.present.has(key)) return true;
    const found = this.db.prepare(`SELECT 1 AS x FROM ${q(table)} WHERE id = ?`).get(id) !== undefined;
    if (found) this.present.add(key);
    return found;
  }

  /**
   * The hash of a row just written. An upsert that changed nothing returns no row, so it is read;
   * an insert of `onlyNew` that returned none found the row there and wrote nothing (null).
   */
  private stored(a: RecordAddress, row: Row | undefined, onlyNew: boolean): string | null {
    // Only parents are asked after (a part has no children): a first pull writes 50,000 parts.
    if (a.table !== "part") this.present.add(`${a.table}:${a.id}`);
    if (onlyNew && !row) return null;
    const hash = row ? rowHash(a.table, row) : (this.current(a)?.hash ?? null);
    if (hash === null) throw new Error(`row ${a.id} is not in table ${a.table} after writing it`);
    return hash;
  }

  /** A project row must exist before its sessions; when none came with the records, add a minimal one. */
  private ensureProject(projectId: string): void {
    if (!this.exists("project", projectId)) this.upsert("project", newProject(projectId), false);
  }

  /**
   * INSERT … ON CONFLICT DO UPDATE over the columns this database has, returning the stored row
   * (one statement instead of a write and a read); machine-local columns are only set on insert.
   * When every synced column is bound and stored as bound, the row is the values bound and the
   * statement only says whether it wrote (reading a row back added a quarter to a first pull's inserts).
   * `onlyNew`: ON CONFLICT DO NOTHING, which returns no row when the row was there.
   */
  private upsert(table: Table, value: Obj, onlyNew: boolean): Row | undefined {
    const info = this.columns(table);
    const local = MACHINE_LOCAL[table] ?? [];
    const row: Record<string, SqlValue> = {};
    let asBound = true;
    for (const c of info.values()) {
      const given = c.name in value;
      if (!given && (!c.notNull || c.hasDefault)) {
        asBound &&= local.includes(c.name);
        continue;
      }
      const v = given ? jsonToSql(value[c.name]) : placeholder(c);
      row[c.name] = v;
      asBound &&= local.includes(c.name) || storedAsBound(c, v, typeof value[c.name] === "object" && typeof v === "string");
    }
    const names = Object.keys(row);
    const key = `${table}\0${onlyNew}\0${asBound}\0${names.join("\0")}`;
    let sql = this.upsertSql.get(key);
    if (!sql) {
      const pk = [...info.values()].filter((c) => c.pk > 0).sort((x, y) => x.pk - y.pk).map((c) => c.name);
      const updates = names.filter((n) => !pk.includes(n) && !local.includes(n));
      sql =
        `INSERT INTO ${q(table)} (${names.map(q).join(", ")}) VALUES (${names.map(() => "?").join(", ")}) ON CONFLICT(${pk.map(q).join(", ")}) ` +
        (updates.length && !onlyNew ? `DO UPDATE SET ${updates.map((n) => `${q(n)} = excluded.${q(n)}`).join(", ")}` : "DO NOTHING") +
        (asBound ? " RETURNING 1 AS wrote" : " RETURNING *");
      this.upsertSql.set(key, sql);
    }
    const stored = this.db.prepare(sql).get(...names.map((n) => row[n]!));
    return stored && asBound ? row : stored;
  }
}
