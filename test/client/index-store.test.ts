// The index answers "which sessions does this machine know?" by a path's last segment: the answers
// must be the same whichever way the query goes (indexed for shallow paths, a scan for deep ones).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../client/platform/sqlite.js";
import { IndexStore, type IndexEntry } from "../../client/state/index-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const entry = (path: string, deleted = false): IndexEntry => ({ path, kind: "json", vector: { a: 1 }, hash: "h", updatedAt: 1, writer: "a", deleted, localHash: deleted ? null : "l", stat: null });

async function openIndex(): Promise<{ index: IndexStore; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), "oc-sync-index-"));
  dirs.push(dir);
  const file = join(dir, "state.db");
  return { index: new IndexStore(await openDatabase(file)), file };
}

describe("index store lookups by glob", () => {
  it("counts and lists live sessions, todos and parts the same as the paths say", async () => {
    const { index } = await openIndex();
    index.save([
      entry("db/sessions/s1/session.json"),
      entry("db/sessions/s2/session.json"),
      entry("db/sessions/s3/session.json", true),
      entry("db/sessions/s1/todos.json"),
      entry("db/sessions/s1/messages/m1.json"),
      entry("db/sessions/s1/parts/m1/p1.json"),
      entry("db/sessions/s1/parts/m1/session.json"),
      entry("db/sessions/s1/parts/m2/p2.json", true),
      entry("config/session.json"),
    ]);
    expect(index.countLiveGlob("db/sessions/*/session.json")).toBe(2);
    expect(index.livePathsGlob("db/sessions/*/session.json").sort()).toEqual(["db/sessions/s1/session.json", "db/sessions/s2/session.json"]);
    expect(index.countLiveGlob("db/sessions/*/todos.json")).toBe(1);
    // Deeper than the leaf index reaches: the same answer by a scan.
    expect(index.livePathsGlob("db/sessions/*/parts/*/session.json")).toEqual(["db/sessions/s1/parts/m1/session.json"]);
    expect(index.countLiveGlob("db/sessions/*/parts/*")).toBe(2);
    expect(index.countLiveGlob("config/*")).toBe(1);
    // All entries, deleted ones too, with what they hold: the scan reads every session's this way.
    const sessions = index.entriesGlob("db/sessions/*/session.json");
    expect([...sessions.keys()].sort()).toEqual(["db/sessions/s1/session.json", "db/sessions/s2/session.json", "db/sessions/s3/session.json"]);
    expect(sessions.get("db/sessions/s3/session.json")).toEqual(entry("db/sessions/s3/session.json", true));
    expect([...index.entriesGlob("db/sessions/*/parts/*/session.json").keys()]).toEqual(["db/sessions/s1/parts/m1/session.json"]);
    index.close();
  });

  it("reads the sync state an earlier version wrote under its plain keys, and writes it back in the same form", async () => {
    const { index, file } = await openIndex();
    index.close();
    const db = await openDatabase(file);
    // What oc-sync before the typed state left in state.db.
    const rows: [string, string][] = [["base", "c1"], ["head", "c2"], ["lastSync", '{"at":5,"outcome":"pulled"}'], ["applied:database", "c1"], ["waiting:database", '["db/sessions/s1/messages/m1.json"]'], ["seen:s1", "10"], ["seen:s2", "20"], ["seem", "x"], ["seen;", "y"]];
    for (const [k, v] of rows) db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").run(k, v);
    const upgraded = new IndexStore(db);
    const state = upgraded.state;
    expect([state.base, state.head, state.lastSync, state.applied("database"), state.applied("config")]).toEqual(["c1", "c2", { at: 5, outcome: "pulled" }, "c1", null]);
    expect(state.waiting("database")).toEqual(["db/sessions/s1/messages/m1.json"]);
    expect(state.allSeen()).toEqual(new Map([["s1", 10], ["s2", 20]]));
    upgraded.update({ head: "c3", waiting: { database: [] }, seen: { s1: null, s3: 30 } });
    expect([state.head, state.waiting("database"), state.seen("s1"), state.seen("s3")]).toEqual(["c3", [], undefined, 30]);
    expect(db.prepare("SELECT key, value FROM meta WHERE key IN ('head', 'seen:s3', 'waiting:database') ORDER BY key").all()).toEqual([
      { key: "head", value: "c3" },
      { key: "seen:s3", value: "30" },
    ]);
    upgraded.close();
  });

  it("takes head to be base when no commit of this machine is pending", async () => {
    const { index } = await openIndex();
    expect([index.state.base, index.state.head, index.state.lastSync]).toEqual([null, null, null]);
    index.update({ base: "c1" });
    expect(index.state.head).toBe("c1");
    index.close();
  });

  it("replaces the leaf index an earlier version built over every path", async () => {
    const { index, file } = await openIndex();
    index.close();
    const db = await openDatabase(file);
    db.exec("DROP INDEX record_shallow_leaf; CREATE INDEX record_leaf ON record(substr(path, length(rtrim(path, replace(path, '/', ''))) + 1), deleted)");
    const reopened = new IndexStore(db);
    reopened.save([entry("db/sessions/s1/session.json")]);
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'record'").all().map((r) => r.name);
    expect(names).toContain("record_shallow_leaf");
    expect(names).not.toContain("record_leaf");
    expect(reopened.countLiveGlob("db/sessions/*/session.json")).toBe(1);
    reopened.close();
  });
});
