// A session deleted on one side (y) while the other (x) changed it, decided as a whole by reconcile.
import { describe, expect, it } from "vitest";
import { reconcile } from "../../core/reconcile.js";
import type { SyncRecord } from "../../core/record.js";
import { compareVectors } from "../../core/vector.js";
import { dec, rec, set } from "./helpers.js";

const S = "db/sessions/s1/session.json";
const TODOS = "db/sessions/s1/todos.json";
const M1 = "db/sessions/s1/messages/m1.json";
const M2 = "db/sessions/s1/messages/m2.json";
const P1 = "db/sessions/s1/parts/m1/p1.json";
const P2 = "db/sessions/s1/parts/m2/p2.json";
const row = (fields: Record<string, unknown>) => JSON.stringify(fields);
const session = (title: string, time: number) => row({ id: "s1", title, time_updated: time });
const part = (message: string, id: string, text: string) => row({ id, message_id: message, session_id: "s1", text });

const base = set(rec(S, session("t", 100), { x: 1 }), rec(M1, row({ id: "m1" }), { x: 1 }), rec(P1, part("m1", "p1", "a huge output"), { x: 1 }), rec(TODOS, "[]", { x: 1 }));
/** y deleted the session: a tombstone of every row it had. */
const deleted = set(...[...base.values()].map((r) => rec(r.path, null, { x: 1, y: 1 }, 50, "y")));
const live = (records: ReadonlyMap<string, SyncRecord>) => [...records.values()].filter((r) => !r.deleted).map((r) => r.path).sort();

describe.each([
  ["the deleting machine is main", (edited: Map<string, SyncRecord>) => [deleted, edited] as const],
  ["the deleting machine is the branch", (edited: Map<string, SyncRecord>) => [edited, deleted] as const],
])("a session deleted while another machine changed it (%s)", (_who, sides) => {
  const merge = (edited: Map<string, SyncRecord>) => {
    const [main, branch] = sides(edited);
    return { main, branch, r: reconcile(base, main, branch, { strategy: "auto-merge" }) };
  };

  it("a part compacted (its session only touched): everything stays deleted, the part's new content is kept as a conflict", () => {
    const edited = set(rec(S, session("t", 200), { x: 2 }, 60, "x"), rec(P1, part("m1", "p1", "compacted"), { x: 2 }, 60, "x"));
    const { main, branch, r } = merge(edited);
    expect(live(r.records)).toEqual([]);
    expect(r.conflicts.map((c) => [c.path, c.kept.value, c.lost.value && JSON.parse(c.lost.value).text])).toEqual([[P1, null, "compacted"]]);
    // Each tombstone is newer than both sides' versions: every machine takes it.
    for (const path of [S, P1]) for (const side of [main, branch]) expect(compareVectors(r.records.get(path)!.vector, side.get(path)!.vector)).toBe("ahead");
    expect(r.decisions.find((d) => d.path === P1)).toMatchObject({ action: "merged", conflicts: 1 });
  });

  it("a part added to a message the delete saw: deleted with its message, kept as a conflict", () => {
    const edited = set(rec(S, session("t", 200), { x: 2 }, 60, "x"), rec("db/sessions/s1/parts/m1/p9.json", part("m1", "p9", "late"), { x: 2 }, 60, "x"));
    const { r } = merge(edited);
    expect(live(r.records)).toEqual([]);
    expect(r.conflicts.map((c) => c.path)).toEqual(["db/sessions/s1/parts/m1/p9.json"]);
  });

  it("a new message (the delete never saw it): the session comes back with it; what the delete saw stays deleted", () => {
    const edited = set(rec(S, session("t", 200), { x: 2 }, 60, "x"), rec(M2, row({ id: "m2" }), { x: 2 }, 60, "x"), rec(P2, part("m2", "p2", "new"), { x: 2 }, 60, "x"));
    const { r } = merge(edited);
    expect(live(r.records)).toEqual([P2, M2, S].sort());
    expect(JSON.parse(dec(r.records.get(S)!.content)!)).toEqual({ id: "s1", title: "t", time_updated: 200 });
    // The delete of the session row is kept as the conflict, as for any delete against an edit.
    expect(r.conflicts.map((c) => [c.path, c.lost.value])).toEqual([[S, null]]);
  });

  it("a message nested too deep to read (a poison record): no message anyone saw, the session stays deleted, the record goes with it as a conflict", () => {
    const poison = rec(M2, `{"id":"m2","data":${"[".repeat(600)}${"]".repeat(600)}}`, { z: 1 }, 60, "attacker");
    const edited = set(rec(S, session("t", 200), { x: 2 }, 60, "x"), poison);
    const { r } = merge(edited);
    expect(live(r.records)).toEqual([]);
    expect(r.conflicts.map((c) => c.path)).toContain(M2);
  });

  it("a new message, the session row not touched (a step of a sync pushed in several): the session still comes back", () => {
    const edited = set(base.get(S)!, rec(M2, row({ id: "m2" }), { x: 2 }, 60, "x"), rec(P2, part("m2", "p2", "new"), { x: 2 }, 60, "x"));
    const { main, branch, r } = merge(edited);
    expect(live(r.records)).toEqual([P2, M2, S].sort());
    expect(JSON.parse(dec(r.records.get(S)!.content)!)).toEqual({ id: "s1", title: "t", time_updated: 100 });
    for (const side of [main, branch]) expect(compareVectors(r.records.get(S)!.vector, side.get(S)!.vector)).toBe("ahead");
    expect(r.conflicts.map((c) => [c.path, c.lost.value])).toEqual([[S, null]]);
  });

  it("everything offered again (a rejoin, its merge base without the session): the messages the delete saw do not bring it back", () => {
    const offered = set(...[...base.values()]);
    const [main, branch] = sides(offered);
    const r = reconcile(new Map(), main, branch, { strategy: "auto-merge" });
    expect(live(r.records)).toEqual([]);
  });

  it("a rename (more than a touch): the session row comes back as renamed, with the delete as its conflict", () => {
    const edited = set(rec(S, session("renamed", 200), { x: 2 }, 60, "x"));
    const { r } = merge(edited);
    expect(live(r.records)).toEqual([S]);
    expect(r.conflicts.map((c) => c.path)).toEqual([S]);
  });

  it("a todo list changed, the session only touched: deleted, the list kept as a conflict", () => {
    const edited = set(rec(S, session("t", 200), { x: 2 }, 60, "x"), rec(TODOS, '[{"content":"more"}]', { x: 2 }, 60, "x"));
    const { r } = merge(edited);
    expect(live(r.records)).toEqual([]);
    expect(r.conflicts.map((c) => [c.path, c.lost.value])).toEqual([[TODOS, '[{"content":"more"}]']]);
  });
});

describe("a row whose parent was deleted outside what the merge read", () => {
  it("is orphaned by the parent main has (deleted before the merge base), not kept live under it", () => {
    const tombstone = (path: string) => rec(path, null, { x: 1, y: 1 }, 50, "y");
    const b = set(rec(P1, part("m1", "p1", "a huge output"), { x: 1 }));
    const main = set(tombstone(P1));
    const branch = set(rec(P1, part("m1", "p1", "compacted"), { x: 2 }, 60, "x"));
    expect(live(reconcile(b, main, branch, { strategy: "auto-merge" }).records)).toEqual([P1]);
    const r = reconcile(b, main, branch, { strategy: "auto-merge", parents: set(tombstone(M1)) });
    expect(live(r.records)).toEqual([]);
    expect(r.conflicts.map((c) => [c.path, c.lost.value && JSON.parse(c.lost.value).text])).toEqual([[P1, "compacted"]]);
  });

  it("edited on both sides: deleted with its parent, and the value its merge set aside stays a conflict too", () => {
    // A main left by an older merge: the session and message deleted, the part live and edited by y.
    const main = set(rec(S, null, { x: 1, y: 1 }, 50, "y"), rec(M1, null, { x: 1, y: 1 }, 50, "y"), rec(P1, part("m1", "p1", "y's text"), { x: 1, y: 2 }, 70, "y"));
    const branch = set(rec(P1, part("m1", "p1", "x's text"), { x: 2 }, 60, "x"));
    const r = reconcile(base, main, branch, { strategy: "auto-merge" });
    expect(live(r.records)).toEqual([]);
    const kept = r.conflicts.filter((c) => c.path === P1).map((c) => c.lost.value ?? "");
    expect(kept.some((v) => v.includes("y's text"))).toBe(true);
    expect(kept.some((v) => v.includes("x's text"))).toBe(true);
  });
});

describe("rows of a session nobody deleted", () => {
  it("are never touched by the orphan rule, and a lone session row touched on both sides merges as before", () => {
    const main = set(rec(S, session("t", 300), { x: 1, y: 1 }, 10, "y"), rec(P1, part("m1", "p1", "main"), { x: 1, y: 1 }, 10, "y"));
    const branch = set(rec(S, session("t", 200), { x: 2 }, 20, "x"));
    const r = reconcile(base, main, branch, { strategy: "auto-merge" });
    expect(live(r.records)).toEqual([P1, S].sort());
    expect(r.conflicts).toEqual([]);
  });
});
