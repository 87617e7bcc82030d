import { describe, expect, it } from "vitest";
import { reconcile } from "../../core/reconcile.js";
import { strategies, type Strategy } from "../../core/strategy.js";
import { dec, rec, set } from "./helpers.js";

const opts = (strategy: Strategy = "auto-merge") => ({ strategy });

describe("reconcile", () => {
  it("takes a branch version that descends from main's, and keeps main where main is ahead", () => {
    const base = set(rec("a", '{"v":1}', { x: 1 }), rec("b", '{"v":1}', { x: 1 }));
    const main = set(rec("a", '{"v":1}', { x: 1 }), rec("b", '{"v":2}', { x: 1, y: 1 }));
    const branch = set(rec("a", '{"v":3}', { x: 2 }), rec("b", '{"v":1}', { x: 1 }));
    const r = reconcile(base, main, branch, opts());
    expect(dec(r.records.get("a")!.content)).toBe('{"v":3}');
    expect(dec(r.records.get("b")!.content)).toBe('{"v":2}');
    expect(r.changed.map((c) => c.path)).toEqual(["a"]);
    expect(r.decisions.map((d) => [d.path, d.comparison, d.action])).toEqual([
      ["a", "ahead", "took-branch"],
      ["b", "behind", "kept-main"],
    ]);
  });

  it("merges concurrent edits of different keys with a vector that dominates both", () => {
    const base = set(rec("c", '{"a":1,"b":1}', { x: 1 }));
    const main = set(rec("c", '{"a":2,"b":1}', { x: 1, y: 1 }, 10, "y"));
    const branch = set(rec("c", '{"a":1,"b":2}', { x: 2 }, 20, "x"));
    const r = reconcile(base, main, branch, opts());
    const c = r.records.get("c")!;
    expect(JSON.parse(dec(c.content)!)).toEqual({ a: 2, b: 2 });
    expect(c.vector).toEqual({ x: 2, y: 1 });
    expect(r.conflicts).toEqual([]);
    expect(r.decisions[0]).toMatchObject({ comparison: "concurrent", action: "merged" });
  });

  it.each([
    // A row's time_updated is bookkeeping: the later one, with no conflict; other keys as the strategy says.
    ["db/sessions/s1/session.json", "ask", { title: "main", time_updated: 300 }, ["/title"]],
    ["db/sessions/s1/session.json", "auto-merge", { title: "branch", time_updated: 300 }, ["/title"]],
    // Only database rows: a config file's own "time_updated" key is the user's value.
    ["config/opencode.json", "ask", { title: "main", time_updated: 300 }, ["/title", "/time_updated"]],
  ] as const)("%s under %s: a database row's time_updated takes the later time, with no conflict", (path, strategy, merged, conflicts) => {
    const base = set(rec(path, '{"title":"base","time_updated":100}', { x: 1 }));
    const main = set(rec(path, '{"title":"main","time_updated":300}', { x: 1, y: 1 }, 10, "y"));
    const branch = set(rec(path, '{"title":"branch","time_updated":200}', { x: 2 }, 20, "x"));
    const r = reconcile(base, main, branch, opts(strategy));
    expect(JSON.parse(dec(r.records.get(path)!.content)!)).toEqual(merged);
    expect(r.conflicts.map((c) => c.at)).toEqual(conflicts);
  });

  it("keeps the edited side of a delete against a concurrent edit and records the delete", () => {
    const base = set(rec("s", '{"t":"x"}', { x: 1 }));
    const main = set(rec("s", null, { x: 1, y: 1 }, 5, "y"));
    const branch = set(rec("s", '{"t":"edited"}', { x: 2 }, 3, "x"));
    const r = reconcile(base, main, branch, opts());
    expect(dec(r.records.get("s")!.content)).toBe('{"t":"edited"}');
    expect(r.conflicts).toHaveLength(1);
    expect(r.conflicts[0]).toMatchObject({ kept: { side: "branch", value: '{"t":"edited"}' }, lost: { side: "main", writer: "y", value: null } });
  });

  it("does not let a stale machine resurrect a deleted record", () => {
    const base = set(rec("s", '{"t":"x"}', { x: 1 }));
    const main = set(rec("s", null, { x: 1, y: 1 }, 5, "y"));
    const branch = set(rec("s", '{"t":"x"}', { x: 1 }));
    const r = reconcile(base, main, branch, opts());
    expect(r.records.get("s")!.deleted).toBe(true);
    expect(r.changed).toEqual([]);
  });

  it.each([
    ["unsigned on main, signed on the branch: the signed copy", undefined, "m1:sig", "took-branch", "m1:sig"],
    ["signed alike on both", "m1:sig", "m1:sig", "unchanged", "m1:sig"],
    ["signed on main, unsigned on the branch: main's", "m1:sig", undefined, "unchanged", "m1:sig"],
    ["unsigned on both", undefined, undefined, "unchanged", undefined],
  ])("one version on both sides, %s", (_, mainMac, branchMac, action, mac) => {
    const signed = (m: string | undefined) => set({ ...rec("a", '{"v":1}', { x: 1 }), ...(m ? { mac: m } : {}) });
    const r = reconcile(set(), signed(mainMac), signed(branchMac), opts());
    expect(r.decisions[0]).toMatchObject({ comparison: "equal", action });
    expect(r.records.get("a")!.mac).toBe(mac);
  });

  it("is idempotent: reconciling the result with itself changes nothing", () => {
    const base = set(rec("c", '{"a":1}', { x: 1 }));
    const main = set(rec("c", '{"a":2}', { x: 1, y: 1 }, 10, "y"));
    const branch = set(rec("c", '{"a":3}', { x: 2 }, 20, "x"), rec("n", "{}", { x: 1 }));
    const first = reconcile(base, main, branch, opts());
    const again = reconcile(first.records, first.records, first.records, opts());
    expect(again.changed).toEqual([]);
    expect(again.conflicts).toEqual([]);
    const rerun = reconcile(base, first.records, branch, opts());
    expect(rerun.changed).toEqual([]);
  });

  describe("strategies on an overlapping edit (main older, branch newer)", () => {
    const base = set(rec("m", '{"theme":"dark","x":1}', { x: 1 }));
    const main = set(rec("m", '{"theme":"light","x":1}', { x: 1, y: 1 }, 10, "y"));
    const branch = set(rec("m", '{"theme":"solar","x":2}', { x: 2 }, 20, "x"));
    const expected: Record<Strategy, { theme: string; x: number; needsDecision: boolean }> = {
      "auto-merge": { theme: "solar", x: 2, needsDecision: false },
      "newest-wins": { theme: "solar", x: 2, needsDecision: false },
      "local-wins": { theme: "solar", x: 2, needsDecision: false },
      "remote-wins": { theme: "light", x: 1, needsDecision: false },
      ask: { theme: "light", x: 2, needsDecision: true },
    };
    for (const strategy of strategies) {
      it(`${strategy} keeps the expected value and records the loser`, () => {
        const r = reconcile(base, main, branch, opts(strategy));
        const got = JSON.parse(dec(r.records.get("m")!.content)!);
        const want = expected[strategy];
        expect(got).toEqual({ theme: want.theme, x: want.x });
        expect(r.conflicts).toHaveLength(1);
        expect(r.conflicts[0]!.needsDecision).toBe(want.needsDecision);
        const lostValue = r.conflicts[0]!.lost.value!;
        expect(lostValue).toContain(want.theme === "solar" ? "light" : "solar");
      });
    }
  });

  it("auto-merge breaks an exact timestamp tie the same way on every reconciler", () => {
    const base = set(rec("m", '{"k":0}', { x: 1 }));
    const main = set(rec("m", '{"k":1}', { x: 1, a: 1 }, 10, "a"));
    const branch = set(rec("m", '{"k":2}', { x: 1, b: 1 }, 10, "b"));
    const r = reconcile(base, main, branch, opts());
    expect(JSON.parse(dec(r.records.get("m")!.content)!)).toEqual({ k: 2 });
  });
});
