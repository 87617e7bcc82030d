// The user keeps working while a sync runs: an edit that lands after the sync scanned but before it
// applies what other machines sent must not be overwritten. The push is held by the server to open
// that window deterministically; the edit is kept, and the next sync merges it with the other side.
import { readFileSync, watch, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { addMessage, addSession, openDb, type TestHome } from "../support/opencode-home.js";
import { sync, syncWithEditDuringPush, syncWorld } from "../support/sync-env.js";
import type { SyncReport } from "../../client/sync/cycle.js";

/**
 * Runs a sync of `h` and calls `meanwhile` once, the moment oc-sync creates its temp file for
 * `file` (it then writes and fsyncs it before renaming it over the file): the narrowest window.
 */
async function syncWithEditWhileWriting(h: TestHome, file: string, meanwhile: () => void): Promise<{ report: SyncReport; edited: boolean }> {
  let edited = false;
  const watcher = watch(dirname(file), (_, name) => {
    if (edited || !name?.startsWith(`.${basename(file)}.oc-sync-`)) return;
    edited = true;
    meanwhile();
  });
  try {
    return { report: await sync(h), edited };
  } finally {
    watcher.close();
  }
}

describe("edits made while a sync runs", () => {
  it("a config file edited during the sync keeps the edit, and the next sync merges both sides", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const B = w.machine("b");
    const file = (h: TestHome) => join(h.config, "opencode.jsonc");
    writeFileSync(file(A), '{\n  // shared\n  "theme": "dark",\n  "model": "x/1"\n}\n');
    await sync(A);
    await sync(B);
    writeFileSync(file(B), readFileSync(file(B), "utf8").replace('"dark"', '"light"'));
    await sync(B);
    writeFileSync(join(A.config, "AGENTS.md"), "something to push\n");
    await syncWithEditDuringPush(w, A, () => writeFileSync(file(A), readFileSync(file(A), "utf8").replace('"x/1"', '"x/2"')));
    expect(readFileSync(file(A), "utf8")).toContain('"model": "x/2"');
    const next = await sync(A);
    expect(next.conflicts).toEqual([]);
    await sync(B);
    for (const h of [A, B]) expect(readFileSync(file(h), "utf8")).toBe('{\n  // shared\n  "theme": "light",\n  "model": "x/2"\n}\n');
  });

  it("auth.json edited during the sync keeps the new entry and gets the other machine's", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const B = w.machine("b");
    const auth = (h: TestHome) => join(h.data, "auth.json");
    writeFileSync(auth(A), JSON.stringify({ openai: { key: "sk-a" } }));
    await sync(A);
    await sync(B);
    writeFileSync(auth(B), JSON.stringify({ openai: { key: "sk-a" }, anthropic: { key: "sk-b" } }));
    await sync(B);
    writeFileSync(join(A.config, "AGENTS.md"), "something to push\n");
    await syncWithEditDuringPush(w, A, () => writeFileSync(auth(A), JSON.stringify({ openai: { key: "sk-a" }, mistral: { key: "sk-a2" } })));
    expect(JSON.parse(readFileSync(auth(A), "utf8"))).toEqual({ openai: { key: "sk-a" }, mistral: { key: "sk-a2" } });
    await sync(A);
    await sync(B);
    const want = { anthropic: { key: "sk-b" }, mistral: { key: "sk-a2" }, openai: { key: "sk-a" } };
    for (const h of [A, B]) expect(JSON.parse(readFileSync(auth(h), "utf8"))).toEqual(want);
  });

  it("a session renamed during the sync keeps the new title and gets the other machine's new message", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const B = w.machine("b");
    const dbA = openDb(A);
    const s = addSession(dbA, A, { messages: 1, title: "first title" });
    dbA.close();
    await sync(A);
    await sync(B);
    const dbB = openDb(B);
    const fromB = addMessage(dbB, B, { id: s.id, messages: [], parts: [] }, "added on B");
    dbB.close();
    await sync(B);
    writeFileSync(join(A.config, "AGENTS.md"), "something to push\n");
    await syncWithEditDuringPush(w, A, () => {
      const db = openDb(A);
      db.prepare("UPDATE session SET title = 'renamed on A', time_updated = ? WHERE id = ?").run(Date.now() + 5, s.id);
      db.close();
    });
    await sync(A);
    await sync(B);
    for (const h of [A, B]) {
      const db = openDb(h);
      expect(db.prepare("SELECT title FROM session WHERE id = ?").get(s.id)).toEqual({ title: "renamed on A" });
      expect(db.prepare("SELECT count(*) AS n FROM message WHERE id = ?").get(fromB)).toEqual({ n: 1 });
      db.close();
    }
  });

  it("a session imported here during the sync, which another machine also sent, keeps the imported row", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const B = w.machine("b");
    const dbB = openDb(B);
    const s = addSession(dbB, B, { messages: 0, title: "from B" });
    const row = dbB.prepare("SELECT * FROM session WHERE id = ?").get(s.id)!;
    dbB.close();
    await sync(B);
    writeFileSync(join(A.config, "AGENTS.md"), "something to push\n");
    // e.g. `opencode import` of B's export: the same id, this machine's own version of the row.
    const report = await syncWithEditDuringPush(w, A, () => {
      const db = openDb(A);
      const imported = { ...row, title: "imported on A", time_updated: Date.now() + 5 };
      const names = Object.keys(imported);
      db.prepare(`INSERT INTO session (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(...(Object.values(imported) as string[]));
      db.close();
    });
    const title = (h: TestHome) => {
      const db = openDb(h);
      const t = db.prepare("SELECT title FROM session WHERE id = ?").get(s.id);
      db.close();
      return t;
    };
    expect(title(A)).toEqual({ title: "imported on A" });
    expect(report.problems).toEqual([]);
    await sync(A);
    await sync(B);
    expect(title(A)).toEqual({ title: "imported on A" });
    expect(title(B)).toEqual({ title: "imported on A" });
  });

  it("auth.json and a config file edited while oc-sync writes them keep the edit (it was checked before writing, then overwritten)", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const B = w.machine("b");
    const auth = (h: TestHome) => join(h.data, "auth.json");
    const agents = (h: TestHome) => join(h.config, "AGENTS.md");
    writeFileSync(auth(A), JSON.stringify({ openai: { key: "sk-a" } }));
    writeFileSync(agents(A), "first\n");
    await sync(A);
    await sync(B);
    writeFileSync(auth(B), JSON.stringify({ openai: { key: "sk-b" } }));
    writeFileSync(agents(B), "from b\n");
    await sync(B);

    const credential = await syncWithEditWhileWriting(A, auth(A), () => writeFileSync(auth(A), JSON.stringify({ openai: { key: "sk-a" }, mistral: { key: "sk-a2" } })));
    expect(credential.edited).toBe(true);
    expect(JSON.parse(readFileSync(auth(A), "utf8"))).toEqual({ openai: { key: "sk-a" }, mistral: { key: "sk-a2" } });
    expect(credential.report.problems).toEqual([]);

    writeFileSync(agents(B), "from b, again\n");
    await sync(B);
    const config = await syncWithEditWhileWriting(A, agents(A), () => writeFileSync(agents(A), "edited on a\n"));
    expect(config.edited).toBe(true);
    expect(readFileSync(agents(A), "utf8")).toBe("edited on a\n");

    // The edits travel, and nothing the other machine wrote is lost: the credential merges by entry.
    await sync(A);
    await sync(B);
    await sync(A);
    for (const h of [A, B]) expect(JSON.parse(readFileSync(auth(h), "utf8"))).toEqual({ mistral: { key: "sk-a2" }, openai: { key: "sk-b" } });
    expect(readFileSync(agents(B), "utf8")).toBe(readFileSync(agents(A), "utf8"));
  });
});
