// Rows of OpenCode's opencode.db as records. Read through a read-only connection; written with
// INSERT … ON CONFLICT DO UPDATE (never INSERT OR REPLACE, whose implicit delete cascades), parents
// first, in short transactions so OpenCode never waits near its 5 s busy timeout. Columns are
// handled generically; a schema newer than this code knows is never written.
import { existsSync } from "node:fs";
import type { JSONPath } from "jsonc-parser";
import { transplant } from "../../core/local-keys.js";
import type { SyncRecord } from "../../core/record.js";
import { openDatabase, transaction, type Database } from "../platform/sqlite.js";
import { MAX_NESTING, nestsDeeper } from "../../core/nesting.js";
import { identityMismatch, parseRecordPath, recordPath, SAFE_ID, sessionFolder, sessionRows, TABLE_GLOBS, type RecordAddress, type Table } from "../../core/db-paths.js";
import { canonical, isKnown, KNOWN_LAST_MIGRATION, newerSchema, projectRoots, rowRecord, RowsInTransaction, tableColumns, tableExists, todoItems, todoRecord, type ColumnInfo, type LocalRecord, type Obj } from "./database-rows.js";
import { canonicalPath, toLocalPath, toPortablePath, type PathContext } from "./path-translation.js";
import { ApplyIncomplete, scannedHash, SourceError, type Applied, type ApplyResult, type KnownLocal, type LocalChange, type RecordGroup, type ScanContext, type Source } from "./source.js";

/** Settings categories → tables. Parts travel with messages. */
export const dbCategories: Readonly<Record<string, readonly Table[]>> = {
  projects: ["project"],
  permissions: ["permission"],
  sessions: ["session"],
  messages: ["message", "part"],
  todos: ["todo"],
};

const RANK: Record<Table, number> = { project: 0, permission: 1, session: 2, message: 3, part: 4, todo: 5 };
/** How long one apply transaction may hold the write lock OpenCode waits on (its busy timeout is 5 s). */
const LOCK_BUDGET_MS = 100;
const SLACK_MS = 60_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A record to write, its row address, and (unless it is a tombstone) its content parsed once. */
type Item = { readonly r: SyncRecord; readonly a: RecordAddress; readonly value?: Obj };

export interface DatabaseSourceOptions {
  readonly path: string;
  readonly tables: readonly Table[];
  readonly paths: PathContext;
  readonly warn: (message: string) => void;
  /**
   * `ask`: keys of rows whose value here waits for the user's decision, by record path (`[]`: the
   * whole row). The row keeps this machine's value there until then, and does not offer it again.
   */
  readonly undecided?: ReadonlyMap<string, readonly JSONPath[]>;
}

/** `value` with `source`'s values at `keys` (a key `source` lacks is removed). */
function withKeysOf(value: Obj, source: Obj, keys: readonly JSONPath[]): Obj {
  return JSON.parse(transplant(JSON.stringify(value), JSON.stringify(source), keys)) as Obj;
}

export class DatabaseSource implements Source {
  readonly category = "database";
  readonly prefixes = ["db/"];
  private readonly marks: Record<string, number> = {};

  constructor(private readonly o: DatabaseSourceOptions) {}

  owns(path: string): boolean {
    return path.startsWith("db/");
  }

  groupOf(path: string): RecordGroup {
    const a = parseRecordPath(path);
    if (!a) return { name: "database records", glob: "db/*" };
    const group = { name: a.table === "session" ? "sessions" : `${a.table} records`, glob: TABLE_GLOBS[a.table] };
    // A session's messages, parts and todos go with it: deleting one session is one deletion, not dozens.
    const session = a.sessionId ?? (a.table === "todo" ? a.id : undefined);
    return session ? { ...group, coveredBy: recordPath({ table: "session", id: session }) } : group;
  }

  scanMarks(): Readonly<Record<string, number>> {
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
          yield* this.change(ctx, { table: "project", id: String(row.id) }, rowRecord("project", row));
        }
      }
      if (has("permission")) {
        for (const row of db.prepare("SELECT * FROM permission").iterate()) yield* this.change(ctx, { table: "permission", id: String(row.id) }, rowRecord("permission", row));
      }
      const active: string[] = [];
      // Sessions with records waiting to be applied are read whole: a row changed here since the
      // last scan must be committed (and merged) even if the time window would pass over it.
      const rescan = waitingSessions(ctx.state.waiting(this.category));
      if (has("session")) {
        const live = new Set<string>();
        let known = 0;
        // Every session row is visited: what the index and the scan marks hold for them comes in two queries, not three lookups per session.
        const entries = ctx.entriesGlob(TABLE_GLOBS.session);
        const seenMarks = ctx.state.allSeen();
        for (const row of db.prepare("SELECT * FROM session").iterate()) {
          const id = String(row.id);
          if (!SAFE_ID.test(id)) continue;
          live.add(id);
          const address: RecordAddress = { table: "session", id };
          const entry = entries.get(recordPath(address));
          if (entry?.deleted === false) known++;
          const localRoot = roots.get(String(row.project_id));
          let changed = false;
          const toRepo = async (l: Obj, prev: Obj | undefined) => ({
            ...l,
            directory: toPortablePath(String(l.directory), prev?.directory as string | undefined, this.o.paths, checkout(localRoot, prev && sessionRoot(prev))),
          });
          for await (const c of this.change(ctx, address, rowRecord("session", row), toRepo, entry)) {
            changed ||= c.type === "put";
            yield c;
          }
          const seen = seenMarks.get(id) ?? -1;
          if (changed || seen < Number(row.time_updated) || rescan.has(id)) active.push(id);
        }
        // A deleted session takes its messages, parts and todos with it (OpenCode's delete cascades).
        // Only when the index knows more live sessions than the database has are the lists compared.
        const gone = new Set<string>();
        if (ctx.countLiveGlob(TABLE_GLOBS.session) > known) {
          for (const path of ctx.livePathsGlob(TABLE_GLOBS.session)) {
            const a = parseRecordPath(path);
            if (a && !live.has(a.id)) gone.add(a.id);
          }
        }
        for (const id of gone) for (const path of ctx.livePaths(sessionFolder(id))) yield { type: "delete", path, kind: "json" };
      }
      for (const sessionId of active) yield* this.scanSession(db, ctx, sessionId, has, roots, rescan.has(sessionId));
    } finally {
      db.close();
    }
  }

  private async *scanSession(db: Database, ctx: ScanContext, sessionId: string, has: (t: Table) => boolean, roots: Map<string, string>, whole: boolean): AsyncIterable<LocalChange> {
    const mark = ctx.state.seen(sessionId);
    const since = whole ? -1 : (mark ?? -1) - SLACK_MS;
    let newest = mark ?? 0;
    const session = db.prepare("SELECT project_id, time_updated FROM session WHERE id = ?").get(sessionId);
    newest = Math.max(newest, Number(session?.time_updated ?? 0));
    const localRoot = roots.get(String(session?.project_id ?? ""));
    for (const table of ["message", "part"] as const) {
      if (!has(table)) continue;
      for (const row of db.prepare(`SELECT * FROM ${table} WHERE session_id = ? AND time_updated >= ?`).iterate(sessionId, since)) {
        newest = Math.max(newest, Number(row.time_updated));
        const address: RecordAddress = table === "message" ? { table, id: String(row.id), sessionId } : { table, id: String(row.id), sessionId, messageId: String(row.message_id) };
        if (!SAFE_ID.test(address.id) || (address.messageId !== undefined && !SAFE_ID.test(address.messageId))) continue;
        yield* this.change(ctx, address, rowRecord(table, row), table === "message" ? async (l, prev) => messageToPortable(l, prev, this.o.paths, localRoot) : undefined);
      }
      // Deletions: only when the counts disagree is the id set compared.
      const prefix = sessionRows(sessionId, table);
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
      if (items.length || ctx.index(path)?.deleted === false) yield* this.change(ctx, { table: "todo", id: sessionId }, todoRecord(items));
    }
    this.marks[sessionId] = newest;
  }

  /**
   * Yields a put when the record differs from what the index knows (`known`: its entry, when already
   * at hand), and a touch when only the form of its hash does (an entry an older oc-sync saved).
   */
  private async *change(ctx: ScanContext, address: RecordAddress, local: LocalRecord, toRepo?: (local: Obj, prev: Obj | undefined) => Promise<Obj>, known = ctx.index(recordPath(address))): AsyncIterable<LocalChange> {
    const path = recordPath(address);
    if (known && !known.deleted && isKnown(known.localHash, local)) {
      if (known.localHash !== local.hash) yield { type: "touch", path, localHash: local.hash, stat: null };
      return;
    }
    let repoForm = local.json();
    const held = this.o.undecided?.get(path)?.filter((k) => k.length > 0);
    // Only a record this machine has synced has a previous version (to translate paths against, to take held keys from).
    const prevRecord = known && (toRepo || held) ? await ctx.previous(path) : undefined;
    const prev = prevRecord && !prevRecord.deleted ? (JSON.parse(dec.decode(prevRecord.content!)) as Obj) : undefined;
    if (toRepo) repoForm = await toRepo(repoForm, prev);
    // Values waiting for a decision are not offered again: the record carries them as last synced.
    if (held?.length && prev) repoForm = withKeysOf(repoForm, prev, held);
    const content = repoBytes(repoForm);
    if (held?.length && content && prevRecord?.content && Buffer.from(content).equals(Buffer.from(prevRecord.content))) {
      yield { type: "touch", path, localHash: local.hash, stat: null };
      return;
    }
    // Skipped, not deleted: the row stays here, and every other machine keeps what it had.
    if (!content) this.o.warn(`skipped the row of ${path}: it is nested deeper than ${MAX_NESTING} levels, which oc-sync does not sync`);
    else yield { type: "put", path, kind: "json", content, localHash: local.hash, stat: null, editedAt: local.editedAt };
  }

  async apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult> {
    const db = await this.open(false);
    if (!db) throw new SourceError(`OpenCode's database ${this.o.path} does not exist yet; session records will be applied once OpenCode has created it`);
    // OpenCode's own page cache (64 MB; SQLite's default is 2 MB): a batch's inserts land all over
    // the part and message tables and their indexes (7 % less time applying a first pull).
    db.exec("PRAGMA cache_size = -64000");
    try {
      const newer = newerSchema(db);
      if (newer) throw new SourceError(`OpenCode's database has migration ${newer}, newer than this oc-sync knows (${KNOWN_LAST_MIGRATION}); it is left read-only until you upgrade oc-sync. Files still sync`, true);
      const columns = new Map<Table, Map<string, ColumnInfo>>();
      const cols = (t: Table) => columns.get(t) ?? columns.set(t, tableColumns(db, t)).get(t)!;
      const present = new Set(this.o.tables.filter((t) => tableExists(db, t)));
      const refused: string[] = [];
      const items: Item[] = [];
      for (const r of records) {
        const a = parseRecordPath(r.path);
        if (!a) this.o.warn(`refused ${r.path}: not a database record path`);
        if (!a || !present.has(a.table)) continue;
        const parsed = r.deleted ? undefined : parseRow(r, a);
        if (typeof parsed === "string") refused.push(`refused record ${r.path}: ${parsed}; it is skipped and the rest applies (it came from ${r.writer}: fix it there, or delete it from the sync repo)`);
        else items.push({ r, a, value: parsed });
      }
      // Deletes children first, then upserts parents first, so every chunk leaves foreign keys valid.
      const deletes = items.filter((x) => x.r.deleted).sort((x, y) => RANK[y.a.table] - RANK[x.a.table]);
      const upserts = items.filter((x) => !x.r.deleted).sort((x, y) => RANK[x.a.table] - RANK[y.a.table]);
      const ordered = [...deletes, ...upserts];
      const roots = projectRoots(db);
      const applied: Applied[] = [];
      const waiting: string[] = [];
      const editedHere: string[] = [];
      const seen: Record<string, number> = {};
      const startedAt = Date.now();
      for (let i = 0; i < ordered.length; ) {
        const start = i;
        try {
          const done = transaction(db, () => this.writeChunk(new RowsInTransaction(db, cols), ordered, start, roots, known, startedAt));
          i = done.next;
          applied.push(...done.applied);
          waiting.push(...done.waiting);
          editedHere.push(...done.editedHere);
          Object.assign(seen, done.seen);
        } catch (e) {
          const why = e instanceof SourceError ? e.message : `could not write ${ordered.length - start} record(s) into ${this.o.path}: ${(e as Error).message}`;
          throw new ApplyIncomplete([`${why}; no row of this batch was written, the next sync retries`], { applied, waiting, editedHere, seen });
        }
      }
      if (refused.length) throw new ApplyIncomplete(refused, { applied, waiting, editedHere, seen }, true);
      return { applied, waiting, editedHere, seen };
    } finally {
      db.close();
    }
  }

  /**
   * Records from `start` in one transaction, until LOCK_BUDGET_MS has passed (OpenCode waits for
   * the lock meanwhile; each commit costs an fsync, so not one per handful of rows). A record that
   * cannot be written names itself and aborts the transaction. Inside it, OpenCode cannot change a
   * row between the check and the write: a row changed since the scan, or a child whose parent is
   * not here, waits.
   */
  private writeChunk(rows: RowsInTransaction, items: readonly Item[], start: number, roots: Map<string, string>, known: KnownLocal | undefined, startedAt: number): ApplyResult & { next: number } {
    const applied: Applied[] = [];
    const waiting: string[] = [];
    const editedHere: string[] = [];
    const seen: Record<string, number> = {};
    const deadline = performance.now() + LOCK_BUDGET_MS;
    let i = start;
    for (; i < items.length && (i === start || performance.now() < deadline); i++) {
      const x = items[i]!;
      // A todo list has no "absent" state to compare (no rows = an empty list), and OpenCode writes it only while a session runs.
      const expected = known === undefined || x.a.table === "todo" ? undefined : scannedHash(known, x.r.path);
      // A row the scan did not see must still be absent: an insert that leaves a present row alone
      // checks that in the same statement (a first pull has no other kind).
      const onlyNew = expected === null && !x.r.deleted;
      if (expected !== undefined && !onlyNew && !rows.unchangedSince(x.a, expected)) {
        editedHere.push(x.r.path);
        continue;
      }
      const held = this.o.undecided?.get(x.r.path);
      // A whole row (or its deletion) waiting for the user's decision stays as it is here, asked for again each sync.
      if ((!x.r.deleted && !rows.parentExists(x.a)) || (held && (x.r.deleted || held.some((k) => k.length === 0)))) {
        waiting.push(x.r.path);
        continue;
      }
      let localHash: string | null = null;
      try {
        if (x.r.deleted) rows.delete(x.a);
        else localHash = rows.write(x.a, this.withHeldKeys(rows, x.a, this.toLocal(rows, x.a, x.value!, roots), held), onlyNew);
      } catch (e) {
        throw new SourceError(`could not write record ${x.r.path} into ${this.o.path}: ${(e as Error).message}`);
      }
      if (onlyNew && localHash === null) {
        editedHere.push(x.r.path);
        continue;
      }
      applied.push({ path: x.r.path, localHash, stat: null });
      // A session this apply creates holds nothing of this machine's older than now: the scan may
      // start its time window here instead of reading every row once (a first pull's next sync did).
      if (x.a.table === "session" && !x.r.deleted && expected === null) seen[x.a.id] = startedAt;
    }
    return { applied, waiting, editedHere, seen, next: i };
  }

  /** An incoming row with this machine's values where they wait for a decision (a new row takes them as they come). */
  private withHeldKeys(rows: RowsInTransaction, a: RecordAddress, value: Obj, held: readonly JSONPath[] | undefined): Obj {
    const here = held && rows.json(a);
    return here ? withKeysOf(value, here, held) : value;
  }

  /** Repo form → this machine's form: paths into this machine's checkout of the project. */
  private toLocal(rows: RowsInTransaction, a: RecordAddress, value: Obj, roots: Map<string, string>): Obj {
    if (a.table === "session") {
      return { ...value, directory: toLocalPath(String(value.directory), this.o.paths, checkout(roots.get(String(value.project_id)), sessionRoot(value))) };
    }
    if (a.table === "message") {
      const projectId = rows.projectOf(a.sessionId!);
      return mapMessagePaths(value, (p, root) => toLocalPath(p, this.o.paths, checkout(roots.get(String(projectId)), root)));
    }
    return value;
  }
}

/** A row's repo form as bytes; null when it nests too deep to sync (printing it may not even fit the stack). */
function repoBytes(row: Obj): Uint8Array | null {
  let text: string;
  try {
    text = canonical(row);
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
  return nestsDeeper(text) ? null : enc.encode(text + "\n");
}

/** A record's row, or why it must not be written at all (named and skipped: never a reason to stop the batch). */
function parseRow(r: SyncRecord, a: RecordAddress): Obj | string {
  if (nestsDeeper(r.content!)) return `it is nested deeper than ${MAX_NESTING} levels`;
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(r.content!));
  } catch {
    return "it is not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "it is not a JSON object";
  return identityMismatch(a, value as Obj) ?? (value as Obj);
}

function waitingSessions(paths: readonly string[]): Set<string> {
  return new Set(paths.map((p) => parseRecordPath(p)).map((a) => a?.sessionId ?? (a?.table === "session" ? a.id : undefined)).filter((s): s is string => s !== undefined));
}

/** A project's checkout here, paired with the portable root it stands for. */
function checkout(localRoot: string | undefined, portableRoot: string | undefined) {
  return localRoot && portableRoot ? { portableRoot, localRoot } : undefined;
}

/** The project root a session's directory is in: `directory` minus its repo-relative `path`. */
function sessionRoot(session: Obj): string {
  const dir = canonicalPath(String(session.directory));
  // OpenCode on Windows may write the subfolder with backslashes, as its directory.
  const rel = typeof session.path === "string" ? session.path.replace(/\\/g, "/") : "";
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

