// One small SQLite interface over `node:sqlite` (Node ≥ 22.13) and `bun:sqlite` (OpenCode runs
// plugins under Bun). No native addon: OpenCode installs plugins with install scripts disabled.

import { namingDiskFull } from "./disk-full.js";

export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, SqlValue>;

export interface Statement {
  all(...params: SqlValue[]): Row[];
  get(...params: SqlValue[]): Row | undefined;
  run(...params: SqlValue[]): void;
  iterate(...params: SqlValue[]): IterableIterator<Row>;
}

export interface Database {
  /** The file, to name in errors. */
  readonly path: string;
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

export interface OpenOptions {
  readonly readOnly?: boolean;
  /** How long to wait for another writer's lock, in ms. */
  readonly busyTimeoutMs?: number;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export async function openDatabase(path: string, options: OpenOptions = {}): Promise<Database> {
  const db = withStatementCache(path, isBun ? await openBun(path, options) : await openNode(path, options));
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readOnly) db.exec("PRAGMA foreign_keys = ON");
  return db;
}

async function openNode(path: string, options: OpenOptions): Promise<Omit<Database, "path">> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      const s = db.prepare(sql);
      return {
        all: (...p) => s.all(...p) as Row[],
        get: (...p) => s.get(...p) as Row | undefined,
        run: (...p) => void s.run(...p),
        iterate: (...p) => s.iterate(...p) as IterableIterator<Row>,
      };
    },
    close: () => db.close(),
  };
}

interface BunStatement {
  all(...p: SqlValue[]): Row[];
  get(...p: SqlValue[]): Row | null;
  run(...p: SqlValue[]): void;
  iterate(...p: SqlValue[]): IterableIterator<Row>;
}

async function openBun(path: string, options: OpenOptions): Promise<Omit<Database, "path">> {
  const specifier = "bun:sqlite";
  const { Database: BunDatabase } = (await import(specifier)) as {
    Database: new (p: string, o: { readonly?: boolean; create?: boolean }) => { exec(s: string): void; prepare(s: string): BunStatement; close(): void };
  };
  const db = new BunDatabase(path, options.readOnly ? { readonly: true } : { create: true });
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      const s = db.prepare(sql);
      return { all: (...p) => s.all(...p), get: (...p) => s.get(...p) ?? undefined, run: (...p) => s.run(...p), iterate: (...p) => s.iterate(...p) };
    },
    close: () => db.close(),
  };
}

/** Compiling a statement costs more than running it: reuse each one (callers prepare per row). */
function withStatementCache(path: string, db: Omit<Database, "path">): Database {
  const cache = new Map<string, Statement>();
  return {
    path,
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      let stmt = cache.get(sql);
      if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
      return stmt;
    },
    close: () => {
      cache.clear();
      db.close();
    },
  };
}

/** Runs `fn` in one IMMEDIATE transaction: all of it lands, or none of it. */
export function transaction<T>(db: Database, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    // A full disk ends the transaction itself (SQLite rolls back): a ROLLBACK then fails and must not hide why.
    try {
      db.exec("ROLLBACK");
    } catch {
      /* already rolled back */
    }
    return namingDiskFull(db.path)(e);
  }
}

