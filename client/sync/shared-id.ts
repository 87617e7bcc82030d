// Two machines syncing under one id (a home copied, a backup restored): found, stopped, and what the
// stopped one offers once it has an id of its own.
//
// A machine's branch on the remote is always a commit it pushed, so one of its own commits holds it
// (its base, its head, its new commit, or the commit it saved as pushed before a push it may have
// been killed after). Anything else was pushed by another machine with the same id, even when it
// descends from this machine's head: a copy of a home shares that head, and the original builds on it.
//
// What the stopped machine made since the commits known to be its own carries counters of that id
// the other's versions there may not have seen, though they look newer: offered as they are, under any
// id, they would replace those versions unmerged (a copy's commit made offline; a backup restored,
// then a detour to another remote: history seed 2791). So it is stopped with its state set to offer
// everything again, and under its new id it offers those versions as what they are: its edits over
// what it knew of the remote.
import { readRecords } from "../../git/record-reader.js";
import { machineBranch, TRACKED_MAIN, tracking } from "../../git/refs.js";
import type { GitRepo } from "../../git/repo.js";
import { canonicalVector } from "../../core/vector.js";
import type { IndexEntry, IndexStore } from "../state/index-store.js";
import type { Distrusted } from "../state/sync-state.js";
import { SharedMachineIdError } from "./attention.js";

/**
 * Before anything is committed: a change committed under an id another machine also uses could not be
 * told apart from its changes. Not asked on a first sync with a remote (this machine's state may be new
 * while its id pushed before: a lost state.db), unless it is a remote this machine left for another and
 * comes back to, where it knows the commits that were its own.
 */
export async function refuseSharedId(repo: GitRepo, index: IndexStore, machine: string, offline: boolean): Promise<void> {
  const { base, head, pushed, rejoin, remote, distrusted } = index.state;
  // Stopped before under this id: it stays stopped until it has one of its own, offline too (nothing more is committed under it).
  if (distrusted?.machine === machine) throw new SharedMachineIdError(machine);
  if (offline) return;
  const branch = await repo.revParse(tracking(machineBranch(machine)));
  if (!rejoin) {
    if (base !== null && !(await isOwnBranch(repo, branch, [base, head, pushed]))) throw stopShared(index, machine, [base]);
    return;
  }
  // A commit git has pruned since cannot be asked about.
  const known = (await Promise.all((remote === null ? [] : index.state.ownOn(remote)).map((c) => repo.revParse(c)))).filter((c) => c !== null);
  if (!known.length || (await isOwnBranch(repo, branch, [...known, base, head, pushed]))) return;
  // Capped at what reached that remote's main: a head or push it had not landed when it left may never have.
  const main = await repo.revParse(TRACKED_MAIN);
  const landed = [];
  for (const c of known) if (main !== null && (await repo.isAncestor(c, main))) landed.push(c);
  throw stopShared(index, machine, landed);
}

/** The same, while pushing: another machine under this id may have pushed since the check before the commit. */
export async function refuseSharedIdAtPush(repo: GitRepo, index: IndexStore, machine: string, branch: string | null, ours: readonly (string | null)[]): Promise<void> {
  if (!(await isOwnBranch(repo, branch, ours))) throw stopShared(index, machine, [ours[0] ?? null]);
}

async function isOwnBranch(repo: GitRepo, branch: string | null, ours: readonly (string | null)[]): Promise<boolean> {
  if (branch === null || ours.includes(branch)) return true;
  for (const tip of ours) if (tip && (await repo.isAncestor(branch, tip))) return true;
  return false;
}

/**
 * `own`: commits whose versions this machine is known to have had: the main it last integrated, or
 * on a remote it came back to, its commits there. Not what it pushed last: a push it saved before
 * sending may never have landed (the other machine's did).
 */
function stopShared(index: IndexStore, machine: string, own: readonly (string | null)[]): SharedMachineIdError {
  const commits = [...new Set(own.filter((c): c is string => c !== null))];
  index.rejoin(index.state.remote ?? "");
  index.update({ distrusted: { machine, commits } });
  return new SharedMachineIdError(machine);
}

export interface HonestVersion {
  readonly known: IndexEntry;
  /** The version claimed more of the shared id than this machine knew: it is offered again as a new one. */
  readonly restamped: boolean;
}

/** `known` with the shared id's counter no higher than in this machine's own commits on the remote. */
export async function honestVersion(repo: GitRepo, d: Distrusted, known: IndexEntry): Promise<HonestVersion> {
  const claimed = known.vector[d.machine] ?? 0;
  if (claimed === 0) return { known, restamped: false };
  const there = await Promise.all(d.commits.map(async (c) => (await readRecords(repo, c, [known.path], () => {})).get(known.path)));
  const knew = Math.max(0, ...there.map((r) => r?.vector[d.machine] ?? 0));
  if (claimed <= knew) return { known, restamped: false };
  return { known: { ...known, vector: canonicalVector({ ...known.vector, [d.machine]: knew }) }, restamped: true };
}
