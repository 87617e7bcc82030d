// Held changes (core/held.ts) beside the index in state.db: this machine's own, never synced (each
// machine reviews what it runs). Kept until the change is accepted, or for as long as the repo
// keeps a value the user discarded here.
import type { HeldChange, HeldStatus } from "../../core/held.js";
import { transaction, type Database } from "../platform/sqlite.js";

const SCHEMA = `CREATE TABLE IF NOT EXISTS held (id TEXT PRIMARY KEY, path TEXT NOT NULL, change TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS held_path ON held(path);`;

export class UnknownHeldError extends Error {
  constructor(id: string) {
    super(`no held change with id ${id}; 'oc-sync review' lists them`);
    this.name = "UnknownHeldError";
  }
}

export class HeldStore {
  constructor(private readonly db: Database) {
    db.exec(SCHEMA);
  }

  forPath(path: string): HeldChange[] {
    return this.db
      .prepare("SELECT change FROM held WHERE path = ? ORDER BY id")
      .all(path)
      .map((r) => JSON.parse(String(r.change)) as HeldChange);
  }

  all(): HeldChange[] {
    return this.db
      .prepare("SELECT change FROM held ORDER BY path, id")
      .all()
      .map((r) => JSON.parse(String(r.change)) as HeldChange);
  }

  /** The change with id `id`, or the only one it is a prefix of. */
  find(id: string): HeldChange {
    const matches = this.all().filter((h) => h.id === id || h.id.startsWith(id));
    if (matches.length !== 1 || id === "") throw new UnknownHeldError(id);
    return matches[0]!;
  }

  /** Replaces what is held for `path`. */
  replace(path: string, changes: readonly HeldChange[]): void {
    transaction(this.db, () => {
      this.db.prepare("DELETE FROM held WHERE path = ?").run(path);
      for (const c of changes) this.db.prepare("INSERT INTO held (id, path, change) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET change = excluded.change").run(c.id, path, JSON.stringify(c));
    });
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) this.db.prepare("DELETE FROM held WHERE id = ?").run(id);
  }

  setStatus(id: string, status: HeldStatus): HeldChange {
    const c = { ...this.find(id), status };
    this.db.prepare("UPDATE held SET change = ? WHERE id = ?").run(JSON.stringify(c), c.id);
    return c;
  }
}
