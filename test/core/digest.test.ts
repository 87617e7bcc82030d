import { describe, expect, it } from "vitest";
import { categoryOf, digestLines, digestOf, recordsLine, type CommitFacts, type MainMove } from "../../core/digest.js";
import { commitMessage, readTrailers } from "../../core/trailers.js";

const commit = (oid: string, parents: string[], subject: string, trailers: CommitFacts["trailers"] = {}, time = 1_000): CommitFacts => ({ oid: oid.padEnd(40, "0"), parents: parents.map((p) => p.padEnd(40, "0")), time, subject, trailers });
const move = (c: CommitFacts, changes: MainMove["changes"] = [], conflicts: MainMove["conflicts"] = []): MainMove => ({ commit: c, changes, conflicts });

describe("categoryOf: where a record counts", () => {
  it.each([
    ["config/opencode.json", "config"],
    ["state/prompt-history.jsonl", "state"],
    ["credentials/auth.json", "credentials"],
    ["conflicts/abc.json", "conflicts"],
    ["db/projects/p1.json", "projects"],
    ["db/permissions/p1.json", "permissions"],
    ["db/sessions/ses_1/session.json", "sessions"],
    ["db/sessions/ses_1/todos.json", "todos"],
    ["db/sessions/ses_1/messages/msg_1.json", "messages"],
    ["db/sessions/ses_1/parts/msg_1/prt_1.json", "parts"],
    [".oc-sync/format.json", "repo files"],
    [".github/workflows/oc-sync.yml", "repo files"],
  ])("%s → %s", (path, category) => expect(categoryOf(path)).toBe(category));
});

describe("trailers: who made a commit, read back as written", () => {
  it.each([
    [{ machine: "laptop" }, "s\n\nOc-Sync-Machine: laptop"],
    [{ machine: "laptop", merged: "desk", confirmedDeletions: true }, "s\n\nOc-Sync-Machine: laptop\nOc-Sync-Merged: desk\nOc-Sync-Deletions: confirmed"],
    [{}, "s"],
  ])("%o", (t, message) => {
    expect(commitMessage("s", t)).toBe(message);
    expect(readTrailers(message)).toEqual(t);
  });

  it("a machine id with a newline cannot forge another trailer", () => {
    expect(readTrailers(commitMessage("s", { machine: "evil\nOc-Sync-Merged: x" }))).toEqual({ machine: "evil Oc-Sync-Merged: x" });
  });
});

describe("digestOf: every commit main gained, once", () => {
  const base = commit("a", [], "oc-sync: set up sync repository [skip ci]", { machine: "north" });
  const side1 = commit("b", ["a"], "oc-sync: south local changes", { machine: "south" }, 2_000);
  const side2 = commit("c", ["b"], "oc-sync: south local changes", { machine: "south" }, 3_000);
  const mine = commit("d", ["a"], "oc-sync: north local changes", {}, 2_500);
  const merge = commit("e", ["d", "c"], "oc sync action: merge south", { merged: "south" }, 4_000);
  const conflict = { id: "k1", path: "config/opencode.json", at: "/theme", strategy: "auto-merge" as const, kept: "south", lost: "north", needsDecision: false };
  const digest = digestOf(null, merge.oid, false, [
    move(base, [{ path: ".oc-sync/format.json", kind: "added" }]),
    move(mine, [{ path: "config/opencode.json", kind: "changed" }, { path: "db/sessions/s/session.json", kind: "deleted" }]),
    move(merge, [{ path: "config/tui.json", kind: "added" }, { path: "conflicts/k1.json", kind: "added" }, { path: "conflicts/k0.json", kind: "deleted" }], [conflict]),
  ], [merge, side2, side1, mine, base]);

  it("names the merge's other side under the merge, oldest first, and every commit exactly once", () => {
    const named = digest.entries.flatMap((e) => [e.commit, ...e.brought.map((b) => b.commit)]);
    expect(new Set(named).size).toBe(named.length);
    expect(new Set(named)).toEqual(new Set([base, side1, side2, mine, merge].map((c) => c.oid)));
    expect(digest.entries[2]!.brought).toEqual([{ commit: side1.oid, by: "south" }, { commit: side2.oid, by: "south" }]);
  });

  it("tells who: the trailer, the subject of an older commit, the Action for its merges", () => {
    expect(digest.entries.map((e) => [e.by, e.how, e.merged])).toEqual([["north", "changes", undefined], ["north", "changes", undefined], ["the Action", "merge", "south"]]);
  });

  it("counts records by category and kind, and the conflicts kept and decided", () => {
    expect(recordsLine(digest.entries[1]!.records)).toBe("config ~1, sessions -1");
    expect(digest.entries[2]!.conflictsKept).toEqual([conflict]);
    expect(digest.entries[2]!.conflictsDecided).toEqual(["k0"]);
    expect(digestLines(digest)).toEqual([
      `main (its first commit) → ${merge.oid.slice(0, 12)}: 3 move(s)`,
      `${base.oid.slice(0, 12)}  1970-01-01T00:00:01.000Z  north  changes: repo files +1`,
      `${mine.oid.slice(0, 12)}  1970-01-01T00:00:02.500Z  north  changes: config ~1, sessions -1`,
      `${merge.oid.slice(0, 12)}  1970-01-01T00:00:04.000Z  the Action  merge of machines/south: config +1, conflicts +1 -1`,
      `  brought ${side1.oid.slice(0, 12)} by south`,
      `  brought ${side2.oid.slice(0, 12)} by south`,
      "  conflict k1 in config/opencode.json at /theme: auto-merge kept south's, north's kept aside",
      "  conflict k0 decided by the Action",
    ]);
  });

  it("a side commit two merges reach is named under the first only", () => {
    const merge2 = commit("f", ["e", "c"], "oc sync action: merge south", { merged: "south" }, 5_000);
    const d = digestOf(null, merge2.oid, false, [move(mine), move(merge), move(merge2)], [merge2, merge, side2, side1, mine]);
    expect(d.entries[2]!.brought).toEqual([]);
  });
});
