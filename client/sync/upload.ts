// A sync larger than one push may carry goes up in steps. GitHub refuses a push whose pack is over
// 2 GiB, and a first sync of a long history can be more. When what this machine's commit would push
// is over the push budget (the setting pushBudgetMB), the same changes are rebuilt as a chain of
// commits of at most the budget each, ending in the same tree; all but the last are pushed one after
// another to machines/<id>, and the last goes with the cycle's own compare-and-swap, which moves main
// as it always does. Nothing counts as landed that did not: the chain is saved as this machine's head
// before the first push, so the remote branch is always part of it, and a sync stopped between
// steps is continued by the next one from what the branch holds.
import { CONFIRMED_DELETIONS } from "../../core/deletion-guard.js";
import { megabytes, MIB } from "../../core/layout.js";
import { isSegmentIndexPath, isSegmentPath, sessionFolderOf } from "../../core/segment.js";
import { compareAndSwap } from "../../git/cas.js";
import { machineBranch, TRACKED_MAIN, tracking, TRACKING_PREFIX } from "../../git/refs.js";
import type { FileChange, GitRepo } from "../../git/repo.js";
import type { IndexStore } from "../state/index-store.js";
import type { SyncContext } from "./context.js";
import { crashPoint } from "./crash-points.js";
import { planSteps, stepMessage } from "./plan.js";

export interface UploadRun {
  readonly ctx: SyncContext;
  readonly repo: GitRepo;
  readonly index: IndexStore;
}

/** What a push of `mine` carries at most: what no ref of the remote, as last fetched, reaches. */
export function pendingBytes(repo: GitRepo, mine: string): Promise<number> {
  return repo.unsharedBytes(mine, `${TRACKING_PREFIX}*`);
}

/** Past this many changed records the exact measure is taken. */
const SURE_PATHS = 10_000;
/** Room, per changed record, for the trees above it that the push carries too. */
const TREE_ROOM = 10 * 1024;

/**
 * Does a push of `mine` surely fit, known without walking the repo? `pendingBytes` walks every tree
 * the remote's refs reach, which cost an incremental sync more than anything else at size R (60 of
 * 250 ms), and more with every session. Here: the blobs that differ from main as fetched, with room
 * for their trees, under the budget. What that misses (versions between unpushed commits, a record
 * rewritten offline many times) costs at most one push the server refuses for its size, after
 * which the exact measure splits it (see stepsFor).
 */
async function surelyWithin(repo: GitRepo, mine: string, budget: number): Promise<boolean> {
  const main = await repo.revParse(TRACKED_MAIN);
  if (!main) return false;
  const blobs = await repo.changedBlobs(main, mine, SURE_PATHS);
  if (!blobs) return false;
  const bytes = (await repo.objectSizes(blobs)).reduce((sum, n) => sum + n, 0);
  return bytes + blobs.length * TREE_ROOM + MIB <= budget;
}

/**
 * The commits to push one after another for `mine`, the last standing for it: [mine] when one push
 * carries it (or no chain can be built without dropping history the remote has).
 */
export async function stepsFor({ ctx, repo, index }: UploadRun, mine: string, budget: number): Promise<string[]> {
  // Once the server refused a push for its size (the budget was lowered), only the exact measure will do.
  if (budget === ctx.settings.pushBudget && (await surelyWithin(repo, mine, budget))) return [mine];
  const pending = await pendingBytes(repo, mine);
  if (pending <= budget) return [mine];
  const from = await landedBase(repo, ctx.machine, mine);
  if (!from) return [mine];
  const steps = await rebuildInSteps(repo, from, mine, budget);
  // Before anything is pushed: whatever lands, the branch holds only commits this machine knows as its own.
  index.update({ head: steps.at(-1)! });
  ctx.log.log("info", `${megabytes(pending)} to push, over the push budget of ${megabytes(budget)} (the setting pushBudgetMB): in ${steps.length} push${steps.length === 1 ? "" : "es"}`);
  return steps;
}

/** Pushes every step but the last to our branch, in order; stops if the branch moved under us (the cycle then decides what it is). */
export async function pushSteps({ ctx, repo }: UploadRun, steps: readonly string[]): Promise<void> {
  const branch = machineBranch(ctx.machine);
  let at = await repo.revParse(tracking(branch));
  for (const [i, step] of steps.slice(0, -1).entries()) {
    const expected = at;
    const landed = await compareAndSwap(
      repo,
      ctx.remote,
      async () => {
        const still = (await repo.revParse(tracking(branch))) === expected;
        return { moves: still ? [{ branch, to: step }] : [], value: still };
      },
      { what: `push to ${ctx.log.mask(ctx.remote.url)} failed` },
    );
    if (!landed) return;
    ctx.log.log("info", `pushed step ${i + 1} of ${steps.length} to ${branch}`);
    crashPoint("between-pushes");
    at = step;
  }
}

/**
 * What a chain standing for `mine` builds on: the newest commit of mine's history the remote has,
 * through our branch (earlier steps landed) or through main. Null when no one commit holds both, or
 * our branch holds work neither mine nor main has (the cycle merges that into mine first): a chain
 * on either would leave history out that the remote has.
 */
export async function landedBase(repo: GitRepo, machine: string, mine: string): Promise<string | null> {
  const main = await repo.revParse(TRACKED_MAIN);
  const meet = main && (await repo.mergeBase(mine, main));
  if (!meet) return null;
  const branch = await repo.revParse(tracking(machineBranch(machine)));
  if (!branch || branch === meet) return meet;
  if (await repo.isAncestor(branch, mine)) {
    if (await repo.isAncestor(meet, branch)) return branch;
    return (await repo.isAncestor(branch, meet)) ? meet : null;
  }
  return (await repo.isAncestor(branch, main!)) ? meet : null;
}

/** The changes from `from` to `mine` as a chain of commits on `from`, each of at most `budget` bytes of blobs. */
async function rebuildInSteps(repo: GitRepo, from: string, given: string, budget: number): Promise<string[]> {
  let mine = given;
  let changes = await sizedChanges(repo, from, mine);
  // A segment that would fill much of a step (or not fit in one, under a server's lower limit): its session goes up record by record.
  const large = [...new Set(changes.filter((c) => isSegmentPath(c.path) && c.bytes > budget / 4).map((c) => sessionFolderOf(c.path)!))];
  if (large.length) {
    mine = await repo.rebase(mine, from, from, await repo.commitMessage(mine), [], large);
    changes = await sizedChanges(repo, from, mine);
  }
  const confirmed = await repo.pathsChangedByCommitsWith(from, given, CONFIRMED_DELETIONS);
  const items = changes.map((c) => ({ bytes: c.bytes, confirmed: confirmed.has(c.path), withNext: isSegmentIndexPath(c.path) }));
  const original = await repo.commitMessage(mine);
  const plan = planSteps(items, budget);
  const steps: string[] = [];
  let parent = from;
  for (const [i, step] of plan.entries()) {
    const message = stepMessage(original, i === plan.length - 1, step.length > 0 && items[step[0]!]!.confirmed);
    const stepChanges = step.map((k): FileChange => {
      const { path, oid } = changes[k]!;
      return [path, oid ? { oid } : null];
    });
    parent = await repo.commit({ parents: [parent], message, changes: stepChanges });
    steps.push(parent);
  }
  return steps;
}

/** The blobs that differ, as git stores them, with their sizes. */
async function sizedChanges(repo: GitRepo, from: string, mine: string): Promise<{ path: string; oid: string | null; bytes: number }[]> {
  const changes = await repo.rawDiff(from, mine);
  const sizes = await repo.objectSizes(changes.flatMap((c) => (c.oid ? [c.oid] : [])));
  let sized = 0;
  return changes.map((c) => ({ path: c.path, oid: c.oid, bytes: c.oid ? sizes[sized++]! : 0 }));
}
