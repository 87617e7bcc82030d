// The sync protocol's decisions, one row per situation a machine can be in. Commits are letters:
// B the saved base, H this machine's branch tip, M main as fetched, R the repo's set-up commit.
import { describe, expect, it } from "vitest";
import { MIB, PUSH_BUDGET_FLOOR } from "../../core/layout.js";
import { outcomeOf, planCommit, planIntegration, planSteps, smallerBudget, stateAfter, stepMessage, type CommitFacts, type IntegrationFacts } from "../../client/sync/plan.js";

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

describe("planSteps: a sync larger than one push, as pushes of at most the budget", () => {
  // A change as its bytes; a "c" after them: from a commit that confirmed its deletions.
  const changes = (spec: string) => (spec ? spec.split(" ").map((c) => ({ bytes: Number.parseInt(c), confirmed: c.endsWith("c") })) : []);
  it.each([
    ["everything fits: one step", "3 3 3", 10, [[0, 1, 2]]],
    ["exactly the budget fits", "5 5", 10, [[0, 1]]],
    ["one byte over: a second step", "5 5 1", 10, [[0, 1], [2]]],
    ["in order, never reordered to pack tighter", "6 6 3 3", 10, [[0], [1, 2], [3]]],
    ["a change larger than the budget is a step of its own", "4 25 4", 10, [[0], [1], [2]]],
    ["deletions cost nothing", "10 0 0", 10, [[0, 1, 2]]],
    ["nothing to change: still one step (the commit that stands for the sync)", "", 10, [[]]],
    ["changes of confirmed deletions go last, in steps of their own", "0c 4 0c 4", 10, [[1, 3], [0, 2]]],
    ["confirmed changes split by the budget too", "6c 6c 1", 10, [[2], [0], [1]]],
  ])("%s", (_, spec, budget, steps) => {
    expect(planSteps(changes(spec), budget)).toEqual(steps);
  });
});

describe("stepMessage: what each step's commit says", () => {
  it.each([
    ["a step before the last says [skip ci]: no workflow run for half a sync", "oc-sync: a local changes", false, false, "oc-sync: a local changes [skip ci]"],
    ["the last says what the commit it stands for said", "oc-sync: a local changes", true, false, "oc-sync: a local changes"],
    ["[skip ci] is not said twice", "oc-sync: a local changes [skip ci]", false, false, "oc-sync: a local changes [skip ci]"],
    ["a step of confirmed deletions keeps the trailer", "oc-sync: a local changes [skip ci]", true, true, "oc-sync: a local changes [skip ci]\n\nOc-Sync-Deletions: confirmed"],
    ["each step keeps who made it, for the digest", "oc-sync: a local changes\n\nOc-Sync-Machine: a", false, false, "oc-sync: a local changes [skip ci]\n\nOc-Sync-Machine: a"],
    ["a step of a merge keeps whose branch it folds in", "oc-sync: a merged into main [skip ci]\n\nOc-Sync-Machine: a\nOc-Sync-Merged: a\nOc-Sync-Deletions: confirmed", true, true, "oc-sync: a merged into main [skip ci]\n\nOc-Sync-Machine: a\nOc-Sync-Merged: a\nOc-Sync-Deletions: confirmed"],
    ["an unconfirmed step of confirmed commit does not claim the confirmation", "oc-sync: a local changes\n\nOc-Sync-Machine: a\nOc-Sync-Deletions: confirmed", false, false, "oc-sync: a local changes [skip ci]\n\nOc-Sync-Machine: a"],
  ])("%s", (_, original, last, confirmed, message) => {
    expect(stepMessage(original, last, confirmed)).toBe(message);
  });
});

describe("smallerBudget: after the server refused a push as too large", () => {
  it.each([
    ["half of the budget when more than it was pending", 1024 * MIB, 3000 * MIB, 512 * MIB],
    ["half of what was pending when that was less (one push carried it all)", 1024 * MIB, 6 * MIB, 3 * MIB],
    ["the floor itself is still tried", 4 * MIB, 2 * PUSH_BUDGET_FLOOR, PUSH_BUDGET_FLOOR],
    ["below the floor: none (the server refuses more than size)", 4 * MIB, PUSH_BUDGET_FLOOR, null],
  ])("%s", (_, budget, pending, next) => {
    expect(smallerBudget(budget, pending)).toBe(next);
  });
});
