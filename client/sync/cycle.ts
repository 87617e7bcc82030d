// One sync: lock → fetch → scan and commit local changes on the base → integrate with main
// (fast-forward by CAS, or merge: locally, or by the Action) → apply → remember the new base.
// Every step can be interrupted; the next run picks up from what was saved.
import { CONFLICTS_DIR, RECORD_ROOTS } from "../../core/layout.js";
import type { Conflict } from "../../core/conflict.js";
import { mergeBranch, readRecords } from "../../git/merge-branch.js";
import { fetchRefs, pushAtomic, type PushResult } from "../../git/remote.js";
import { GitRepo } from "../../git/repo.js";
import { sleep, backoffMs, withRetry } from "../../git/retry.js";
import { GitError } from "../../git/run.js";
import { cacheKey, readWrappedKey, resolveKey } from "../crypto/key-store.js";
import { acquireLock } from "../platform/lock.js";
import { openDatabase } from "../platform/sqlite.js";
import { IndexStore } from "../state/index-store.js";
import type { Source } from "../sources/source.js";
import { appliedKey, applyCommit } from "./apply-remote.js";
import type { SyncContext } from "./context.js";
import { crashPoint } from "./crash-points.js";
import { commitLocalChanges } from "./local-commit.js";
import { buildSources } from "./sources.js";
import { checkFormat, ensureRepoFiles, MAIN } from "./sync-repo.js";

export interface SyncOptions {
  readonly allowMassDelete?: boolean;
  readonly progress?: (message: string) => void;
  /** How long to wait for another sync on this machine to finish (ms). */
  readonly lockWaitMs?: number;
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
  readonly outcome: "fast-forward" | "merged" | "waiting-for-action" | "pulled" | "up-to-date" | "offline";
  readonly main: string | null;
  readonly conflicts: readonly Conflict[];
  readonly credentials: "synced" | "skipped-no-passphrase" | "disabled";
  readonly problems: readonly string[];
}

const SKIP_CI = "[skip ci]";
const branchRef = (machine: string) => `machines/${machine}`;
const remoteBranchRef = (machine: string) => `refs/remotes/sync/machines/${machine}`;

async function openState(ctx: SyncContext): Promise<{ repo: GitRepo; index: IndexStore }> {
  const repo = await GitRepo.open(ctx.paths.repo);
  const index = new IndexStore(await openDatabase(ctx.paths.stateDb, { busyTimeoutMs: 10_000 }));
  return { repo, index };
}

/** Runs `fn` with the local repo and index open, and closes both however it ends. */
export async function withState<T>(ctx: SyncContext, fn: (state: { repo: GitRepo; index: IndexStore }) => Promise<T>): Promise<T> {
  const state = await openState(ctx);
  try {
    return await fn(state);
  } finally {
    state.repo.close();
    state.index.close();
  }
}

export async function runSync(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncReport> {
  const lock = await acquireLock(ctx.paths.lock, options.lockWaitMs ?? 60_000);
  const { repo, index } = await openState(ctx);
  try {
    if (ctx.embedded) await GitRepo.open(ctx.remote.url);
    return await cycle(ctx, repo, index, options);
  } finally {
    repo.close();
    index.close();
    await lock.release();
  }
}

async function cycle(ctx: SyncContext, repo: GitRepo, index: IndexStore, options: SyncOptions): Promise<SyncReport> {
  const { machine, log } = ctx;
  const problems: string[] = [];
  const warn = (m: string) => {
    log.log("warn", m);
    problems.push(m);
  };

  // 1. fetch (offline is not an error: local changes are committed and pushed next time)
  let offline = false;
  try {
    await withRetry(() => fetchRefs(repo, ctx.remote), { attempts: 3, baseMs: 300, retryable: (e) => e instanceof GitError && e.kind === "network" });
  } catch (e) {
    if (e instanceof GitError && e.kind === "auth") throw new Error(authFailed(log.mask(ctx.remote.url)));
    if (!(e instanceof GitError) || e.kind !== "network") throw e;
    offline = true;
    warn(`remote unreachable (${e.message}); local changes are kept and will be pushed on the next sync`);
  }
  crashPoint("after-fetch");
  const base = index.getMeta("base") ?? null;
  const head = index.getMeta("head") ?? base;

  const { key, main: readyMain } = await prepareRepo(ctx, repo, offline ? base : await repo.revParse(MAIN), offline);
  let main = readyMain;
  const credentials = !ctx.settings.categories.credentials ? "disabled" : key ? "synced" : "skipped-no-passphrase";
  if (credentials === "skipped-no-passphrase") log.log("info", "credentials not synced: no passphrase (set OC_SYNC_PASSPHRASE or run 'oc-sync init')");
  const sources = buildSources(ctx.settings, ctx.opencode, key, warn);

  // 2. scan → records → commit
  const seen = base ?? (await firstParent(repo, main));
  const merged = head === null || head === base || (main !== null && (await repo.isAncestor(head, main)));
  // Everything of ours is in main: build on main itself, so the push can fast-forward without a merge.
  const onMain = merged && main !== null && main !== seen;
  const own = merged ? seen : head;
  const message = (skip: boolean) => `oc-sync: ${machine} local changes${skip ? " " + SKIP_CI : ""}`;
  const local = await commitLocalChanges(repo, index, sources, {
    machine,
    parent: onMain ? main : own,
    message: message(ctx.mode === "local" || merged),
    massDeleteShare: ctx.settings.massDeleteShare,
    allowMassDelete: options.allowMassDelete ?? false,
    now: Date.now,
    progress: (n) => options.progress?.(`committed ${n} records…`),
    warn,
  });
  let mine = local.commit;
  // A record we changed that main changed too must be merged, not overwritten: move our commit onto what we had seen.
  if (mine && onMain && (await collides(repo, own, main!, mine))) {
    mine = await repo.rebase(mine, main!, own, message(ctx.mode === "local"));
  }
  mine ??= merged ? null : head;
  index.save(local.entries, { head: mine ?? head, ...local.meta });
  if (local.changed) log.log("info", `committed ${local.changed} local change(s) as ${mine}`);
  crashPoint("after-commit");

  const report = (outcome: SyncReport["outcome"], applied: number, newMain: string | null): SyncReport => ({
    machine,
    remote: log.mask(ctx.remote.url),
    mode: ctx.mode,
    committed: local.changed,
    applied,
    appliedConfig: 0,
    outcome,
    main: newMain,
    conflicts: [],
    credentials,
    problems,
  });
  if (offline) {
    index.setMeta({ lastSync: JSON.stringify({ at: Date.now(), outcome: "offline" }) });
    return report("offline", 0, base);
  }

  // 3. integrate with main, retrying from a fresh fetch whenever another writer won the race
  for (let attempt = 0; ; attempt++) {
    main = await repo.revParse(MAIN);
    const remoteBranch = await repo.revParse(remoteBranchRef(machine));
    crashPoint("before-push");
    let outcome: SyncReport["outcome"];
    let target: string;
    let pushed: PushResult = { ok: true };
    if (!mine || (main && (mine === main || (await repo.isAncestor(mine, main))))) {
      // Nothing of ours that main lacks: just take main.
      outcome = main === base ? "up-to-date" : "pulled";
      target = main!;
    } else if (!main || (await repo.isAncestor(main, mine))) {
      outcome = "fast-forward";
      target = mine;
      pushed = await pushAtomic(repo, ctx.remote, [
        { ref: "main", oid: mine, expected: main },
        { ref: branchRef(machine), oid: mine, expected: remoteBranch },
      ]);
      if (pushed.ok && main) await markOwnChangesApplied(repo, index, sources, main, mine);
    } else {
      // The same reconcile the Action runs. In Action mode it is done here only when all our earlier
      // changes are in main and nothing conflicts: a new edit meeting main's newer version of a record
      // would otherwise start a run on every sync. Conflicts, and branches still waiting, go to the
      // Action, which decides by the repo's strategy and keeps the audit trail.
      const merge = ctx.mode === "local" || merged ? await mergeBranch(repo, main, mine, { strategy: ctx.settings.strategy, message: `oc-sync: ${machine} merged into main ${SKIP_CI}` }) : null;
      if (merge && (ctx.mode === "local" || !merge.result?.conflicts.length)) {
        outcome = "merged";
        target = merge.commit!;
        pushed = await pushAtomic(repo, ctx.remote, [
          { ref: "main", oid: target, expected: main },
          { ref: branchRef(machine), oid: target, expected: remoteBranch },
        ]);
        if (pushed.ok) for (const c of merge.result?.conflicts ?? []) log.log("warn", `conflict ${c.id} in ${c.path} ${c.at}: kept ${c.kept.writer}'s value (${c.strategy})`);
      } else {
        outcome = "waiting-for-action";
        target = main;
        if (remoteBranch !== mine) {
          mine = await withoutSkipCi(repo, mine, machine);
          pushed = await pushAtomic(repo, ctx.remote, [{ ref: branchRef(machine), oid: mine, expected: remoteBranch }]);
          if (pushed.ok) index.setMeta({ head: mine });
        }
      }
    }
    if (!pushed.ok) {
      if (pushed.reason === "auth") throw new Error(authFailed(log.mask(ctx.remote.url)));
      if (pushed.reason !== "rejected" || attempt >= 6) throw new Error(`push to ${log.mask(ctx.remote.url)} failed: ${pushed.message}`);
      log.log("info", `lost a race for ${pushed.refs.join(", ") || "main"}; fetching and trying again`);
      await sleep(backoffMs(attempt, 200, 5000));
      await fetchRefs(repo, ctx.remote);
      continue;
    }
    if (outcome !== "waiting-for-action") await repo.updateRef(MAIN, target);
    const applied = await applyCommit(repo, index, sources, target);
    for (const p of applied.problems) warn(p);
    const lastSync = JSON.stringify({ at: Date.now(), outcome });
    // A record edited here during this sync still holds the version the old base had: keeping that
    // base makes the next sync's commit of the edit collide with main and merge, not overwrite.
    const meta: Record<string, string> = { lastSync };
    if (!applied.editedHere) meta.base = target;
    if (outcome !== "waiting-for-action") meta.head = target;
    index.setMeta(meta);
    await repo.maintain();
    log.log("info", `sync ${outcome}: main ${target}, ${applied.applied} record(s) applied, ${applied.skippedPending} waiting for a merge, ${applied.waiting} to place next time`);
    return { ...report(outcome, applied.applied, target), appliedConfig: applied.bySource.config ?? 0, conflicts: await listConflicts(repo, target) };
  }
}

/**
 * Checks the repo format and finds the data key; on a new repo writes the format marker and the
 * wrapped key. If another machine set the key up first, its key is the one used.
 */
async function prepareRepo(ctx: SyncContext, repo: GitRepo, main: string | null, offline: boolean): Promise<{ key: Buffer | null; main: string | null }> {
  await checkFormat(repo, main);
  const keyed = await resolveKey(repo, main, ctx.paths.dataKey, ctx.settings.passphrase);
  // Offline, a new key cannot be published yet: credentials wait rather than use an unshared key.
  if (offline) return { key: keyed.create ? null : keyed.key, main };
  if (main && !keyed.create) return { key: keyed.key, main };
  const ready = await ensureRepoFiles(repo, ctx.remote, keyed.create);
  if (!keyed.create) return { key: keyed.key, main: ready };
  const published = await readWrappedKey(repo, ready);
  if (published?.keyId === keyed.create.keyId) {
    await cacheKey(ctx.paths.dataKey, keyed.key!);
    return { key: keyed.key, main: ready };
  }
  return { key: (await resolveKey(repo, ready, ctx.paths.dataKey, ctx.settings.passphrase)).key, main: ready };
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
  const marks: Record<string, string> = {};
  for (const s of sources) {
    const mark = index.getMeta(appliedKey(s)) ?? null;
    if (mark === from || (await repo.diff(mark, from, s.prefixes)).length === 0) marks[appliedKey(s)] = mine;
  }
  index.setMeta(marks);
}

/** A branch push must start a workflow run: its head commit must not say [skip ci]. */
async function withoutSkipCi(repo: GitRepo, commit: string, machine: string): Promise<string> {
  const message = (await repo.git(["log", "-1", "--format=%B", commit])).stdout.toString();
  if (!message.includes(SKIP_CI)) return commit;
  return repo.commit({ parents: [commit], message: `oc-sync: ${machine} needs a merge`, changes: [] });
}

/** Whether a record folder is at the commit's top (git keeps no empty folders): not a listing of every record. */
async function holdsRecords(repo: GitRepo, commit: string): Promise<boolean> {
  const folders = RECORD_ROOTS.map((root) => root.slice(0, -1));
  return (await repo.git(["ls-tree", "-d", "-z", "--name-only", commit, "--", ...folders])).stdout.length > 0;
}

/** Did main change any record that our commit (built on main) changes too, since what we had seen? */
async function collides(repo: GitRepo, seen: string | null, main: string, mine: string): Promise<boolean> {
  const ours = new Set((await repo.diff(main, mine)).map((c) => c.path));
  return (await repo.diff(seen, main)).some((c) => ours.has(c.path));
}

/**
 * What a machine's first commit builds on. Not main itself once main holds records: this machine
 * has seen none of them, so the merge base must hold none, or a three-way merge would take main's
 * versions as already seen. The repo's set-up commit (format marker, workflow) is such a base, and
 * descending from it keeps the workflow in the branch (GitHub runs only workflows the pushed commit has).
 */
async function firstParent(repo: GitRepo, main: string | null): Promise<string | null> {
  if (!main) return null;
  if (!(await holdsRecords(repo, main))) return main;
  const roots = (await repo.git(["rev-list", "--max-parents=0", main])).stdout.toString().trim().split("\n");
  const root = roots[roots.length - 1];
  return root && !(await holdsRecords(repo, root)) ? root : null;
}

export async function listConflicts(repo: GitRepo, commit: string | null): Promise<Conflict[]> {
  if (!commit) return [];
  const paths = (await repo.listTree(commit, [CONFLICTS_DIR])).map((e) => e.path);
  const records = await readRecords(repo, commit, paths);
  return [...records.values()].filter((r) => !r.deleted).map((r) => JSON.parse(new TextDecoder().decode(r.content!)) as Conflict);
}
