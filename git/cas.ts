// Compare-and-swap on the remote's refs: every ref move in oc-sync goes through here. A move
// pushes atomically with a lease on each ref (the value last fetched), so concurrent machines and
// Action runs never overwrite each other; a lost race fetches again and decides again, with
// backoff and jitter, under one attempt policy.
import { tracking } from "./refs.js";
import { fetchRefs, pushAtomic, type Remote } from "./remote.js";
import type { GitRepo } from "./repo.js";
import { backoffMs, sleep } from "./retry.js";

export interface RefMove {
  /** A remote branch: `main`, `machines/<id>`. */
  readonly branch: string;
  readonly to: string;
}

/** What one attempt decided: the refs to move (none: nothing to push) and the caller's result. */
export interface CasStep<T> {
  readonly moves: readonly RefMove[];
  readonly value: T;
}

export type PushFailure = "refused" | "auth" | "network" | "not-found" | "failed" | "contended";

/** A push the remote refused for another reason than a lost race, or races lost on every attempt. */
export class PushError extends Error {
  constructor(
    readonly reason: PushFailure,
    message: string,
  ) {
    super(message);
    this.name = "PushError";
  }
}

export interface CasOptions {
  /** What the move is for, to start error messages with ("could not set up the sync repo"). */
  readonly what: string;
  /** Fetch before the first attempt too (the caller has not just fetched). */
  readonly fetchFirst?: boolean;
  /** Told of each lost race (for the log). */
  readonly onRace?: (branches: readonly string[]) => void;
  readonly attempts?: number;
}

export const CAS_ATTEMPTS = 7;
const BASE_MS = 200;
const MAX_MS = 5000;

/**
 * Runs `step` against the last fetched view of the remote (the tracking refs) and moves the refs it
 * names, each leased on its tracked value. On a lost race: wait, fetch, run `step` again. On success
 * the tracking refs move too, so the local view is what the remote now has.
 */
export async function compareAndSwap<T>(repo: GitRepo, remote: Remote, step: (attempt: number) => Promise<CasStep<T>>, options: CasOptions): Promise<T> {
  const attempts = options.attempts ?? CAS_ATTEMPTS;
  if (options.fetchFirst) await fetchRefs(repo, remote);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { moves, value } = await step(attempt);
    if (!moves.length) return value;
    const leased = await Promise.all(moves.map(async (m) => ({ ref: m.branch, oid: m.to, expected: await repo.revParse(tracking(m.branch)) })));
    const pushed = await pushAtomic(repo, remote, leased);
    if (pushed.ok) {
      await repo.updateRefs(moves.map((m) => ({ ref: tracking(m.branch), oid: m.to })));
      return value;
    }
    if (pushed.reason !== "rejected") throw new PushError(pushed.reason, `${options.what}: ${pushed.message}`);
    options.onRace?.(pushed.refs.length ? pushed.refs : moves.map((m) => m.branch));
    await sleep(backoffMs(attempt, BASE_MS, MAX_MS));
    await fetchRefs(repo, remote);
  }
  throw new PushError("contended", `${options.what}: other machines kept changing the sync repo (${attempts} attempts); try again`);
}
