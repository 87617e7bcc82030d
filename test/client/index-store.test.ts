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

  it("gives the meta values under a key prefix, and only those", async () => {
    const { index } = await openIndex();
    index.setMeta({ "seen:s1": "10", "seen:s2": "20", seem: "x", "seen;": "y", base: "c" });
    expect(index.metaWithPrefix("seen:")).toEqual(new Map([["seen:s1", "10"], ["seen:s2", "20"]]));
    expect(index.metaWithPrefix("nothing:")).toEqual(new Map());
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
