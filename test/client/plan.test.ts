// The sync protocol's decisions, one row per situation a machine can be in. Commits are letters:
// B the saved base, H this machine's branch tip, M main as fetched, R the repo's set-up commit.
import { describe, expect, it } from "vitest";
import { outcomeOf, planCommit, planIntegration, stateAfter, type CommitFacts, type IntegrationFacts } from "../../client/sync/plan.js";

describe("planCommit: what the local changes are built on", () => {
  const facts = (f: Partial<CommitFacts>): CommitFacts => ({ mode: "local", base: "B", head: "B", main: "B", firstParent: null, headInMain: false, ...f });
  const rows: [string, Partial<CommitFacts>, Partial<ReturnType<typeof planCommit>>][] = [
    ["in step with main: build on it, fast-forward next", {}, { parent: "B", own: "B", earlierInMain: true, onNewerMain: false, skipCi: true }],
    ["main moved since the base, nothing pending: build on main itself", { main: "M" }, { parent: "M", own: "B", earlierInMain: true, onNewerMain: true, skipCi: true }],
    ["an earlier commit is still outside main: build on it", { head: "H", main: "M" }, { parent: "H", own: "H", earlierInMain: false, onNewerMain: false, skipCi: true }],
    ["an earlier commit that main has since taken in: build on main", { head: "H", main: "M", headInMain: true }, { parent: "M", own: "B", earlierInMain: true, onNewerMain: true }],
    ["Action mode with an earlier commit waiting: no [skip ci], the Action must run", { mode: "action", head: "H", main: "M" }, { parent: "H", skipCi: false, skipCiIfRebased: false }],
    ["Action mode in step: [skip ci], unless it has to be moved back for a merge", { mode: "action", main: "M" }, { parent: "M", skipCi: true, skipCiIfRebased: false }],
    ["first sync onto a repo with records: build on its set-up commit", { base: null, head: null, main: "M", firstParent: "R" }, { parent: "M", own: "R", earlierInMain: true, onNewerMain: true }],
    ["first sync onto an empty repo: build on main", { base: null, head: null, main: "M", firstParent: "M" }, { parent: "M", own: "M", onNewerMain: false }],
    ["first sync onto a repo whose history has records from the start: build on nothing", { base: null, head: null, main: "M", firstParent: null }, { parent: "M", own: null, onNewerMain: true }],
    ["offline (main is the base): build on the base", { main: "B" }, { parent: "B", onNewerMain: false }],
    ["offline with a commit pending: build on it", { head: "H", main: "B" }, { parent: "H", earlierInMain: false }],
  ];
  it.each(rows)("%s", (_, f, plan) => {
    expect(planCommit(facts(f))).toMatchObject(plan);
  });
});

describe("planIntegration: how this machine's commits and main come together", () => {
  const facts = (f: Partial<IntegrationFacts>): IntegrationFacts => ({ mode: "local", base: "B", main: "M", mine: "C", mineInMain: false, mainInMine: false, earlierInMain: true, branchAtMine: false, ...f });
  const rows: [string, Partial<IntegrationFacts>, ReturnType<typeof planIntegration>][] = [
    ["nothing of ours, main unchanged", { mine: null, main: "B" }, { kind: "take-main", outcome: "up-to-date" }],
    ["nothing of ours, main moved", { mine: null }, { kind: "take-main", outcome: "pulled" }],
    ["ours is already in main (merged by the Action meanwhile)", { mineInMain: true }, { kind: "take-main", outcome: "pulled" }],
    ["main is an ancestor of ours", { mainInMine: true }, { kind: "fast-forward" }],
    ["the remote is empty", { main: null, mainInMine: true }, { kind: "fast-forward" }],
    ["diverged, local mode: try the merge first", {}, { kind: "merge-first" }],
    ["diverged, local mode, merged with conflicts: push the merge all the same", { mergeConflicts: 2 }, { kind: "push-merge" }],
    ["diverged, Action mode, all earlier work in main: try the merge here", { mode: "action" }, { kind: "merge-first" }],
    ["diverged, Action mode, clean merge: push it", { mode: "action", mergeConflicts: 0 }, { kind: "push-merge" }],
    ["diverged, Action mode, merge with conflicts: the Action decides", { mode: "action", mergeConflicts: 1 }, { kind: "wait-for-action", pushBranch: true }],
    ["diverged, Action mode, an earlier branch still waits: the Action merges", { mode: "action", earlierInMain: false }, { kind: "wait-for-action", pushBranch: true }],
    ["waiting, and the branch is on the remote already: push nothing", { mode: "action", earlierInMain: false, branchAtMine: true }, { kind: "wait-for-action", pushBranch: false }],
  ];
  it.each(rows)("%s", (_, f, plan) => {
    expect(planIntegration(facts(f))).toEqual(plan);
  });

  it("names each plan's outcome as the report shows it", () => {
    expect(outcomeOf({ kind: "take-main", outcome: "pulled" })).toBe("pulled");
    expect(outcomeOf({ kind: "fast-forward" })).toBe("fast-forward");
    expect(outcomeOf({ kind: "push-merge" })).toBe("merged");
    expect(outcomeOf({ kind: "wait-for-action", pushBranch: false })).toBe("waiting-for-action");
  });
});

describe("stateAfter: what the machine remembers", () => {
  it.each([
    ["fast-forward", false, { base: "T", head: "T" }],
    ["pulled", false, { base: "T", head: "T" }],
    // A record edited during the sync must merge against the old base next time, not be overwritten.
    ["fast-forward", true, { head: "T" }],
    // Our branch is our head until the Action has merged it.
    ["waiting-for-action", false, { base: "T" }],
    ["waiting-for-action", true, {}],
  ] as const)("%s, edited here during the sync: %s", (outcome, edited, state) => {
    expect(stateAfter(outcome, "T", edited)).toEqual(state);
  });
});
