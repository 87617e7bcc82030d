// Every ref name of the protocol, spelled once. On the remote: `main` and one branch per machine.
// Locally, the last fetched view of the remote sits under refs/remotes/sync/.

/** The branch every machine converges on; it only moves by compare-and-swap. */
export const MAIN_BRANCH = "main";
/** Each machine pushes its changes to machines/<id>. */
export const MACHINES_PREFIX = "machines/";
/** Where a fetch puts the remote's heads in the local repo. */
export const TRACKING_PREFIX = "refs/remotes/sync/";
/** Fetches every remote head: a wildcard, so an empty remote (no main yet) is not an error. */
export const FETCH_REFSPEC = `+refs/heads/*:${TRACKING_PREFIX}*`;
/** Where fast-import leaves a commit it builds, before oc-sync reads and drops the ref. */
export const BUILD_PREFIX = "refs/oc-sync/build/";

/**
 * Where the last digest (the Action's audit of main's moves) ended; see digest-position.ts. A
 * branch, so it moves by the same compare-and-swap as every other ref, and a run that failed or
 * was skipped leaves it where it was.
 */
export const DIGEST_BRANCH = "oc-sync/digest";

export const machineBranch = (machine: string): string => `${MACHINES_PREFIX}${machine}`;

/** The local view of a remote branch (`main`, `machines/<id>`). */
export const tracking = (branch: string): string => `${TRACKING_PREFIX}${branch}`;

/** Main as last fetched. */
export const TRACKED_MAIN = tracking(MAIN_BRANCH);

export const remoteRef = (branch: string): string => `refs/heads/${branch}`;
