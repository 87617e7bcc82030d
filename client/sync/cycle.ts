// One sync, top to bottom:
//   1. lock this machine, fetch the remote (offline is not an error)
//   2. check the repo's format, find the data key
//   3. scan OpenCode's data → records → one commit on what this machine last integrated
//   4. integrate with main: plan.ts decides (take main, fast-forward, merge here, wait for the
//      Action); every ref move is one compare-and-swap (git/cas.ts), decided again after a lost race;
//      what is too large for one push goes ahead to our branch in steps (upload.ts)
//   5. apply main here, remember the new base
// Every step can be interrupted; the next run picks up from what was saved.
import { resolve } from "node:path";
import { awaitingDecision, type Conflict } from "../../core/conflict.js";
import { megabytes, PUSH_BUDGET_FLOOR, RECORD_ROOTS } from "../../core/layout.js";
import { isSegmentPath, sessionFolderOf } from "../../core/segment.js";
import { writesSegments } from "../../git/repo-format.js";
import { vendoredActionIsOurs } from "../github/workflow.js";
import { compareAndSwap, PushError, type RefMove } from "../../git/cas.js";
import { mergeBranch, type BranchMerge } from "../../git/merge-branch.js";
import { commitMessage } from "../../core/trailers.js";
import { mergeAllBranches } from "../../git/merge-all.js";
import { pushTooLarge, refusedPaths } from "../../git/push-refusal.js";
import { MACHINES_PREFIX, machineBranch, MAIN_BRANCH, TRACKED_MAIN, tracking } from "../../git/refs.js";
import { fetchRefs } from "../../git/remote.js";
import { GitRepo } from "../../git/repo.js";
import { withRetry } from "../../git/retry.js";
import { GitError } from "../../git/run.js";
import { cacheKey, GIVE_PASSPHRASE, KEY_CHANGED, readWrappedKey, resolveKey } from "../crypto/key-store.js";
import type { KeyRing } from "../crypto/keys.js";
import { recordSigner, type RecordSigner } from "../crypto/record-mac.js";
import { recordTrust, type RecordTrust } from "./record-trust.js";
import { acquireLock } from "../platform/lock.js";
import type { Source } from "../sources/source.js";
import type { IndexStore } from "../state/index-store.js";
import { withState } from "../state/open-state.js";
import { RewrittenMainError } from "./attention.js";
import { refuseSharedId, refuseSharedIdAtPush } from "./shared-id.js";
import type { SyncOutcome } from "../state/sync-state.js";
import { applyCommit } from "./apply-remote.js";
import { listConflicts } from "./conflicts.js";
import type { SyncContext } from "./context.js";
import { crashPoint } from "./crash-points.js";
import { heldProblems, settleHeld, syncGates } from "./executable-gate.js";
import { commitSigning } from "./signing.js";
import { commitLocalChanges } from "./local-commit.js";
import { outcomeOf, planCommit, planIntegration, SKIP_CI, smallerBudget, stateAfter, type SettledIntegration } from "./plan.js";
import { CREDENTIALS_PREFIX } from "../sources/credentials.js";
import { buildSources, GATED_CATEGORIES, keepsOwnKeys } from "./sources.js";
import { checkFormat, ensureRepoFiles } from "./sync-repo.js";
import { landedBase, pendingBytes, pushSteps, stepsFor } from "./upload.js";

export interface SyncOptions {
  readonly allowMassDelete?: boolean;
  /** Main was reset or rewritten: put everything this machine has back into it (see RewrittenMainError). */
  readonly repush?: boolean;
  /** What is missing here was lost, not deleted (OpenCode reinstalled, its database wiped): bring it back from main. */
  readonly restoreMissing?: boolean;
  readonly progress?: (message: string) => void;
  /** How long to wait for another sync on this machine to finish (ms). */
  readonly lockWaitMs?: number;
  /** Told once, with its pid, when this sync starts to wait for another one. */
  readonly onLockWait?: (owner: string, waitMs: number) => void;
}

export interface SyncReport {
  readonly machine: string;
  readonly remote: string;
  readonly mode: "action" | "local";
  /** Records this run committed from local changes. */
  readonly committed: number;
  readonly applied: number;
  /** Config files applied from other machines: OpenCode reads them at start. */
  readonly appliedConfig: number;
  /** What happened to main: pushed (fast-forward), merged (locally), waiting (for the Action), pulled, none, offline. */
  readonly outcome: SyncOutcome;
  readonly main: string | null;
  readonly conflicts: readonly Conflict[];
  readonly credentials: "synced" | "skipped-no-passphrase" | "skipped-key-changed" | "disabled";
  readonly problems: readonly string[];
  /** Of the problems, those only the user can fix (a newer database schema, a credential that fails authentication). */
  readonly needsUser: readonly string[];
}

/** One run's context, handed from step to step. */
interface Run {
  readonly ctx: SyncContext;
  readonly repo: GitRepo;
  readonly index: IndexStore;
  readonly options: SyncOptions;
  readonly problems: string[];
  /** Of the problems, those only the user can fix. */
  readonly needsUser: string[];
  readonly warn: (message: string) => void;
}

export async function runSync(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncReport> {
  const waitMs = options.lockWaitMs ?? 60_000;
  const lock = await acquireLock(ctx.paths.lock, waitMs, (owner) => options.onLockWait?.(owner, waitMs));
  // In the log, so two processes' syncs can be told apart in time (the lock is what keeps them apart).
  ctx.log.log("info", `holding the sync lock in pid ${process.pid}`);
  try {
    // The embedded default remote is a bare repo on disk that nobody else creates.
    if (ctx.embedded) await GitRepo.open(ctx.remote.url);
    return await withState(ctx, ({ repo, index }) => {
      const problems: string[] = [];
      // The report carries each warning to the user (the CLI prints it, the plugin's tool answers with it): not echoed as well.
      const warn = (m: string) => {
        ctx.log.reported(m);
        problems.push(m);
      };
      return cycle({ ctx, repo, index, options, problems, needsUser: [], warn });
    });
  } finally {
    ctx.log.log("info", `releasing the sync lock in pid ${process.pid}`);
    await lock.release();
  }
}

async function cycle(run: Run): Promise<SyncReport> {
  const { ctx, repo, index, options } = run;
  const offline = await fetchOrOffline(run);
  crashPoint("after-fetch");
  const repushing = await joinRemote(run, offline);
  const { base, head } = index.state;
  // Before anything is committed: a change committed under an id another machine also uses could not be told apart from its changes.
  await refuseSharedId(repo, index, ctx.machine, offline);
  const { key, stale, main } = await prepareRepo(ctx, repo, offline ? base : await repo.revParse(TRACKED_MAIN), offline);
  const segments = offline || !main ? undefined : segmentsAllowed(ctx, repo, main);
  const credentials = !ctx.settings.categories.credentials ? "disabled" : key ? "synced" : stale ? "skipped-key-changed" : "skipped-no-passphrase";
  if (credentials === "skipped-no-passphrase") ctx.log.log("info", `credentials not synced: no passphrase (${GIVE_PASSPHRASE})`);
  if (credentials === "skipped-key-changed") {
    run.warn(KEY_CHANGED);
    run.needsUser.push(KEY_CHANGED);
  }
  // `ask`: what this machine keeps until the user decides, as of what it last integrated, then of what it applies.
  const undecided = new Map<string, string[][]>();
  // Each git process costs this process a fork, dearer the larger it is: the conflicts of a commit are read once.
  const conflictsAt = new Map<string | null, Promise<Conflict[]>>();
  const conflictsOf = (commit: string | null) => conflictsAt.get(commit) ?? conflictsAt.set(commit, listConflicts(repo, commit)).get(commit)!;
  const awaiting = async (commit: string | null) => refill(undecided, awaitingDecision(await conflictsOf(commit), ctx.machine));
  const signer = key && recordSigner(key);
  const trust = signer && recordTrust(repo, signer);
  const sources = buildSources(ctx.settings, ctx.opencode, key, run.warn, syncGates(index.held, trust), undecided);
  await awaiting(base);
  // A machine that applies what OpenCode executes unreviewed may hold anyone's config: it signs only credentials (gated still).
  const unchecked = (p: string) => ctx.settings.trustExecutable && !p.startsWith(CREDENTIALS_PREFIX);
  const local = await commitLocal(run, sources, { base, head, main, signer, trust, segments, keepsOwn: (p) => unchecked(p) || keepsOwnKeys(ctx.settings, p) || (undecided.get(p)?.length ?? 0) > 0 });
  crashPoint("after-commit");
  const report = { machine: ctx.machine, remote: ctx.log.mask(ctx.remote.url), mode: ctx.mode, committed: local.changed, credentials, problems: run.problems } as const;
  if (offline) {
    index.update({ lastSync: { at: Date.now(), outcome: "offline" } });
    return { ...report, applied: 0, appliedConfig: 0, outcome: "offline", main: base, conflicts: [], needsUser: run.needsUser };
  }
  const integrated = await integrate(run, sources, local);
  const { outcome } = integrated;
  // In local mode no Action folds a branch main lacks (main rewritten, a machine that took a new id): every sync does.
  const orphans = repushing || (ctx.mode === "local" && (await repo.refsNotIn(tracking(MACHINES_PREFIX), integrated.target)));
  const target = orphans ? await putBackBranches(run, integrated.target) : integrated.target;
  await awaiting(target);
  const applied = await applyCommit(repo, index, sources, target, { share: ctx.settings.massDeleteShare, allow: options.allowMassDelete ?? false }, options.progress);
  for (const p of applied.problems) run.warn(p);
  run.needsUser.push(...applied.needsUser);
  if (trust) await settleHeld(repo, index, sources, target, trust);
  for (const p of heldProblems(index.held)) {
    run.warn(p);
    run.needsUser.push(p);
  }
  // A rejoin offers everything this machine has; credentials it could not read (no key yet) are
  // offered once it can: what it knew of them belongs to the other remote (history seed 1103 of the
  // long run: after a detour, a credential written there never reached main, and main's never came back).
  if (index.state.rejoin && credentials.startsWith("skipped")) index.forget(CREDENTIALS_PREFIX);
  // Joined: what was remembered of this remote from leaving it is history now (a later rejoin of it, --repush, must not check against it).
  index.update({ lastSync: { at: Date.now(), outcome }, rejoin: false, distrusted: null, left: { [index.state.remote ?? ""]: null }, ...stateAfter(outcome, target, applied.editedHere > 0) });
  await repo.maintain();
  ctx.log.log("info", `sync ${outcome}: main ${target}, ${applied.applied} record(s) applied, ${applied.skippedPending} waiting for a merge, ${applied.waiting} to place next time`);
  return { ...report, applied: applied.applied, appliedConfig: applied.bySource.config ?? 0, needsUser: run.needsUser, outcome, main: target, conflicts: await conflictsOf(target) };
}

/** Fetches the remote; unreachable means offline (local changes are committed and pushed next time). */
function refill<K, V>(map: Map<K, V>, from: ReadonlyMap<K, V>): void {
  map.clear();
  for (const [k, v] of from) map.set(k, v);
}

async function fetchOrOffline({ ctx, repo, warn }: Run): Promise<boolean> {
  try {
    await withRetry(() => fetchRefs(repo, ctx.remote), { attempts: 3, baseMs: 300, retryable: (e) => e instanceof GitError && e.kind === "network" });
    return false;
  } catch (e) {
    if (e instanceof GitError && e.kind === "auth") throw new Error(authFailed(ctx.log.mask(ctx.remote.url)));
    if (!(e instanceof GitError) || e.kind !== "network") throw e;
    warn(`remote unreachable (${e.message}); local changes are kept and will be pushed on the next sync`);
    return true;
  }
}

/** The remote as this machine's state knows it: its URL without credentials, or its path. */
function remoteIdentity(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url.replace(/\/\/[^/@]*@/, "//") : resolve(url);
}

/**
 * The state belongs to one remote and one history of its main. A new remote: start over with it,
 * uploading every version this machine has. Main no longer holding what this machine last synced
 * (reset, force-pushed, recreated): stop, unless the user asked to put everything back (--repush).
 * Returns whether this sync puts everything back.
 */
async function joinRemote({ ctx, repo, index, options, warn }: Run, offline: boolean): Promise<boolean> {
  const id = remoteIdentity(ctx.remote.url);
  const { remote, base } = index.state;
  if (remote === null) index.update({ remote: id });
  else if (remote !== id) {
    ctx.log.log("info", `remote changed from ${remote} to ${id}: this machine uploads everything it has, merged with what is there`);
    index.rejoin(id);
    return false;
  }
  if (offline || base === null) return false;
  const main = await repo.revParse(TRACKED_MAIN);
  if (main !== null && (main === base || (await repo.isAncestor(base, main)))) return false;
  if (!options.repush) throw new RewrittenMainError(ctx.log.mask(ctx.remote.url), base);
  warn(`main no longer holds ${base}: putting everything this machine has back into it (--repush)`);
  index.rejoin(id);
  return true;
}

/**
 * What every machine branch holds that main lacks goes into main: after a rewritten main, a record
 * main lost may be on no machine any more (restored from a backup since), only on its branch.
 */
async function putBackBranches({ ctx, repo }: Run, main: string): Promise<string> {
  const r = await mergeAllBranches(repo, ctx.remote, { strategy: ctx.settings.strategy, who: `oc-sync: ${ctx.machine} --repush ${SKIP_CI}`, machine: ctx.machine });
  for (const m of r.machines) ctx.log.log("info", `put back what ${machineBranch(m.machine)} held: ${m.result?.changed.length ?? 0} record(s)`);
  return r.after ?? main;
}

/**
 * Whether sessions new to the repo are written as segments, asked once a sync has one: only into a
 * repo whose format says so (an older oc-sync refuses it; offline, the repo may turn out older),
 * and in action mode only while main's Action can read them.
 */
function segmentsAllowed(ctx: SyncContext, repo: GitRepo, main: string): () => Promise<boolean> {
  let allowed: Promise<boolean> | undefined;
  return () => (allowed ??= (async () => {
    if (!(await writesSegments(repo, main))) return false;
    if (ctx.mode !== "action" || (await vendoredActionIsOurs(repo, main))) return true;
    ctx.log.log("info", "new sessions are written one blob per row: the merge Action in the sync repo is not this oc-sync's (run 'oc-sync github' to install it)");
    return false;
  })());
}

/**
 * Checks the repo format and finds the data key; on a new repo writes the format marker and the
 * wrapped key. If another machine set the key up first, its key is the one used.
 */
async function prepareRepo(ctx: SyncContext, repo: GitRepo, main: string | null, offline: boolean): Promise<{ key: KeyRing | null; stale?: boolean; main: string | null }> {
  await checkFormat(repo, main);
  const branchTips = async () => (await repo.listRefs(tracking(MACHINES_PREFIX))).map((r) => r.oid);
  const keyed = await resolveKey(repo, main, ctx.paths.dataKey, ctx.settings.passphrase, branchTips);
  // Offline, a new key cannot be published yet: credentials wait rather than use an unshared key.
  if (offline) return { key: keyed.create ? null : keyed.key, stale: keyed.stale, main };
  if (main && !keyed.create) return { key: keyed.key, stale: keyed.stale, main };
  const ready = await ensureRepoFiles(repo, ctx.remote, keyed.create, ctx.machine, keyed.replaces);
  if (!keyed.create) return { key: keyed.key, main: ready };
  const published = await readWrappedKey(repo, ready);
  if (published?.keyId === keyed.create.keyId) {
    if (keyed.replaces) ctx.log.log("info", `the sync repo's key was one this machine's key replaced (main went back past a passphrase change): the newer key is back`);
    await cacheKey(ctx.paths.dataKey, keyed.key!.current, keyed.create);
    return { key: keyed.key, main: ready };
  }
  return { key: (await resolveKey(repo, ready, ctx.paths.dataKey, ctx.settings.passphrase)).key, main: ready };
}

interface LocalResult {
  /** This machine's commits that main may lack (null: none). */
  readonly mine: string | null;
  readonly changed: number;
  readonly earlierInMain: boolean;
  /** Commits known to be this machine's: its base, its head before this sync, its new commit. */
  readonly ours: readonly (string | null)[];
}

/** Scans, commits what changed where planCommit says, and saves the index with the new head. */
async function commitLocal(run: Run, sources: readonly Source[], at: { base: string | null; head: string | null; main: string | null; signer: RecordSigner | null; trust: RecordTrust | null; segments: (() => Promise<boolean>) | undefined; keepsOwn: (path: string) => boolean }): Promise<LocalResult> {
  const { base, head, main } = at;
  const { ctx, repo, index, options } = run;
  const plan = planCommit({
    mode: ctx.mode,
    base,
    head,
    main,
    firstParent: base === null ? await firstParent(repo, main) : null,
    headInMain: head !== null && head !== base && main !== null && (await repo.isAncestor(head, main)),
  });
  const signing = commitSigning(repo, index, at.signer, at.trust, sources.filter((s) => GATED_CATEGORIES.includes(s.category)), at.keepsOwn);
  const message = (skip: boolean) => commitMessage(`oc-sync: ${ctx.machine} local changes${skip ? ` ${SKIP_CI}` : ""}`, { machine: ctx.machine, confirmedDeletions: options.allowMassDelete });
  const local = await commitLocalChanges(repo, index, sources, {
    machine: ctx.machine,
    parent: plan.parent,
    seen: base,
    main,
    message: message(plan.skipCi),
    massDeleteShare: ctx.settings.massDeleteShare,
    recordLimit: ctx.settings.recordLimit,
    allowMassDelete: options.allowMassDelete ?? false,
    now: Date.now,
    rejoin: index.state.rejoin,
    distrusted: index.state.distrusted?.machine === ctx.machine ? null : index.state.distrusted,
    restoreMissing: options.restoreMissing ?? false,
    progress: (n) => options.progress?.(`committed ${n} records…`),
    warn: run.warn,
    // A pending head a killed sync built on a newer main holds versions this machine never applied: measured against it (seed 3070).
    lagging: base === null ? undefined : await laggingSources(repo, index, sources, plan.parent === head && head !== null ? head : base),
    strategy: ctx.settings.strategy,
    sign: signing.sign,
    signMerged: signing.signMerged,
    countersign: signing.countersign,
    segments: at.segments,
  });
  let mine = local.commit;
  if (mine && plan.onNewerMain && (await collides(repo, plan.own, main!, mine))) mine = await repo.rebase(mine, main!, plan.own, message(plan.skipCiIfRebased));
  mine ??= plan.earlierInMain ? null : head;
  const tip = mine ?? head;
  const state = { ...local.state, ...signing.state };
  index.save(local.entries, tip ? { ...state, head: tip } : state);
  if (local.changed) ctx.log.log("info", `committed ${local.changed} local change(s) as ${mine}`);
  return { mine, changed: local.changed, earlierInMain: plan.earlierInMain, ours: [base, head, mine] };
}

/** Sources whose records were last applied from a commit before `parent` (what the commit builds on), or never. */
async function laggingSources(repo: GitRepo, index: IndexStore, sources: readonly Source[], parent: string): Promise<Set<string>> {
  const lagging = new Set<string>();
  for (const { category } of sources) {
    const mark = index.state.applied(category);
    if (mark === null || (mark !== parent && (await repo.isAncestor(mark, parent)))) lagging.add(category);
  }
  return lagging;
}

interface Integrated {
  readonly outcome: SyncOutcome;
  /** The main commit to apply here. */
  readonly target: string;
}

/** Brings this machine's commits and main together by compare-and-swap; a lost race fetches and plans again. */
async function integrate(run: Run, sources: readonly Source[], local: LocalResult): Promise<Integrated> {
  const { ctx, repo, index } = run;
  let mine = local.mine;
  // Work of our branch this machine no longer has (a restored backup) merged into mine: not all of mine is here.
  let keptBranch = false;
  const step = async () => {
    crashPoint("before-push");
    const main = await repo.revParse(TRACKED_MAIN);
    const branch = await repo.revParse(tracking(machineBranch(ctx.machine)));
    if (!index.state.rejoin && local.ours[0] !== null) await refuseSharedIdAtPush(repo, index, ctx.machine, branch, [...local.ours, mine, index.state.pushed]);
    const kept = await keepingBranch(repo, ctx, branch, main, mine);
    keptBranch ||= kept !== mine;
    mine = kept;
    const mineInMain = !mine || (main !== null && (mine === main || (await repo.isAncestor(mine, main))));
    const facts = { mode: ctx.mode, base: index.state.base, main, mine, mineInMain, mainInMine: !mineInMain && (main === null || (await repo.isAncestor(main, mine!))), earlierInMain: local.earlierInMain, branchAtMine: branch === mine };
    const first = planIntegration(facts);
    let plan: SettledIntegration;
    let merge: BranchMerge | undefined;
    if (first.kind === "merge-first") {
      merge = await mergeBranch(repo, main!, mine!, { strategy: ctx.settings.strategy, message: commitMessage(`oc-sync: ${ctx.machine} merged into main ${SKIP_CI}`, { machine: ctx.machine, merged: ctx.machine }) });
      plan = planIntegration({ ...facts, mergeConflicts: merge.result?.conflicts.length ?? 0 });
    } else plan = first;
    if (plan.kind === "wait-for-action" && plan.pushBranch) {
      mine = await withoutSkipCi(repo, mine!, ctx.machine);
      // Saved before the push: whatever the push's fate, the branch holds only commits this machine knows as its own.
      index.update({ head: mine });
    }
    const moves = movesFor(plan, ctx.machine, mine, merge);
    // Saved before the push, so a sync killed after it still knows the branch as its own (see shared-id.ts).
    const ownMove = moves.find((m) => m.branch === machineBranch(ctx.machine));
    if (ownMove) index.update({ pushed: ownMove.to });
    return { moves, value: { plan, main, merge } };
  };
  const onRace = (refs: readonly string[]) => ctx.log.log("info", `lost a race for ${refs.join(", ")}; fetching and trying again`);
  const dropped = new Set<string>();
  let budget = ctx.settings.pushBudget;
  let done;
  for (;;) {
    try {
      // What one push may not carry goes ahead to our branch in steps; the compare-and-swap pushes the last.
      const steps = mine ? await stepsFor(run, mine, budget) : [];
      mine = steps.at(-1) ?? mine;
      await pushSteps(run, steps);
      done = await compareAndSwap(repo, ctx.remote, step, { what: `push to ${ctx.log.mask(ctx.remote.url)} failed`, onRace });
      break;
    } catch (e) {
      if (e instanceof PushError && e.reason === "auth") throw new Error(authFailed(ctx.log.mask(ctx.remote.url)));
      if (!(e instanceof PushError) || e.reason !== "refused" || !mine) throw e;
      if (pushTooLarge(e.message)) budget = await smallerSteps(run, e, mine, budget);
      else mine = await withoutRefused(run, e, mine, dropped);
    }
  }
  const { plan, main, merge } = done;
  if (plan.kind === "fast-forward" && main && !keptBranch) await markOwnChangesApplied(repo, index, sources, main, mine!);
  if (plan.kind === "push-merge") for (const c of merge?.result?.conflicts ?? []) ctx.log.log("info", `conflict ${c.id} in ${c.path} ${c.at}: kept ${c.kept.writer}'s value (${c.strategy})`);
  for (const d of merge?.damaged ?? []) run.needsUser.push(`${d}; left as main has it`);
  const target = plan.kind === "fast-forward" ? mine! : plan.kind === "push-merge" ? merge!.commit! : main!;
  return { outcome: outcomeOf(plan), target };
}

/** Where this machine's pending changes start: where its commit meets main (or nothing, on an empty remote). */
async function pendingFrom(repo: GitRepo, mine: string): Promise<string | null> {
  const main = await repo.revParse(TRACKED_MAIN);
  return main ? repo.mergeBase(mine, main) : null;
}

/** After the server refused a push for its size (its limit is below our budget): the budget for smaller steps. */
async function smallerSteps({ ctx, repo }: Run, e: PushError, mine: string, budget: number): Promise<number> {
  const pending = await pendingBytes(repo, mine);
  const smaller = smallerBudget(budget, pending);
  const pushed = megabytes(Math.min(budget, pending));
  if (smaller === null) throw new PushError("refused", `${e.message}; the server refuses a push of ${pushed} as too large, and oc-sync pushes no smaller steps than ${megabytes(PUSH_BUDGET_FLOOR)}: raise the server's limit on one push`);
  ctx.log.log("info", `the server refused a push of ${pushed} as too large; pushing in steps of at most ${megabytes(smaller)}`);
  return smaller;
}

/**
 * After the server refused records of this machine's pending changes: the commit again without them.
 * Thrown on when it names none of ours.
 */
async function withoutRefused(run: Run, e: PushError, mine: string, dropped: Set<string>): Promise<string> {
  const { records: refused, segments } = await refusedOfOurs(run.repo, e.message, mine, dropped);
  if (!refused.length && !segments.length) throw e;
  const rebuilt = await withoutRecords(run.repo, run.ctx.machine, mine, refused, segments.map((p) => sessionFolderOf(p)!));
  run.index.update({ head: rebuilt });
  // A refused segment: its session's records go up one by one, and the server then names the one it refuses.
  for (const path of segments) dropped.add(path);
  for (const path of refused) {
    dropped.add(path);
    const message = `${path}: the server refused it (${e.message}); it stays as it is on this machine and is not uploaded, everything else syncs; change or delete it and it is offered again`;
    run.warn(message);
    run.needsUser.push(message);
  }
  return rebuilt;
}

/** What a server's refusal names of this machine's pending changes (not dropped already): records, and segment files. */
async function refusedOfOurs(repo: GitRepo, serverText: string, mine: string, dropped: ReadonlySet<string>): Promise<{ records: string[]; segments: string[] }> {
  const named = refusedPaths(serverText).filter((p) => !dropped.has(p));
  if (!named.length) return { records: [], segments: [] };
  const from = await pendingFrom(repo, mine);
  const ours = new Set((await repo.diff(from, mine)).map((c) => c.path));
  const segments = named.some(isSegmentPath) ? new Set((await repo.rawDiff(from, mine)).filter((c) => isSegmentPath(c.path) && c.oid).map((c) => c.path)) : new Set<string>();
  return { records: named.filter((p) => ours.has(p)), segments: named.filter((p) => segments.has(p)) };
}

/**
 * This machine's pending changes again as one commit, without the records the server refused: their
 * blobs are in no commit to push any more. The index keeps their versions as this machine's own (a
 * version only here), so the apply leaves them alone and a later edit offers them again. Built on
 * what already landed of them (steps of a large sync), so our branch stays part of it.
 */
async function withoutRecords(repo: GitRepo, machine: string, mine: string, refused: readonly string[], unpack: readonly string[]): Promise<string> {
  const from = (await landedBase(repo, machine, mine)) ?? (await pendingFrom(repo, mine));
  return repo.rebase(mine, from, from, await repo.commitMessage(mine), refused, unpack);
}

/**
 * Our branch may hold work this machine no longer knows (a merge of its own pushed before it was
 * killed, commits of a backup restored since) that main lacks: the commit that moves the branch must
 * contain it, or the push would drop it.
 */
async function keepingBranch(repo: GitRepo, ctx: SyncContext, branch: string | null, main: string | null, mine: string | null): Promise<string | null> {
  if (!mine || !branch || branch === mine || (await repo.isAncestor(branch, mine)) || (main !== null && (await repo.isAncestor(branch, main)))) return mine;
  ctx.log.log("info", `${machineBranch(ctx.machine)} holds work main lacks: merged into this sync's commit`);
  // Nothing of mine that the branch lacks (a restored machine's commit, made again as it was): the branch holds both.
  return (await mergeBranch(repo, branch, mine, { strategy: ctx.settings.strategy, message: commitMessage(`oc-sync: ${ctx.machine} kept its branch ${SKIP_CI}`, { machine: ctx.machine }) })).commit ?? branch;
}

/** The refs a plan moves: main and our branch together, or our branch alone. */
function movesFor(plan: SettledIntegration, machine: string, mine: string | null, merge: BranchMerge | undefined): RefMove[] {
  const both = (to: string): RefMove[] => [
    { branch: MAIN_BRANCH, to },
    { branch: machineBranch(machine), to },
  ];
  switch (plan.kind) {
    case "fast-forward":
      return both(mine!);
    case "push-merge":
      return both(merge!.commit!);
    case "wait-for-action":
      return plan.pushBranch ? [{ branch: machineBranch(machine), to: mine! }] : [];
    case "take-main":
      return [];
  }
}

function authFailed(url: string): string {
  return `the remote ${url} refused oc-sync's credentials: the token is missing, expired or revoked, or cannot access this repository. Set a valid token in OC_SYNC_TOKEN or GITHUB_TOKEN (or run 'gh auth login'); nothing was changed`;
}

/**
 * After a fast-forward from `from` to `mine`, every change in between is ours and already here: a
 * source with nothing left to apply up to `from` is applied up to `mine`, so the apply does not read
 * back what we just pushed (on a first sync, every record).
 */
async function markOwnChangesApplied(repo: GitRepo, index: IndexStore, sources: readonly Source[], from: string, mine: string): Promise<void> {
  const applied: Record<string, string> = {};
  for (const s of sources) {
    const mark = index.state.applied(s.category);
    if (mark === from || (await repo.diff(mark, from, s.prefixes)).length === 0) applied[s.category] = mine;
  }
  index.update({ applied });
}

/** A branch push must start a workflow run: its head commit must not say [skip ci]. */
async function withoutSkipCi(repo: GitRepo, commit: string, machine: string): Promise<string> {
  if (!(await repo.commitMessage(commit)).includes(SKIP_CI)) return commit;
  return repo.commit({ parents: [commit], message: commitMessage(`oc-sync: ${machine} needs a merge`, { machine }), changes: [] });
}

/** Did main change any record that our commit (built on main) changes too, since what we had seen? */
async function collides(repo: GitRepo, seen: string | null, main: string, mine: string): Promise<boolean> {
  const ours = new Set((await repo.diff(main, mine)).map((c) => c.path));
  return (await repo.diff(seen, main)).some((c) => ours.has(c.path));
}

const RECORD_FOLDERS = RECORD_ROOTS.map((root) => root.slice(0, -1));

/**
 * What a machine's first commit builds on. Not main itself once main holds records: this machine
 * has seen none of them, so the merge base must hold none, or a three-way merge would take main's
 * versions as already seen. The repo's set-up commit (format marker, workflow) is such a base, and
 * descending from it keeps the workflow in the branch (GitHub runs only workflows the pushed commit has).
 */
async function firstParent(repo: GitRepo, main: string | null): Promise<string | null> {
  if (!main) return null;
  if (!(await repo.hasFolders(main, RECORD_FOLDERS))) return main;
  const root = (await repo.rootCommits(main)).at(-1);
  return root && !(await repo.hasFolders(root, RECORD_FOLDERS)) ? root : null;
}
