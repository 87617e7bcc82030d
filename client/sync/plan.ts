// The sync protocol's decisions, pure: facts about the local repo and the remote in, a plan out.
// The cycle (cycle.ts) gathers the facts with git, asks here, and carries the plan out. Every row
// of the tests (test/client/plan.test.ts) is a situation a machine can be in.
import { commitMessage, readTrailers } from "../../core/trailers.js";
import { PUSH_BUDGET_FLOOR } from "../../core/layout.js";
import type { SyncOutcome } from "../state/sync-state.js";
import type { MergeMode } from "./context.js";

/** Marks a commit that needs no workflow run (GitHub skips push-triggered runs whose head says it). */
export const SKIP_CI = "[skip ci]";

/** What this machine knows before it commits its local changes. */
export interface CommitFacts {
  readonly mode: MergeMode;
  /** The main commit this machine last integrated (null: never synced with this remote). */
  readonly base: string | null;
  /** This machine's branch tip (base when nothing is pending). */
  readonly head: string | null;
  /** Main as just fetched, or base when offline. */
  readonly main: string | null;
  /** What a first commit builds on when there is no base (see firstParent in cycle.ts). */
  readonly firstParent: string | null;
  /** head is main, or an ancestor of it. */
  readonly headInMain: boolean;
}

export interface CommitPlan {
  /** The commit the local changes are built on. */
  readonly parent: string | null;
  /** What this machine's pending work sits on: its base, or its branch tip while earlier commits wait for main. */
  readonly own: string | null;
  /** Everything this machine committed before is in main already. */
  readonly earlierInMain: boolean;
  /**
   * Built on a main newer than `own`: where main changed a record this commit changes too, the
   * commit must move back onto `own` (rebase) so the change is merged, not laid over main's.
   */
  readonly onNewerMain: boolean;
  /** The commit message says [skip ci]: it is expected to reach main without the Action. */
  readonly skipCi: boolean;
  /** The same, once moved back onto `own`: it then needs a merge, the Action's in Action mode. */
  readonly skipCiIfRebased: boolean;
}

export function planCommit(f: CommitFacts): CommitPlan {
  const seen = f.base ?? f.firstParent;
  const earlierInMain = f.head === null || f.head === f.base || (f.main !== null && f.headInMain);
  const onNewerMain = earlierInMain && f.main !== null && f.main !== seen;
  const own = earlierInMain ? seen : f.head;
  return { parent: onNewerMain ? f.main : own, own, earlierInMain, onNewerMain, skipCi: f.mode === "local" || earlierInMain, skipCiIfRebased: f.mode === "local" };
}

/** What this machine has to integrate, and where main and its branch stand on the remote. */
export interface IntegrationFacts {
  readonly mode: MergeMode;
  readonly base: string | null;
  readonly main: string | null;
  /** This machine's commits that main may lack (null: nothing pending). */
  readonly mine: string | null;
  /** mine is main or an ancestor of it: main has it all. */
  readonly mineInMain: boolean;
  /** main is absent or an ancestor of mine: main can fast-forward to mine. */
  readonly mainInMine: boolean;
  /** From the commit plan: everything committed before this sync is in main. */
  readonly earlierInMain: boolean;
  /** The remote's machines/<id> is already at mine. */
  readonly branchAtMine: boolean;
  /** Known once a merge was tried (see "merge-first"): how many overlaps it decided. */
  readonly mergeConflicts?: number;
}

export type Integration =
  /** Nothing of ours that main lacks: take main as it is. */
  | { readonly kind: "take-main"; readonly outcome: "up-to-date" | "pulled" }
  /** Move main and our branch to mine in one compare-and-swap. */
  | { readonly kind: "fast-forward" }
  /** Histories diverged and this machine may merge: reconcile here, then ask again with mergeConflicts. */
  | { readonly kind: "merge-first" }
  /** Move main and our branch to the merge just made. */
  | { readonly kind: "push-merge" }
  /** Leave the merge to the Action: push our branch (unless it is there already) so a run starts. */
  | { readonly kind: "wait-for-action"; readonly pushBranch: boolean };

/** A plan to carry out as it is: with the merge's outcome known, no merge is asked for. */
export type SettledIntegration = Exclude<Integration, { kind: "merge-first" }>;

export function planIntegration(f: IntegrationFacts & { readonly mergeConflicts: number }): SettledIntegration;
export function planIntegration(f: IntegrationFacts): Integration;
export function planIntegration(f: IntegrationFacts): Integration {
  if (!f.mine || f.mineInMain) return { kind: "take-main", outcome: f.main === f.base ? "up-to-date" : "pulled" };
  if (f.mainInMine) return { kind: "fast-forward" };
  // In Action mode a merge is done here only when all our earlier changes are in main and nothing
  // conflicts: otherwise a record both machines keep changing would start a run on every sync.
  // Conflicts, and branches still waiting, go to the Action, which keeps the audit trail.
  const mayMerge = f.mode === "local" || f.earlierInMain;
  if (mayMerge && f.mergeConflicts === undefined) return { kind: "merge-first" };
  if (mayMerge && (f.mode === "local" || f.mergeConflicts === 0)) return { kind: "push-merge" };
  return { kind: "wait-for-action", pushBranch: !f.branchAtMine };
}

export function outcomeOf(plan: SettledIntegration): SyncOutcome {
  switch (plan.kind) {
    case "take-main":
      return plan.outcome;
    case "fast-forward":
      return "fast-forward";
    case "push-merge":
      return "merged";
    case "wait-for-action":
      return "waiting-for-action";
  }
}

/**
 * What to remember after integrating at `target`. A record edited here during this sync still holds
 * the version the old base had: keeping that base makes the next sync's commit of the edit collide
 * with main and merge, not overwrite. Waiting for the Action, our head stays our branch.
 */
export function stateAfter(outcome: SyncOutcome, target: string, editedHere: boolean): { base?: string; head?: string } {
  return { ...(editedHere ? {} : { base: target }), ...(outcome === "waiting-for-action" ? {} : { head: target }) };
}

/** One change a push carries: its blob's bytes, and whether it comes from a commit that confirmed its deletions. */
export interface StepChange {
  readonly bytes: number;
  readonly confirmed: boolean;
  /** Goes in the same step as the change after it (a segment's index with its data: one without the other reads as damaged). */
  readonly withNext?: boolean;
}

/**
 * Pending changes as steps, one push each, of at most `budget` bytes (a change larger than the
 * budget is a step of its own), in order: indices into `changes`. Changes from commits that
 * confirmed their deletions go into steps of their own, last, so only those steps say so (the
 * other machines' guard trusts a step's message for every path it changes). Always one step at least.
 */
export function planSteps(changes: readonly StepChange[], budget: number): number[][] {
  const steps: number[][] = [];
  for (const confirmed of [false, true]) {
    let step: number[] = [];
    let bytes = 0;
    changes.forEach((c, i) => {
      if (c.confirmed !== confirmed) return;
      if (step.length && bytes + c.bytes > budget && !changes[step.at(-1)!]!.withNext) {
        steps.push(step);
        [step, bytes] = [[], 0];
      }
      step.push(i);
      bytes += c.bytes;
    });
    if (step.length) steps.push(step);
  }
  return steps.length ? steps : [[]];
}

/**
 * A step's commit message, from the message of the commit the steps stand for: every step before
 * the last says [skip ci] (no workflow run for half a sync); each keeps who made it, and one of
 * confirmed changes keeps that trailer.
 */
export function stepMessage(original: string, last: boolean, confirmed: boolean): string {
  const subject = original.split("\n")[0]!;
  const { machine, merged } = readTrailers(original);
  return commitMessage(last || subject.includes(SKIP_CI) ? subject : `${subject} ${SKIP_CI}`, { machine, merged, confirmedDeletions: confirmed });
}

/**
 * After the server refused a push as too large (its limit is below our budget): half of what was
 * pushed, which was at most the budget and at most what is pending; null once that is below the floor.
 */
export function smallerBudget(budget: number, pending: number): number | null {
  const next = Math.floor(Math.min(budget, pending) / 2);
  return next >= PUSH_BUDGET_FLOOR ? next : null;
}
