// What the index remembers of each database row must be exactly what the next scan computes for
// it: otherwise a sync re-sends rows nobody changed (or, after an upgrade, every row).
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { beforeAll, describe, expect, it } from "vitest";
import { ocSyncPaths } from "../../client/platform/paths.js";
import { addMessage, addSession, openDb, type MadeSession, type TestHome } from "../support/opencode-home.js";
import { foreignRecord, plantOnMain } from "../support/hostile-repo.js";
import { sync, syncWorld, type SyncWorld } from "../support/sync-env.js";

let world: SyncWorld;
let A: TestHome;
let session: MadeSession;

beforeAll(async () => {
  world = await syncWorld();
  A = world.machine("laptop");
  const db = openDb(A);
  session = addSession(db, A, { messages: 3 });
  db.prepare("INSERT INTO permission (id, project_id, action, resource, time_created, time_updated) SELECT 'per_laptop1', id, 'allow', 'edit', 1, 2 FROM project").run();
  db.close();
  await sync(A);
});

function state(h: TestHome): DatabaseSync {
  return new DatabaseSync(ocSyncPaths(h.env).stateDb);
}

/** What the index holds as each database record's local state. */
function localHashes(h: TestHome): Record<string, string | null> {
  const db = state(h);
  const out = Object.fromEntries((db.prepare("SELECT path, local_hash FROM record WHERE path GLOB 'db/*' ORDER BY path").all() as { path: string; local_hash: string | null }[]).map((r) => [r.path, r.local_hash]));
  db.close();
  return out;
}

/** Makes the next scan read every row again, as it does when it cannot trust its time window. */
function forgetScanWindows(h: TestHome): void {
  const db = state(h);
  db.prepare("DELETE FROM meta WHERE key LIKE 'seen:%'").run();
  db.close();
}

/**
 * A scan of every row finds them as the index remembers them: no record to send, and no entry the
 * scan had to refresh (what it does when a row's fingerprint differs but its record does not).
 */
async function expectRescanFindsNothing(h: TestHome): Promise<void> {
  const before = localHashes(h);
  forgetScanWindows(h);
  expect((await sync(h)).committed).toBe(0);
  expect(localHashes(h)).toEqual(before);
}

const ids = (h: TestHome, table: string) => {
  const db = openDb(h);
  const out = (db.prepare(`SELECT id FROM ${table}`).all() as { id: string }[]).map((r) => r.id);
  db.close();
  return out;
};

describe("row fingerprints", () => {
  it("a machine's own rows, rows it inserted in a first pull and rows it updated from another machine all scan as unchanged", async () => {
    await expectRescanFindsNothing(A);

    const C = world.machine("tablet");
    const pulled = await sync(C);
    expect(pulled.applied).toBeGreaterThan(10);
    await expectRescanFindsNothing(C);

    // A continues the session and edits a part C already has: C updates rows it holds.
    const db = openDb(A);
    addMessage(db, A, session, "more on the laptop");
    db.prepare("UPDATE part SET data = json_set(data, '$.text', 'edited on the laptop'), time_updated = ? WHERE id = ?").run(Date.now(), session.parts[0]!);
    db.close();
    await sync(A);
    const r = await sync(C);
    expect(r.applied).toBeGreaterThanOrEqual(4);
    await expectRescanFindsNothing(C);
    expect(ids(C, "part").sort()).toEqual(ids(A, "part").sort());
  });

  it("a value SQLite converts on the way in (numeric text in an integer column, a number in a text column) is remembered as stored", async () => {
    const id = "prt_converted1";
    const messageId = session.messages[0]!;
    const record = { data: 42, id, message_id: messageId, session_id: session.id, time_created: "1700000000000", time_updated: 1700000000001 };
    await plantOnMain(world.remoteDir, [foreignRecord(`db/sessions/${session.id}/parts/${messageId}/${id}.json`, JSON.stringify(record, null, 1) + "\n", "json")]);
    await sync(A);
    const db = openDb(A);
    const row = db.prepare("SELECT data, time_created, typeof(data) AS d, typeof(time_created) AS t FROM part WHERE id = ?").get(id);
    db.close();
    // The number arrives as text: "42.0" from node:sqlite, which binds every number as a double.
    expect(row).toEqual({ data: expect.stringMatching(/^42(\.0)?$/), time_created: 1700000000000, d: "text", t: "integer" });
    await expectRescanFindsNothing(A);
  });

  it("index entries saved by an older oc-sync (the hash of a row's JSON form) are still recognised: records from other machines apply over them, and each is refreshed when the scan next reads its row", async () => {
    const B = world.machine("old-desktop");
    await sync(B);
    const old = rewriteAsJsonHashes(B);
    expect(old.size).toBeGreaterThan(10);

    // An edit from another machine to a row whose entry holds the old hash: applied in one sync,
    // not held back as if it had been edited here.
    const db = openDb(A);
    db.prepare("UPDATE part SET data = json_set(data, '$.state.output', 'edited after the upgrade'), time_updated = ? WHERE id = ?").run(Date.now(), session.parts[1]!);
    db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(Date.now(), session.id);
    db.close();
    await sync(A);
    expect((await sync(B)).committed).toBe(0);
    const bdb = openDb(B);
    const part = bdb.prepare("SELECT json_extract(data, '$.state.output') AS output FROM part WHERE id = ?").get(session.parts[1]!);
    bdb.close();
    expect(part).toEqual({ output: "edited after the upgrade" });
    // The upgrade alone does not make the scan read the session's messages again.
    const message = `db/sessions/${session.id}/messages/${session.messages[0]}.json`;
    expect(localHashes(B)[message]).toBe(old.get(message));

    // A scan that reads every row replaces each old hash (the same record: nothing sent).
    forgetScanWindows(B);
    expect((await sync(B)).committed).toBe(0);
    const now = localHashes(B);
    expect([...old.keys()].filter((p) => now[p] === old.get(p))).toEqual([]);
    await expectRescanFindsNothing(B);
  });
});

/**
 * What oc-sync wrote to the index before rows had fingerprints: SHA-256 of the row as canonical
 * JSON (columns sorted, `data` parsed, one-space indent; a project without its machine-local columns).
 */
function rewriteAsJsonHashes(h: TestHome): Map<string, string> {
  const index = state(h);
  const db = openDb(h);
  const tables: Record<string, string> = { project: "projects", permission: "permissions" };
  const written = new Map<string, string>();
  for (const { path } of index.prepare("SELECT path FROM record WHERE path GLOB 'db/*' AND path NOT GLOB '*/todos.json' AND local_hash IS NOT NULL").all() as { path: string }[]) {
    const id = path.split("/").pop()!.replace(/\.json$/, "");
    const [, folder, sessionId, kind] = path.split("/");
    const table = folder === "sessions" ? (kind === "session.json" ? "session" : kind === "messages" ? "message" : "part") : Object.keys(tables).find((t) => tables[t] === folder)!;
    const row = db.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(table === "session" ? sessionId! : id) as Record<string, unknown>;
    const json: Record<string, unknown> = {};
    for (const key of Object.keys(row).sort()) {
      if (table === "project" && ["worktree", "sandboxes", "time_created", "time_updated", "time_initialized"].includes(key)) continue;
      json[key] = key === "data" && String(row[key]).startsWith("{") ? JSON.parse(String(row[key])) : row[key];
    }
    const hash = createHash("sha256").update(JSON.stringify(json, null, 1)).digest("hex");
    index.prepare("UPDATE record SET local_hash = ? WHERE path = ?").run(hash, path);
    written.set(path, hash);
  }
  db.close();
  index.close();
  return written;
}
