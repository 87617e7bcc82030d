// The edges a user's ordinary bad luck brings (DESIGN.md §7), each checked as the user would: a
// value is gone only when a user replaced or deleted it knowingly on some machine. Real git against
// a loopback server, real SQLite, real files; every case has its own remote.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Conflict } from "../../core/conflict.js";
import { ocSyncPaths } from "../../client/platform/paths.js";
import { loadContext } from "../../client/sync/context.js";
import { runSync } from "../../client/sync/cycle.js";
import { runGit } from "../../git/run.js";
import { runCli, type CliResult } from "../support/cli.js";
import { installPushLimits } from "../support/github/push-limits.js";
import { foreignRecord, plantOnMain } from "../support/hostile-repo.js";
import { addMessage, addSession, makeUsedHome, openDb, type MadeSession, type TestHome } from "../support/opencode-home.js";
import { PASSPHRASE, sync, syncWithEditDuringPush, syncWorld, type SyncWorld } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

const problems = (r: { problems: readonly string[] }) => r.problems.join("\n");
const config = (h: TestHome) => join(h.config, "opencode.json");
const readConfig = (h: TestHome) => JSON.parse(readFileSync(config(h), "utf8")) as Record<string, unknown>;
const rows = (h: TestHome, sql: string, ...p: string[]) => {
  const db = openDb(h);
  try {
    return db.prepare(sql).all(...p) as Record<string, unknown>[];
  } finally {
    db.close();
  }
};
const remoteText = async (w: SyncWorld, path: string) => (await runGit(["--git-dir", w.remoteDir, "cat-file", "-p", `main:${path}`], { okCodes: [128] })).stdout.toString();
/** A copy of a home on a second machine, id and all, as `cp -a` would make it. */
const copiedHome = (w: SyncWorld, h: TestHome, name: string): TestHome => {
  const copy = join(w.root, name);
  cpSync(h.home, copy, { recursive: true });
  const rebase = (p: string) => p.replace(h.home, copy);
  return { ...h, home: copy, config: rebase(h.config), state: rebase(h.state), data: rebase(h.data), db: rebase(h.db), repo: rebase(h.repo), env: { ...h.env, HOME: copy } };
};
/** Main's config and every conflict copy on main, as one text: what the repo keeps of the config. */
const keptConfig = async (w: SyncWorld) => {
  const conflicts = (await runGit(["--git-dir", w.remoteDir, "ls-tree", "-r", "--name-only", "main", "conflicts/"])).stdout.toString();
  return [await remoteText(w, "config/opencode.json"), ...(await Promise.all(conflicts.split("\n").filter(Boolean).map((p) => remoteText(w, p))))].join("\n");
};
/** A copy stopped for its shared id does what the message says: takes an id of its own, and syncs. */
const takeOwnId = async (h: TestHome, id: string) => {
  const own = { ...h.env, OC_SYNC_MACHINE: undefined };
  const renamed = await runCli(own, ["init", "--machine", id]);
  expect(renamed.code, renamed.stderr).toBe(0);
  const after = await runCli(own, ["sync"]);
  expect(after.code, after.stderr).toBe(0);
};
/** oc-sync's state.db deleted (the user's data stays). */
const loseState = (h: TestHome) => {
  for (const f of ["state.db", "state.db-wal", "state.db-shm"]) rmSync(join(ocSyncPaths(h.env).data, f), { force: true });
};
/**
 * Two machines in Action mode, A's last sync waiting for the Action (its edit of the theme conflicts
 * with B's); `meanwhile` runs before that sync, with A's edit made.
 */
const aWaitingForAction = async (w: SyncWorld, name: string, meanwhile: (A: TestHome) => void = () => {}) => {
  const actionMode = (h: TestHome): TestHome => ({ ...h, env: { ...h.env, OC_SYNC_MERGE: "action" } });
  const A = actionMode(w.machine(`${name}-a`));
  const B = actionMode(w.machine(`${name}-b`));
  writeFileSync(config(A), '{ "theme": "first" }\n');
  await sync(A);
  await sync(B);
  writeFileSync(config(B), '{ "theme": "from b" }\n');
  await sync(B);
  writeFileSync(config(A), '{ "theme": "from a" }\n');
  meanwhile(A);
  expect((await sync(A)).outcome).toBe("waiting-for-action");
  return { A, B };
};
/** The same machine (same folders, same id) pointed at another remote, as `init REMOTE` or the settings would. */
const pointedAt = (h: TestHome, w: SyncWorld): TestHome => ({ ...h, env: { ...h.env, OC_SYNC_REMOTE: w.url } });

describe("switching remote", () => {
  it("uploads everything this machine has to the new remote and merges it with what is there", async () => {
    const [old, fresh] = [await syncWorld(), await syncWorld()];
    const A = old.machine("switch-a");
    writeFileSync(config(A), '{ "theme": "dark" }\n');
    const db = openDb(A);
    const s = addSession(db, A, { messages: 7 });
    db.close();
    await sync(A);
    const B = fresh.machine("switch-b");
    writeFileSync(config(B), '{ "model": "fakellm/fake-model" }\n');
    await sync(B);

    const moved = pointedAt(A, fresh);
    const r = await sync(moved);
    expect(r.committed).toBeGreaterThanOrEqual(1 + 7 * 3);
    await sync(B);
    expect(rows(B, "SELECT count(*) AS n FROM message WHERE session_id = ?", s.id)).toEqual([{ n: 7 }]);
    expect(readConfig(B)).toEqual({ model: "fakellm/fake-model", theme: "dark" });
    await sync(moved);
    expect(readConfig(A)).toEqual({ model: "fakellm/fake-model", theme: "dark" });
    // The switch is done once: the next sync has nothing to upload.
    expect((await sync(moved)).committed).toBe(0);
  });
});

describe("a backup restored, then a detour to another remote before any sync", () => {
  // History seed 2791: the restored machine's edit on the other remote came back with a counter past
  // the one of its edit made after the backup (which it no longer had), and replaced it on main silently.
  it("back on the first remote, it is asked to take a new id, and the edit it made after the backup is kept", async () => {
    const [first, other] = [await syncWorld(), await syncWorld()];
    const A = first.machine("detour-restored");
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    const backup = join(first.root, "detour-restored-backup");
    cpSync(A.home, backup, { recursive: true });
    writeFileSync(config(A), '{ "theme": "after the backup" }\n');
    await sync(A);
    rmSync(A.home, { recursive: true });
    cpSync(backup, A.home, { recursive: true });
    const away = pointedAt(A, other);
    await sync(away);
    writeFileSync(config(A), '{ "theme": "first", "model": "fakellm/on-the-detour" }\n');
    await sync(away);

    const back = await runCli(A.env, ["sync"]);
    expect(back.code).toBe(3);
    expect(back.stderr).toMatch(/another machine syncs as 'detour-restored'/);
    await takeOwnId(A, "detour-restored-2");
    // Its edit on the detour merges with the one it made after the backup: each changed another key.
    const merged = { theme: "after the backup", model: "fakellm/on-the-detour" };
    expect(readConfig(A)).toEqual(merged);
    const B = first.machine("detour-restored-b");
    await sync(B);
    expect(readConfig(B)).toEqual(merged);
  });

  it("a plain detour and back syncs on under its id", async () => {
    const [first, other] = [await syncWorld(), await syncWorld()];
    const A = first.machine("detour-plain");
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    await sync(pointedAt(A, other));
    writeFileSync(config(A), '{ "theme": "from the detour" }\n');
    await sync(pointedAt(A, other));
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    expect(await remoteText(first, "config/opencode.json")).toContain("from the detour");
    // Once back, what it remembered of leaving is history: main rewritten later, --repush puts everything back under its id.
    writeFileSync(config(A), '{ "theme": "after the return" }\n');
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    const root = (await runGit(["--git-dir", first.remoteDir, "rev-list", "--max-parents=0", "main"])).stdout.toString().trim();
    await runGit(["--git-dir", first.remoteDir, "update-ref", "refs/heads/main", root]);
    const repushed = await runCli(A.env, ["sync", "--repush"]);
    expect(repushed.code, repushed.stderr).toBe(0);
    expect(await remoteText(first, "config/opencode.json")).toContain("after the return");
  });
});

describe("oc-sync's own state lost", () => {
  it("an edit after state.db was deleted wins over main's older value, and nothing else is lost", async () => {
    const w = await syncWorld();
    const A = w.machine("lost-a");
    const B = w.machine("lost-b");
    for (const theme of ["one", "two", "three", "four", "five"]) {
      writeFileSync(config(A), JSON.stringify({ theme }) + "\n");
      await sync(A);
    }
    await sync(B);
    writeFileSync(join(B.config, "AGENTS.md"), "from b\n");
    await sync(B);
    loseState(A);
    writeFileSync(config(A), JSON.stringify({ theme: "six, after the state was lost" }) + "\n");
    await sync(A);
    await sync(B);
    expect(readConfig(B)).toEqual({ theme: "six, after the state was lost" });
    expect(readConfig(A)).toEqual({ theme: "six, after the state was lost" });
    expect(readFileSync(join(A.config, "AGENTS.md"), "utf8")).toBe("from b\n");
  });
});

describe("oc-sync's own state lost, and the config changed elsewhere since", () => {
  // History seed 2604: the copy here, unchanged since this machine applied it from another, was offered
  // as a version of its own, concurrent with main's newer one (no version both descend from, as this
  // machine's vector went no further than its own counter); its file written more recently, its older
  // value of the key won.
  it("the copy here is a version main had: the change made elsewhere applies, and no older value comes back", async () => {
    const w = await syncWorld();
    const A = w.machine("lost-behind-a");
    const B = w.machine("lost-behind-b");
    writeFileSync(config(B), '{ "theme": "one" }\n');
    await sync(B);
    await sync(A);
    expect(readConfig(A)).toEqual({ theme: "one" });
    writeFileSync(config(B), '{ "theme": "two" }\n');
    await sync(B);
    // Written here after b's edit (as an apply of something else would), without a change of its own.
    const later = new Date(Date.now() + 60_000);
    utimesSync(config(A), later, later);
    loseState(A);
    await sync(A);
    await sync(B);
    expect(readConfig(A)).toEqual({ theme: "two" });
    expect(readConfig(B)).toEqual({ theme: "two" });
  });
});

describe("oc-sync's own state lost, and a session deleted elsewhere", () => {
  /** A with two sessions, synced to B. */
  const twoSessions = async (name: string, messages = 2) => {
    const w = await syncWorld();
    const A = w.machine(`${name}-a`);
    const B = w.machine(`${name}-b`);
    const db = openDb(A);
    const [gone, kept] = [addSession(db, A, { messages }), addSession(db, A, { messages: 1 })];
    db.close();
    await sync(A);
    await sync(B);
    return { A, B, gone, kept };
  };
  const deleteSession = (h: TestHome, id: string) => {
    const db = openDb(h);
    db.prepare("DELETE FROM session WHERE id = ?").run(id);
    db.close();
  };

  it("meanwhile: the copy still here is the version that was deleted: the deletion applies, the session does not come back", async () => {
    const { A, B, gone, kept } = await twoSessions("lost-del");
    deleteSession(B, gone.id);
    await sync(B);
    loseState(A);
    const r = await sync(A);
    expect(r.conflicts).toEqual([]);
    await sync(B);
    for (const h of [A, B]) expect(rows(h, "SELECT id FROM session ORDER BY id").map((x) => x.id)).toEqual([kept.id]);
    expect(rows(A, "SELECT count(*) AS n FROM message WHERE session_id = ?", gone.id)).toEqual([{ n: 0 }]);
  });

  // History seeds 1480, 1590: the first sync after the state was lost offered every unchanged row as a
  // new version, so another machine's delete, made without seeing those, was concurrent with "edits"
  // nobody made, and the session came back.
  // 200 messages: more rows than oc-sync looks up in main one by one before it lists main once.
  it.each([2, 200])("just after its next sync: the rows unchanged since main's version stay that version, and the delete applies everywhere (%i messages)", async (messages) => {
    const { A, B, gone, kept } = await twoSessions(`lost-then-del-${messages}`, messages);
    loseState(A);
    expect((await sync(A)).committed).toBe(0);
    deleteSession(B, gone.id);
    await sync(B);
    expect((await sync(A)).conflicts).toEqual([]);
    await sync(B);
    for (const h of [A, B]) expect(rows(h, "SELECT id FROM session ORDER BY id").map((x) => x.id)).toEqual([kept.id]);
    for (const h of [A, B]) expect(rows(h, "SELECT count(*) AS n FROM message WHERE session_id = ?", gone.id)).toEqual([{ n: 0 }]);
  });
});

// History seeds 453, 1132, 1804, 1903: decided row by row, the touched session row came back empty on
// every machine, and the compacted part sat in the repo with no message to belong to.
describe("a session deleted on one machine while another changes it", () => {
  const started = async (name: string) => {
    const w = await syncWorld();
    const A = w.machine(`${name}-a`);
    const B = w.machine(`${name}-b`);
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    db.close();
    await sync(A);
    await sync(B);
    const del = openDb(B);
    del.prepare("DELETE FROM session WHERE id = ?").run(s.id);
    del.close();
    await sync(B);
    return { w, A, B, s };
  };
  const settle = async (...hs: TestHome[]) => {
    for (const h of [...hs, ...hs]) expect((await sync(h)).problems).toEqual([]);
  };

  it("a part compacted meanwhile: the session stays deleted everywhere, the compacted output is kept as a conflict", async () => {
    const { w, A, B, s } = await started("del-compact");
    const db = openDb(A);
    const now = Date.now();
    db.prepare("UPDATE part SET data = json_set(data, '$.text', 'compacted output'), time_updated = ? WHERE id = ?").run(now, s.parts[1]!);
    db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(now, s.id);
    db.close();
    await settle(A, B);
    for (const h of [A, B]) {
      expect(rows(h, "SELECT id FROM session")).toEqual([]);
      expect(rows(h, "SELECT count(*) AS n FROM part")).toEqual([{ n: 0 }]);
    }
    const conflicts = (await runGit(["--git-dir", w.remoteDir, "ls-tree", "-r", "--name-only", "main", "conflicts/"])).stdout.toString().split("\n").filter(Boolean);
    const kept = (await Promise.all(conflicts.map((p) => remoteText(w, p)))).map((c) => JSON.parse(c.slice(c.indexOf("\n") + 1)) as Conflict);
    const compacted = kept.filter((c) => c.path.endsWith(`${s.parts[1]}.json`));
    expect(compacted.map((c) => [c.kept.value, c.lost.value?.includes("compacted output")])).toEqual([[null, true]]);
    // Choosing it back while its session is gone is refused, and the conflict (its only copy) stays.
    const back = await runCli(A.env, ["resolve", compacted[0]!.id, "--keep", compacted[0]!.lost.writer]);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(new RegExp(`cannot be put back.*oc-sync restore ${s.id} --at`));
    await sync(A);
    expect((await runGit(["--git-dir", w.remoteDir, "ls-tree", "-r", "--name-only", "main", "conflicts/"])).stdout.toString()).toContain(compacted[0]!.id);
    // Nothing is left on main waiting for a message that is gone.
    const partRecord = await remoteText(w, `db/sessions/${s.id}/parts/${s.messages[0]}/${s.parts[1]}.json`);
    expect(JSON.parse(partRecord.split("\n")[0]!)).toMatchObject({ deleted: true });
  });

  it("a message added meanwhile: the session comes back everywhere with that message, not the ones the delete saw", async () => {
    const { A, B, s } = await started("del-message");
    const db = openDb(A);
    const added = { id: s.id, messages: [] as string[], parts: [] as string[] };
    addMessage(db, A, added, "one more");
    db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(Date.now(), s.id);
    db.close();
    await settle(A, B);
    for (const h of [A, B]) {
      expect(rows(h, "SELECT id FROM session")).toEqual([{ id: s.id }]);
      expect(rows(h, "SELECT id FROM message ORDER BY id").map((m) => m.id)).toEqual(added.messages);
      expect(rows(h, "SELECT id FROM part ORDER BY id").map((p) => p.id)).toEqual([...added.parts].sort());
    }
  });
});

describe("a config file damaged on disk", () => {
  it.each([
    ["filled with NUL bytes (a power loss)", Buffer.alloc(64, 0), /holds NUL bytes/],
    ["empty", Buffer.alloc(0), /is empty/],
    ["with a byte that is not UTF-8", Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]), /is not valid UTF-8/],
  ])("%s is not uploaded: the last good version stays everywhere", async (_what, bytes, message) => {
    const w = await syncWorld();
    const A = w.machine("damaged-a");
    writeFileSync(config(A), '{ "theme": "good" }\n');
    await sync(A);
    const B = w.machine("damaged-b");
    await sync(B);
    writeFileSync(config(A), bytes);
    const r = await sync(A);
    expect(problems(r)).toMatch(message);
    expect(problems(r)).toMatch(/opencode\.json/);
    expect(await remoteText(w, "config/opencode.json")).toContain('"theme": "good"');
    await sync(B);
    expect(readConfig(B)).toEqual({ theme: "good" });
  });

  it("a repo record that claims to be plain text is still checked as the JSON its path says", async () => {
    const w = await syncWorld();
    const B = w.machine("claims-b");
    writeFileSync(config(B), '{ "theme": "good" }\n');
    await sync(B);
    await plantOnMain(w.remoteDir, [foreignRecord("config/opencode.json", "not { json", "text")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/config\/opencode\.json in the sync repo is not valid JSON/);
    expect(readConfig(B)).toEqual({ theme: "good" });
  });
});

describe("one poison record", () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

  it("a record nested 20,000 deep is named and skipped; the honest records around it apply, and the CLI says it needs attention", async () => {
    const w = await syncWorld();
    const A = w.machine("poison-a");
    const db = openDb(A);
    const first = addSession(db, A, { messages: 1 });
    db.close();
    await sync(A);
    const poison = `db/sessions/${first.id}/messages/msg_deep.json`;
    await plantOnMain(w.remoteDir, [foreignRecord(poison, `{"id":"msg_deep","session_id":"${first.id}","time_created":1,"time_updated":1,"data":${deep(20_000)}}\n`, "json")]);
    const again = openDb(A);
    const honest = addSession(again, A, { messages: 2 });
    again.close();
    await sync(A);
    const B = w.machine("poison-b");
    const r = await runCli(B.env, ["sync"]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/msg_deep\.json: it is nested deeper than 512 levels; it is skipped and the rest applies/);
    expect(rows(B, "SELECT id FROM session ORDER BY id").map((x) => x.id)).toEqual([first.id, honest.id].sort());
    expect(rows(B, "SELECT count(*) AS n FROM message")).toEqual([{ n: 3 }]);
  });

  // History seed 1584 (Action mode): the poison made the config apply incomplete, which forgot that
  // opencode.jsonc had been edited here meanwhile; the sync moved its base past main's version, and the
  // next commit laid the edit over it (the other machine's key lost, the machines split for good).
  it("a poison config record beside a config file edited during the sync: the edit still merges with the other machine's", async () => {
    const w = await syncWorld();
    const A = w.machine("poison-edit-a");
    const B = w.machine("poison-edit-b");
    const file = (h: TestHome) => join(h.config, "opencode.jsonc");
    writeFileSync(file(A), '{\n  "theme": "dark",\n  "model": "x/1"\n}\n');
    await sync(A);
    await sync(B);
    await plantOnMain(w.remoteDir, [foreignRecord("config/agent/deep.json", `{"a":${deep(5000)}}\n`, "jsonc")]);
    writeFileSync(file(B), readFileSync(file(B), "utf8").replace('"dark"', '"light"'));
    await sync(B);
    writeFileSync(join(A.config, "AGENTS.md"), "something to push\n");
    const r = await syncWithEditDuringPush(w, A, () => writeFileSync(file(A), readFileSync(file(A), "utf8").replace('"x/1"', '"x/2"')));
    expect(problems(r)).toContain("config/agent/deep.json");
    await sync(A);
    await sync(B);
    for (const h of [A, B]) expect(readFileSync(file(h), "utf8")).toBe('{\n  "theme": "light",\n  "model": "x/2"\n}\n');
  });

  // History seed 5547: with the config apply kept incomplete by a poison record, an edit here is merged
  // with the parent's version from the version the index knows; after main was reset past this
  // machine's commits, that version was in no history searched, the merge had no base, and the
  // other machine's later-written copy of the older value won by time.
  it("a poison config record, main reset past this machine's commit, then an edit here: the edit is not lost to the older value", async () => {
    const w = await syncWorld();
    const A = w.machine("poison-reset-a");
    const B = w.machine("poison-reset-b");
    const file = (h: TestHome) => join(h.config, "opencode.jsonc");
    const set = (h: TestHome, from: string, to: string) => writeFileSync(file(h), readFileSync(file(h), "utf8").replace(from, to));
    writeFileSync(file(A), '{\n  "theme": "dark",\n  "model": "x/1"\n}\n');
    await sync(A);
    await sync(B);
    const before = await plantOnMain(w.remoteDir, [foreignRecord("config/agent/deep.json", `{"a":${deep(5000)}}\n`, "jsonc")]);
    await sync(B);
    set(A, '"x/1"', '"x/2"');
    await sync(A);
    await sync(B);
    await runGit(["--git-dir", w.remoteDir, "update-ref", "refs/heads/main", before]);
    set(A, '"x/2"', '"x/3"');
    set(B, '"dark"', '"light"');
    const b = await runCli(B.env, ["sync", "--repush"]);
    expect([0, 3], b.stderr).toContain(b.code);
    await sync(A);
    await sync(B);
    for (const h of [A, B]) expect(readFileSync(file(h), "utf8")).toBe('{\n  "theme": "light",\n  "model": "x/3"\n}\n');
  });

  it("a record whose content names another row is refused; that other row is untouched", async () => {
    const w = await syncWorld();
    const A = w.machine("identity-a");
    const db = openDb(A);
    const s = addSession(db, A, { messages: 1 });
    db.close();
    await sync(A);
    const B = w.machine("identity-b");
    await sync(B);
    const [message] = s.messages;
    const [, victim] = s.parts;
    const before = rows(B, "SELECT data FROM part WHERE id = ?", victim!);
    const forged = `{"id":"${victim}","message_id":"${message}","session_id":"${s.id}","time_created":1,"time_updated":1,"data":{"type":"text","text":"overwritten"}}\n`;
    await plantOnMain(w.remoteDir, [foreignRecord(`db/sessions/${s.id}/parts/${message}/prt_other.json`, forged, "json")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(new RegExp(`prt_other\\.json: its content says id "${victim}", its path says prt_other`));
    expect(rows(B, "SELECT data FROM part WHERE id = ?", victim!)).toEqual(before);
  });

  it("oc-sync merge finishes when two machines changed a record nested too deep to merge structurally", async () => {
    const w = await syncWorld();
    const A = w.machine("deep-a", false);
    const B = w.machine("deep-b", false);
    writeFileSync(join(A.config, "tui.json"), '{"a":1}\n');
    await sync(A);
    await sync(B);
    writeFileSync(join(A.config, "tui.json"), `{"a":${deep(600)}}\n`);
    writeFileSync(join(B.config, "tui.json"), `{"b":${deep(600)}}\n`);
    // Nested deeper than a config file may be: neither is uploaded, and neither machine loses its file.
    expect(problems(await sync(A))).toMatch(/tui\.json: it is nested deeper than 512 levels/);
    const merged = await runCli(B.env, ["merge"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(readFileSync(join(B.config, "tui.json"), "utf8")).toBe(`{"b":${deep(600)}}\n`);
  });
});

describe("a session deleted while another machine only touched it, a poison record in it", () => {
  // History seed 2382: the poison kept the sessions' apply incomplete, so the next commit merged each of
  // its changes with main's version alone, and the session row's delete lost to a change of its time
  // only: the session came back without the messages its delete had seen.
  const touchedThenDeleted = async (name: string, change: (A: TestHome, session: MadeSession) => void) => {
    const w = await syncWorld();
    const A = w.machine(`${name}-a`);
    const B = w.machine(`${name}-b`);
    const db = openDb(A);
    const [gone, other] = [addSession(db, A, { messages: 2 }), addSession(db, A, { messages: 1 })];
    db.close();
    await sync(A);
    await sync(B);
    const deep = "[".repeat(5000) + "]".repeat(5000);
    // In the very session deleted: no machine ever had that message, and it must not count as one the delete did not see.
    await plantOnMain(w.remoteDir, [foreignRecord(`db/sessions/${gone.id}/messages/msg_poison.json`, `{"id":"msg_poison","session_id":"${gone.id}","time_created":1,"time_updated":1,"data":${deep}}\n`, "json")]);
    await sync(A);
    await sync(B);
    // Twice, B syncing in between: B's index then knows a version of the session row newer than the
    // last commit its sessions were applied up to (the poison keeps that apply incomplete).
    change(A, gone);
    await sync(A);
    await sync(B);
    change(A, gone);
    await sync(A);
    const dbB = openDb(B);
    dbB.prepare("DELETE FROM session WHERE id = ?").run(gone.id);
    dbB.close();
    await sync(B);
    await sync(A);
    await sync(B);
    return { A, B, gone, other };
  };

  it("stays deleted everywhere when the other machine only moved its time", async () => {
    // OpenCode moves a session's time when it is opened: A changes nothing else.
    const { A, B, other } = await touchedThenDeleted("poison-del", (A, gone) => {
      const db = openDb(A);
      db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(Date.now() + 5, gone.id);
      db.close();
    });
    for (const h of [A, B]) expect(rows(h, "SELECT id FROM session ORDER BY id").map((x) => x.id)).toEqual([other.id]);
  });

  it("comes back everywhere with a message the deleting machine never saw", async () => {
    const added: string[] = [];
    const { A, B, gone } = await touchedThenDeleted("poison-revive", (A, session) => {
      const db = openDb(A);
      added.push(addMessage(db, A, session, `written on a, ${added.length + 1}`));
      db.close();
    });
    // The first, b saw and deleted with the session; the second, it never saw.
    for (const h of [A, B]) expect(rows(h, "SELECT id FROM message WHERE session_id = ?", gone.id).map((x) => x.id)).toEqual([added[1]]);
  });
});

describe("a record over the size limit", () => {
  it("a tool output over recordLimitMB stays on its machine and is named on every sync; the rest of its session syncs, and it does once it is small again", async () => {
    const w = await syncWorld();
    const A = w.machine("big-a");
    writeFileSync(join(A.config, "opencode-sync.jsonc"), '{ "recordLimitMB": 0.05 } // 50 KiB\n');
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    const big = s.parts[1]!;
    db.prepare("UPDATE part SET data = ? WHERE id = ?").run(JSON.stringify({ type: "text", text: "x".repeat(60_000) }), big);
    db.close();
    const r = await sync(A);
    expect(problems(r)).toMatch(new RegExp(`db/sessions/${s.id}/parts/${s.messages[0]}/${big}\\.json: 0\\.057 MB \\(\\d+ bytes\\) is over the 0\\.050 MB \\(52428 bytes\\) limit for one record \\(the setting recordLimitMB.*it is not uploaded and stays as it is on this machine; the rest syncs`));
    const B = w.machine("big-b");
    await sync(B);
    expect(rows(B, "SELECT count(*) AS n FROM message WHERE session_id = ?", s.id)).toEqual([{ n: 2 }]);
    expect(rows(B, "SELECT id FROM part WHERE session_id = ? ORDER BY id", s.id).map((x) => x.id)).toEqual(s.parts.filter((p) => p !== big).sort());
    // Still there on A after more syncs, never a deletion, and named on each of them until it is small.
    for (let i = 0; i < 2; i++) expect(problems(await sync(A))).toContain(`${big}.json: 0.057 MB`);
    expect(rows(A, "SELECT count(*) AS n FROM part WHERE id = ?", big)).toEqual([{ n: 1 }]);
    const again = openDb(A);
    again.prepare("UPDATE part SET data = ?, time_updated = ? WHERE id = ?").run(JSON.stringify({ type: "text", text: "compacted" }), Date.now(), big);
    // OpenCode touches the session whenever one of its parts changes.
    again.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(Date.now(), s.id);
    again.close();
    const shrunk = await sync(A);
    expect(problems(shrunk)).not.toContain(big);
    expect(shrunk.committed, JSON.stringify(shrunk)).toBe(2); // the part, and its session (touched)
    await sync(B);
    expect(rows(B, "SELECT data FROM part WHERE id = ?", big)).toEqual([{ data: JSON.stringify({ type: "text", text: "compacted" }) }]);
  });
});

describe("a push the server refuses for one record (GitHub push protection)", () => {
  it("is rebuilt without that record: everything else syncs, the record stays here and is named; once the secret is gone it syncs", async () => {
    const w = await syncWorld();
    installPushLimits(w.remoteDir);
    const A = w.machine("protected-a");
    writeFileSync(config(A), '{ "theme": "synced" }\n');
    const db = openDb(A);
    const leaky = addSession(db, A, { messages: 1 });
    const honest = addSession(db, A, { messages: 2 });
    const secret = leaky.parts[1]!;
    db.prepare("UPDATE part SET data = ? WHERE id = ?").run(JSON.stringify({ type: "tool", tool: "read", state: { status: "completed", output: "STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc" } }), secret);
    db.close();
    const r = await runCli(A.env, ["sync"]);
    expect(r.code, r.stderr).toBe(3);
    const path = `db/sessions/${leaky.id}/parts/${leaky.messages[0]}/${secret}.json`;
    expect(r.stdout + r.stderr).toContain(`${path}: the server refused it`);
    expect(r.stdout + r.stderr).toMatch(/GH013: Repository rule violations found/);
    expect(r.stdout + r.stderr).toContain("it stays as it is on this machine and is not uploaded, everything else syncs");
    const B = w.machine("protected-b");
    await sync(B);
    expect(readConfig(B)).toEqual({ theme: "synced" });
    expect(rows(B, "SELECT count(*) AS n FROM message WHERE session_id = ?", honest.id)).toEqual([{ n: 2 }]);
    expect(rows(B, "SELECT count(*) AS n FROM part WHERE id = ?", secret)).toEqual([{ n: 0 }]);
    expect(rows(A, "SELECT count(*) AS n FROM part WHERE id = ?", secret)).toEqual([{ n: 1 }]);
    // The next sync does not push it again; the user removes the secret, and then it syncs.
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    const fix = openDb(A);
    fix.prepare("UPDATE part SET data = ?, time_updated = ? WHERE id = ?").run(JSON.stringify({ type: "tool", tool: "read", state: { status: "completed", output: "STRIPE_KEY=<redacted>" } }), Date.now(), secret);
    fix.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(Date.now(), leaky.id);
    fix.close();
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    await sync(B);
    expect(rows(B, "SELECT data FROM part WHERE id = ?", secret)[0]?.data).toContain("<redacted>");
  });
});

describe("a force-pushed main", () => {
  it("is not adopted: the sync stops with exit 3, changes nothing, and --repush puts everything back", async () => {
    const w = await syncWorld();
    const A = w.machine("force-a");
    writeFileSync(config(A), '{ "theme": "kept" }\n');
    const db = openDb(A);
    const s = addSession(db, A, { messages: 3 });
    db.close();
    await sync(A);
    const root = (await runGit(["--git-dir", w.remoteDir, "rev-list", "--max-parents=0", "main"])).stdout.toString().trim();
    await runGit(["--git-dir", w.remoteDir, "update-ref", "refs/heads/main", root]);
    const stopped = await runCli(A.env, ["sync"]);
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toMatch(/main on .* no longer contains [0-9a-f]{12}.*reset, force-pushed or recreated.*oc-sync sync --repush/);
    expect(readConfig(A)).toEqual({ theme: "kept" });
    expect(await remoteText(w, "config/opencode.json")).toBe("");
    const doctor = await runCli(A.env, ["doctor"]);
    expect(doctor.stdout).toMatch(/history .*no longer contains/);

    const repushed = await runCli(A.env, ["sync", "--repush"]);
    expect(repushed.code, repushed.stderr).toBe(0);
    const C = w.machine("force-c");
    await sync(C);
    expect(readConfig(C)).toEqual({ theme: "kept" });
    expect(rows(C, "SELECT count(*) AS n FROM message WHERE session_id = ?", s.id)).toEqual([{ n: 3 }]);
  });
});

describe("a record main lost that only a machine branch still holds", () => {
  it("comes back: a backup restored after the sync that pushed it, then main reset past that sync", async () => {
    const w = await syncWorld();
    const A = w.machine("orphan");
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    const before = (await runGit(["--git-dir", w.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
    const backup = join(w.root, "orphan-backup");
    cpSync(A.home, backup, { recursive: true });
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    db.close();
    await sync(A);
    rmSync(A.home, { recursive: true });
    cpSync(backup, A.home, { recursive: true });
    await runGit(["--git-dir", w.remoteDir, "update-ref", "refs/heads/main", before]);
    // Its branch holds a commit its restored state does not know: it takes a new id, as it is asked to.
    expect((await runCli(A.env, ["sync"])).code).toBe(3);
    const renamed = { ...A.env, OC_SYNC_MACHINE: "orphan-restored" };
    const r = await runCli(renamed, ["sync"]);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(A, "SELECT count(*) AS n FROM message WHERE session_id = ?", s.id)).toEqual([{ n: 2 }]);
    const B = w.machine("orphan-b");
    await sync(B);
    expect(rows(B, "SELECT count(*) AS n FROM message WHERE session_id = ?", s.id)).toEqual([{ n: 2 }]);
  });
});

describe("a restored backup put back with --repush", () => {
  // History seed 1060: the repush kept what the machine's branch held (its work from after the backup)
  // and fast-forwarded main to it; the sync then took every change up to main as its own and already
  // here, so that work was never written back on the machine that had lost it. When the restored
  // machine's commit comes out as the very commit it made before (same content, same second), its
  // branch holds it already: the branch is what is pushed, not that older commit.
  it("gets back what its branch held from after the backup", async () => {
    const w = await syncWorld();
    const A = w.machine("repush-restored");
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    const backup = join(w.root, "repush-restored-backup");
    cpSync(A.home, backup, { recursive: true });
    writeFileSync(join(A.config, "AGENTS.md"), "written after the backup\n");
    await sync(A);
    rmSync(A.home, { recursive: true });
    cpSync(backup, A.home, { recursive: true });
    const root = (await runGit(["--git-dir", w.remoteDir, "rev-list", "--max-parents=0", "main"])).stdout.toString().trim();
    await runGit(["--git-dir", w.remoteDir, "update-ref", "refs/heads/main", root]);
    const r = await sync(A, { repush: true });
    expect(r.outcome).toBe("fast-forward");
    expect(readFileSync(join(A.config, "AGENTS.md"), "utf8")).toBe("written after the backup\n");
    expect(readConfig(A)).toEqual({ theme: "first" });
  });
});

describe("two machines with one id (a copied home)", () => {
  it("the second to push is stopped and asked to take a new id; neither loses its edit", async () => {
    const w = await syncWorld();
    const A = w.machine("twin");
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    const A2 = copiedHome(w, A, "twin-copy");
    writeFileSync(config(A), '{ "theme": "edited on the original" }\n');
    await sync(A);
    writeFileSync(config(A2), '{ "theme": "edited on the copy" }\n');
    const r = await runCli(A2.env, ["sync"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/another machine syncs as 'twin'.*oc-sync init --machine/);
    expect(readConfig(A2)).toEqual({ theme: "edited on the copy" });
    expect(await remoteText(w, "config/opencode.json")).toContain("edited on the original");
    // The copy takes an id of its own, as the message says: its edit arrives, as the value or as a conflict beside the original's.
    await takeOwnId(A2, "twin-copy");
    const kept = await keptConfig(w);
    expect(kept).toContain("edited on the original");
    expect(kept).toContain("edited on the copy");
  });
});

describe("two machines with one id, after a passphrase change", () => {
  it("the copy offering everything again under its new id does not turn an unchanged credential into an edit that beats the original's newer one", async () => {
    // History seed 5637: the copy had no version to take the entry's ciphertext from, encrypted it afresh under the new key, and its new fingerprint made it look edited.
    const w = await syncWorld();
    const setKey = (h: TestHome, key: string) => writeFileSync(join(h.data, "auth.json"), JSON.stringify({ openai: { type: "api", key } }), { mode: 0o600 });
    const keyOf = (h: TestHome) => (JSON.parse(readFileSync(join(h.data, "auth.json"), "utf8")) as { openai: { key: string } }).openai.key;
    const old = w.machine("twin-key");
    setKey(old, "sk-first");
    await sync(old);
    expect((await runCli(old.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: "the new passphrase" })).code).toBe(0);
    const A = { ...old, env: { ...old.env, OC_SYNC_PASSPHRASE: "the new passphrase" } };
    await sync(A);
    const A2 = copiedHome(w, A, "twin-key-copy");
    setKey(A, "sk-second");
    await sync(A);
    writeFileSync(config(A2), '{ "theme": "edited on the copy" }\n');
    expect((await runCli(A2.env, ["sync"])).code).toBe(3);
    await takeOwnId(A2, "twin-key-copy");
    await sync(A);
    await sync({ ...A2, env: { ...A2.env, OC_SYNC_MACHINE: undefined } });
    expect([keyOf(A), keyOf(A2)]).toEqual(["sk-second", "sk-second"]);
  });
});

describe("two machines with one id, the copy committed under it before it was stopped", () => {
  // Its commit carried a counter of the shared id that did not see the original's later edit of the
  // same key, and once it was pushed under the copy's new id, one edit replaced the other silently.
  /** A home and its copy both edit the theme; `race` ends with the copy stopped; the copy then takes an id of its own. */
  const bothEdit = async (name: string, race: (w: SyncWorld, A: TestHome, A2: TestHome) => Promise<CliResult>) => {
    const w = await syncWorld();
    const A = w.machine(name);
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    const A2 = copiedHome(w, A, `${name}-copy`);
    writeFileSync(config(A), '{ "theme": "edited on the original" }\n');
    writeFileSync(config(A2), '{ "theme": "edited on the copy" }\n');
    const stopped = await race(w, A, A2);
    expect(stopped.code, stopped.stderr).toBe(3);
    expect(stopped.stderr).toContain(`another machine syncs as '${name}'`);
    // Stopped it stays, until it takes an id of its own.
    expect((await runCli(A2.env, ["sync"])).code).toBe(3);
    await takeOwnId(A2, `${name}-copy`);
    // The offer of everything is made once.
    expect((await sync({ ...A2, env: { ...A2.env, OC_SYNC_MACHINE: undefined } })).committed).toBe(0);
    const kept = await keptConfig(w);
    expect(kept).toContain("edited on the original");
    expect(kept).toContain("edited on the copy");
  };

  it("offline: stopped at its next sync, it keeps its edit beside the original's", async () => {
    await bothEdit("twin-offline", async (w, A, A2) => {
      w.server.setFault("reset");
      try {
        expect((await sync(A2)).outcome).toBe("offline");
      } finally {
        w.server.setFault(null);
      }
      await sync(A);
      return runCli(A2.env, ["sync"]);
    });
  });

  it("in the same moment as the original: stopped when its push loses the race, it keeps its edit beside the original's", async () => {
    await bothEdit("twin-race", async (w, A, A2) => {
      // The copy's push waits at the server while the original syncs: both checked their branch before committing.
      let arrived!: () => void;
      let release!: () => void;
      const atPush = new Promise<void>((r) => (arrived = r));
      const released = new Promise<void>((r) => (release = r));
      w.server.setFault({ hold: () => (arrived(), released) }, "push");
      const copying = runCli(A2.env, ["sync"]);
      await atPush;
      w.server.setFault(null);
      await sync(A);
      release();
      return copying;
    });
  });
});

describe("two machines with one id while the original's work waits for the Action", () => {
  // History seed 1249 (Action mode): the copy's head was the original's branch, still waiting for the
  // Action; the original pushed on top of it, and the copy took that for a merge of its own pushed
  // before a kill, went on under the shared id, and its edit silently replaced the original's.
  it("the copy is still stopped before it commits, and neither edit is lost", async () => {
    const w = await syncWorld();
    const { A, B } = await aWaitingForAction(w, "waiting-twin");
    const A2 = copiedHome(w, A, "waiting-twin-copy");
    writeFileSync(config(A), '{ "theme": "from a", "own": "edited on the original" }\n');
    expect((await sync(A)).outcome).toBe("waiting-for-action");
    writeFileSync(config(A2), '{ "theme": "from a", "own": "edited on the copy" }\n');
    const r = await runCli(A2.env, ["sync"]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/another machine syncs as 'waiting-twin-a'.*oc-sync init --machine/);
    await takeOwnId(A2, "waiting-twin-copy");
    const merged = await runCli(B.env, ["merge"]);
    expect(merged.code, merged.stderr).toBe(0);
    const kept = await keptConfig(w);
    expect(kept).toContain("edited on the original");
    expect(kept).toContain("edited on the copy");
  });
});

describe("newest is the edit's own time", () => {
  it("a machine joining with an old default does not win over the edits made since", async () => {
    const w = await syncWorld();
    const A = w.machine("newest-a");
    writeFileSync(config(A), '{ "theme": "opencode" }\n');
    await sync(A);
    for (const theme of ["tokyonight", "gruvbox", "nord", "catppuccin"]) {
      writeFileSync(config(A), JSON.stringify({ theme }) + "\n");
      await sync(A);
    }
    const B = w.machine("newest-b");
    writeFileSync(config(B), '{ "theme": "opencode" }\n');
    const monthAgo = new Date(Date.now() - 30 * 86_400_000);
    utimesSync(config(B), monthAgo, monthAgo);
    await sync(B);
    await sync(A);
    expect(readConfig(B)).toEqual({ theme: "catppuccin" });
    expect(readConfig(A)).toEqual({ theme: "catppuccin" });
  });
});

describe("a wiped database (OpenCode reinstalled)", () => {
  it("the guard offers to bring everything back first; --restore-missing does, and deletes nothing anywhere", async () => {
    const w = await syncWorld();
    const A = w.machine("wiped-a");
    const db = openDb(A);
    const made = Array.from({ length: 6 }, () => addSession(db, A, { messages: 2 }));
    db.close();
    writeFileSync(config(A), '{ "theme": "kept" }\n');
    await sync(A);
    const B = w.machine("wiped-b");
    await sync(B);
    const wipe = openDb(A);
    wipe.prepare("DELETE FROM session").run();
    wipe.close();
    rmSync(config(A));
    const halted = await runCli(A.env, ["sync"]);
    expect(halted.code).toBe(3);
    expect(halted.stderr).toMatch(/config\/opencode\.json, 6 of 6 sessions would be deleted on every machine.*'oc-sync sync --restore-missing'.*Only if you deleted them on purpose: 'oc-sync sync --allow-mass-delete'/s);
    const restored = await runCli(A.env, ["sync", "--restore-missing"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(rows(A, "SELECT count(*) AS n FROM message")).toEqual([{ n: 12 }]);
    expect(readConfig(A)).toEqual({ theme: "kept" });
    expect((await sync(A)).committed).toBe(0);
    await sync(B);
    expect(rows(B, "SELECT id FROM session ORDER BY id").map((r) => r.id)).toEqual(made.map((s) => s.id).sort());
  });

  // History seed 1719 (Action mode): the session was on this machine's branch, waiting for the Action,
  // not yet on main; --restore-missing could not bring it back from main, and the next sync took it for
  // deleted here and pushed its deletion.
  it("work of this machine still waiting for the Action is not deleted: it comes back once main has it", async () => {
    const w = await syncWorld();
    let s!: MadeSession;
    const { A, B } = await aWaitingForAction(w, "wiped-waiting", (h) => {
      const db = openDb(h);
      s = addSession(db, h, { messages: 2 });
      db.close();
    });
    const wipe = openDb(A);
    wipe.prepare("DELETE FROM session").run();
    wipe.close();
    await sync(A, { restoreMissing: true });
    await sync(A);
    const merged = await runCli(B.env, ["merge"]);
    expect(merged.code, merged.stderr).toBe(0);
    await sync(A);
    await sync(B);
    for (const h of [A, B]) expect(rows(h, "SELECT count(*) AS n FROM message WHERE session_id = ?", s.id)).toEqual([{ n: 2 }]);
  });

  it("deleting one of two sessions is an ordinary delete, not a mass delete", async () => {
    const w = await syncWorld();
    const A = w.machine("one-of-two");
    const db = openDb(A);
    const [keep, gone] = [addSession(db, A, { messages: 2 }), addSession(db, A, { messages: 10 })];
    db.close();
    await sync(A);
    const del = openDb(A);
    del.prepare("DELETE FROM session WHERE id = ?").run(gone.id);
    del.close();
    const r = await runCli(A.env, ["sync"]);
    expect(r.code, r.stderr).toBe(0);
    const B = w.machine("one-of-two-b");
    await sync(B);
    expect(rows(B, "SELECT id FROM session").map((x) => x.id)).toEqual([keep.id]);
  });
});

describe("deleting a whole config or credentials file", () => {
  it.for([
    ["opencode.json", (h: TestHome) => config(h), "config/opencode.json"],
    ["auth.json", (h: TestHome) => join(h.data, "auth.json"), "credentials/auth.json"],
  ] as const)("%s: asked about, kept everywhere until confirmed, then deleted everywhere", async ([, file, record]) => {
    const w = await syncWorld();
    const A = w.machine(`whole-${record.length}`);
    writeFileSync(config(A), '{ "theme": "kept" }\n');
    writeFileSync(join(A.data, "auth.json"), JSON.stringify({ openai: { type: "api", key: "sk-kept" } }), { mode: 0o600 });
    await sync(A);
    const B = w.machine(`whole-${record.length}-b`);
    await sync(B);
    rmSync(file(A));
    const halted = await runCli(A.env, ["sync"]);
    expect(halted.code).toBe(3);
    expect(halted.stderr).toContain(`${record} would be deleted on every machine`);
    await sync(B);
    expect(existsSync(file(B))).toBe(true);
    const confirmed = await runCli(A.env, ["sync", "--allow-mass-delete"]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    await sync(B);
    expect(existsSync(file(B))).toBe(false);
  });
});

describe("deletions arriving from the remote", () => {
  const sessionIds = (h: TestHome) => rows(h, "SELECT id FROM session ORDER BY id").map((x) => x.id);
  const deleteSessions = (h: TestHome, ids: readonly string[]) => {
    const db = openDb(h);
    for (const id of ids) db.prepare("DELETE FROM session WHERE id = ?").run(id);
    db.close();
  };
  const eightSessions = async (name: string) => {
    const w = await syncWorld();
    const A = w.machine(`${name}-a`);
    const db = openDb(A);
    const made = Array.from({ length: 8 }, () => addSession(db, A, { messages: 1 }).id);
    db.close();
    await sync(A);
    const B = w.machine(`${name}-b`);
    await sync(B);
    return { A, B, made };
  };

  it("many sessions deleted in one commit nobody confirmed (an older client, a hostile push) are kept until this machine's user says yes", async () => {
    const { A, B, made } = await eightSessions("remote-mass");
    // What a client without the guard pushes: six of eight sessions deleted at once, no confirmation.
    deleteSessions(A, made.slice(0, 6));
    const ctx = await loadContext({ env: A.env });
    const sneak = await runSync({ ...ctx, settings: { ...ctx.settings, massDeleteShare: 1 } });
    expect(sneak.outcome).not.toBe("up-to-date");
    const r = await runCli(B.env, ["sync"]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/6 sessions deleted on another machine \(db\/sessions\/.*\) are kept here.*'oc-sync sync --allow-mass-delete'/s);
    expect(sessionIds(B)).toEqual([...made].sort());
    // Asked again on the next sync, not forgotten.
    expect((await runCli(B.env, ["sync"])).code).toBe(3);
    const yes = await runCli(B.env, ["sync", "--allow-mass-delete"]);
    expect(yes.code, yes.stderr).toBe(0);
    expect(sessionIds(B)).toEqual(made.slice(6).sort());
    expect(rows(B, "SELECT count(*) AS n FROM message")).toEqual([{ n: 2 }]);
  });

  it("a mass delete its user confirmed is applied everywhere without asking again; a few deletions never ask", async () => {
    const { A, B, made } = await eightSessions("remote-confirmed");
    deleteSessions(A, made.slice(0, 6));
    expect((await runCli(A.env, ["sync", "--allow-mass-delete"])).code).toBe(0);
    const r = await runCli(B.env, ["sync"]);
    expect(r.code, r.stderr).toBe(0);
    expect(sessionIds(B)).toEqual(made.slice(6).sort());
    deleteSessions(A, made.slice(6, 7));
    await sync(A);
    expect((await runCli(B.env, ["sync"])).code).toBe(0);
    expect(sessionIds(B)).toEqual(made.slice(7));
  });
});

describe("a full disk", () => {
  // A real full filesystem: a 4 MiB tmpfs holds oc-sync's folder (needs root, as here and in CI).
  const mountTmpfs = (dir: string) => spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir]).status === 0;

  it("says which disk is full and what to do; nothing is half-written, and the next sync after freeing space sends everything", async () => {
    const w = await syncWorld();
    const A = w.machine("full-a");
    const data = ocSyncPaths(A.env).data;
    mkdirSync(data, { recursive: true });
    expect(mountTmpfs(data), "mount a tmpfs (run the tests as root)").toBe(true);
    try {
      await sync(A);
      const db = openDb(A);
      const s = addSession(db, A, { messages: 3 });
      // A tool output git cannot compress much: the commit needs more room than is left.
      db.prepare("UPDATE part SET data = ? WHERE id = ?").run(JSON.stringify({ type: "text", text: randomBytes(600_000).toString("base64") }), s.parts[1]!);
      db.close();
      // Room for the lock, the log and the state, not for the commit.
      const free = Number(spawnSync("df", ["--output=avail", "-B1", data]).stdout.toString().split("\n")[1]);
      writeFileSync(join(data, "filler"), Buffer.alloc(free - 160 * 1024));
      const r = await runCli(A.env, ["sync"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the disk holding ${join(data, "repo.git")} is full`);
      expect(r.stderr).toContain("free some space and sync again");
      expect(r.stderr).not.toMatch(/cannot rollback/);
      expect(readdirSync(join(data, "repo.git")).filter((f) => f.startsWith("fast_import_crash_"))).toEqual([]);
      expect(readdirSync(join(data, "repo.git", "objects", "pack")).filter((f) => f.startsWith("tmp_pack_"))).toEqual([]);
      rmSync(join(data, "filler"));
      const again = await runCli(A.env, ["sync"]);
      expect(again.code, again.stderr).toBe(0);
      const B = w.machine("full-b");
      await sync(B);
      expect(rows(B, "SELECT count(*) AS n FROM part WHERE session_id = ?", s.id)).toEqual([{ n: 6 }]);
    } finally {
      spawnSync("umount", ["-l", data]);
    }
  });
});

describe("a killed sync's leftovers", () => {
  it("are cleaned up by the next run: a ref lock in a disk remote, temp files with plaintext, half-made lock files", async () => {
    const root = await tempDir();
    const remoteDir = join(root, "disk.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remoteDir]);
    const A = makeUsedHome(root, "leftover-a", { OC_SYNC_REMOTE: remoteDir, OC_SYNC_PASSPHRASE: PASSPHRASE });
    writeFileSync(config(A), '{ "theme": "first" }\n');
    await sync(A);
    const old = new Date(Date.now() - 3_600_000);
    const leftovers = [
      join(remoteDir, "refs", "heads", "machines", "leftover-a.lock"),
      join(A.config, ".opencode.json.oc-sync-1a2b3c4d.tmp"),
      join(A.data, ".auth.json.oc-sync-5e6f7a8b.tmp"),
      join(ocSyncPaths(A.env).data, "sync.lock.999999-0badf00d.tmp"),
    ];
    for (const f of leftovers) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, f.includes("auth") ? '{"openai":{"key":"sk-LEFTOVER-CANARY"}}' : "x");
      utimesSync(f, old, old);
    }
    writeFileSync(config(A), '{ "theme": "second" }\n');
    const r = await runCli(A.env, ["sync"]);
    expect(r.code, r.stderr).toBe(0);
    expect(leftovers.filter((f) => existsSync(f))).toEqual([]);
    expect(await runGit(["--git-dir", remoteDir, "cat-file", "-p", "main:config/opencode.json"]).then((x) => x.stdout.toString())).toContain("second");
  });
});
