// oc-sync's memory of every record this machine holds: the version (vector, hash) its local data
// corresponds to, and cheap change detectors (a hash of the local form, a file's stat).
// Kept in SQLite so one lookup is cheap however many records there are.
import { transaction, type Database } from "../platform/sqlite.js";
import type { RecordKind, SyncRecord } from "../../core/record.js";
import { compareVectors, type VersionVector } from "../../core/vector.js";
import { HeldStore } from "./held-store.js";
import { metaRows, REJOIN_FORGETS, SyncState, type StatePatch } from "./sync-state.js";

export interface IndexEntry {
  readonly path: string;
  readonly kind: RecordKind;
  readonly vector: VersionVector;
  readonly hash: string;
  readonly updatedAt: number;
  readonly writer: string;
  readonly deleted: boolean;
  /** Hash of the local form (file bytes, row) when it last matched this version. */
  readonly localHash: string | null;
  /** size:mtime:ino of a file when it last matched, so unchanged files are not even read. */
  readonly stat: string | null;
}

/**
 * A path's last segment, as SQL (text after the last "/"). Indexed: counting the sessions among a
 * million message and part paths must not read them all (it made every sync grow with the database).
 * Only for paths of at most four segments (sessions, config files): no lookup by leaf goes deeper,
 * and indexing every message and part path made writing the index 2.4× slower.
 */
const LEAF = "substr(path, length(rtrim(path, replace(path, '/', ''))) + 1)";
const SHALLOW_SEGMENTS = 4;
const SHALLOW = `path NOT GLOB '${Array(SHALLOW_SEGMENTS + 1).fill("*").join("/")}'`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS record (
  path TEXT PRIMARY KEY, kind TEXT NOT NULL, vector TEXT NOT NULL, hash TEXT NOT NULL,
  updated_at INTEGER NOT NULL, writer TEXT NOT NULL, deleted INTEGER NOT NULL,
  local_hash TEXT, stat TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
DROP INDEX IF EXISTS record_leaf;
CREATE INDEX IF NOT EXISTS record_shallow_leaf ON record(${LEAF}, deleted) WHERE ${SHALLOW};
`;

export class IndexStore {
  /** The sync's own state (base, head, marks), saved in the same database. */
  readonly state: SyncState;
  /** Changes to what OpenCode executes that this machine has not applied (see executable-gate.ts). */
  readonly held: HeldStore;

  constructor(private readonly db: Database) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(SCHEMA);
    this.state = new SyncState({ get: (k) => this.getMeta(k), withPrefix: (p) => this.metaWithPrefix(p) });
    this.held = new HeldStore(db);
  }

  get(path: string): IndexEntry | undefined {
    const row = this.db.prepare("SELECT * FROM record WHERE path = ?").get(path);
    return row ? toEntry(row) : undefined;
  }

  /** Entries for many paths in a few queries (an apply batch), by path; absent paths are left out. */
  getMany(paths: readonly string[]): Map<string, IndexEntry> {
    const out = new Map<string, IndexEntry>();
    for (let i = 0; i < paths.length; i += 500) {
      const slice = paths.slice(i, i + 500);
      for (const row of this.db.prepare(`SELECT * FROM record WHERE path IN (${slice.map(() => "?").join(",")})`).all(...slice)) out.set(String(row.path), toEntry(row));
    }
    return out;
  }

  /** Live paths under a folder prefix, for noticing deletions. */
  livePaths(prefix: string): string[] {
    return this.db
      .prepare("SELECT path FROM record WHERE path >= ? AND path < ? AND deleted = 0")
      .all(prefix, prefix + "\uffff")
      .map((r) => String(r.path));
  }

  /** Entries (deleted ones too) of every path a GLOB matches, by path: one query for what would be a lookup per row. */
  entriesGlob(glob: string): Map<string, IndexEntry> {
    const [where, params] = globWhere(glob, false);
    const out = new Map<string, IndexEntry>();
    for (const row of this.db.prepare(`SELECT * FROM record WHERE ${where}`).iterate(...params)) out.set(String(row.path), toEntry(row));
    return out;
  }

  livePathsGlob(glob: string): string[] {
    const [where, params] = globWhere(glob, true);
    return this.db
      .prepare(`SELECT path FROM record WHERE ${where}`)
      .all(...params)
      .map((r) => String(r.path));
  }

  countLiveGlob(glob: string): number {
    const [where, params] = globWhere(glob, true);
    return Number(this.db.prepare(`SELECT count(*) AS n FROM record WHERE ${where}`).get(...params)?.n ?? 0);
  }

  countLive(prefix: string): number {
    return Number(this.db.prepare("SELECT count(*) AS n FROM record WHERE path >= ? AND path < ? AND deleted = 0").get(prefix, prefix + "\uffff")?.n ?? 0);
  }

  /** Saves entries and a state change in one transaction: the index and the head it describes move together. */
  save(entries: Iterable<IndexEntry>, patch: StatePatch = {}): void {
    transaction(this.db, () => {
      this.writeEntries(entries);
      this.writeMeta(metaRows(patch));
    });
  }

  /**
   * Starts over with `remote`: forgets which of its commits this machine integrated and applied, and
   * marks the next sync to upload every version this machine has. The records' versions stay: they
   * are this machine's history, and its counters must not go back. Leaving a remote for another, the
   * commits that were its own there are remembered, to check its branch there on coming back.
   */
  rejoin(remote: string): void {
    const { remote: leaving, base, head, pushed } = this.state;
    const own = [base, head, pushed].filter((c): c is string => c !== null);
    transaction(this.db, () => {
      if (leaving !== null && leaving !== remote && own.length) this.writeMeta(metaRows({ left: { [leaving]: [...new Set(own)] } }));
      for (const k of REJOIN_FORGETS.keys) this.db.prepare("DELETE FROM meta WHERE key = ?").run(k);
      for (const p of REJOIN_FORGETS.prefixes) this.db.prepare("DELETE FROM meta WHERE key >= ? AND key < ?").run(p, p + "\uffff");
      this.writeMeta(metaRows({ remote, rejoin: true }));
    });
  }

  /** Forgets every entry under a folder: the next scan offers what is there as never synced. */
  forget(prefix: string): void {
    this.db.prepare("DELETE FROM record WHERE path >= ? AND path < ?").run(prefix, prefix + "\uffff");
  }

  /** Deleted entries under a folder: tombstones this machine holds. */
  deletedEntries(prefix: string): IndexEntry[] {
    return this.db
      .prepare("SELECT * FROM record WHERE path >= ? AND path < ? AND deleted = 1")
      .all(prefix, prefix + "\uffff")
      .map(toEntry);
  }

  /** Changes the sync state alone. */
  update(patch: StatePatch): void {
    transaction(this.db, () => this.writeMeta(metaRows(patch)));
  }

  private writeEntries(entries: Iterable<IndexEntry>): void {
    const stmt = this.db.prepare(
      `INSERT INTO record (path, kind, vector, hash, updated_at, writer, deleted, local_hash, stat) VALUES (?,?,?,?,?,?,?,?,?)
       ON CONFLICT(path) DO UPDATE SET kind=excluded.kind, vector=excluded.vector, hash=excluded.hash, updated_at=excluded.updated_at,
       writer=excluded.writer, deleted=excluded.deleted, local_hash=excluded.local_hash, stat=excluded.stat`,
    );
    for (const e of entries) stmt.run(e.path, e.kind, JSON.stringify(e.vector), e.hash, e.updatedAt, e.writer, e.deleted ? 1 : 0, e.localHash, e.stat);
  }

  private metaWithPrefix(prefix: string): Map<string, string> {
    const rows = this.db.prepare("SELECT key, value FROM meta WHERE key >= ? AND key < ?").all(prefix, prefix + "\uffff");
    return new Map(rows.map((r) => [String(r.key), String(r.value)]));
  }

  private getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key);
    return row ? String(row.value) : undefined;
  }

  private writeMeta(values: Record<string, string | null>): void {
    for (const [k, v] of Object.entries(values)) {
      if (v === null) this.db.prepare("DELETE FROM meta WHERE key = ?").run(k);
      else this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(k, v);
    }
  }

  close(): void {
    this.db.close();
  }
}

/** Paths matching a glob (only live ones with `liveOnly`); a shallow glob whose last segment is plain text is looked up by that segment. */
function globWhere(glob: string, liveOnly: boolean): [string, string[]] {
  const live = liveOnly ? "deleted = 0 AND " : "";
  const leaf = glob.slice(glob.lastIndexOf("/") + 1);
  if (/[*?[]/.test(leaf) || glob.split("/").length > SHALLOW_SEGMENTS) return [`${live}path GLOB ?`, [glob]];
  // The index's own condition, word for word: SQLite uses a partial index only when the query repeats it.
  return [`${SHALLOW} AND ${LEAF} = ? AND ${live}path GLOB ?`, [leaf, glob]];
}

export function entryFor(record: SyncRecord, localHash: string | null, stat: string | null): IndexEntry {
  const { path, kind, vector, hash, updatedAt, writer, deleted } = record;
  return { path, kind, vector, hash, updatedAt, writer, deleted, localHash, stat };
}

/** Whether `entry` is `record`'s very version (same vector, same content). */
export function isVersionOf(entry: IndexEntry | undefined, record: SyncRecord): entry is IndexEntry {
  return entry !== undefined && entry.hash === record.hash && entry.deleted === record.deleted && compareVectors(entry.vector, record.vector) === "equal";
}

function toEntry(row: Record<string, unknown>): IndexEntry {
  return {
    path: String(row.path),
    kind: String(row.kind) as RecordKind,
    vector: JSON.parse(String(row.vector)) as VersionVector,
    hash: String(row.hash),
    updatedAt: Number(row.updated_at),
    writer: String(row.writer),
    deleted: Number(row.deleted) === 1,
    localHash: row.local_hash === null ? null : String(row.local_hash),
    stat: row.stat === null ? null : String(row.stat),
  };
}
