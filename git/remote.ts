// Talking to the sync remote: fetch refs, read remote heads cheaply, and push with
// compare-and-swap so that concurrent machines and Action runs never overwrite each other.
import type { GitAuth } from "./auth.js";
import type { GitRepo } from "./repo.js";
import { existsSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { FETCH_REFSPEC, remoteRef } from "./refs.js";
import { GitError, gitSaid, type GitFailure } from "./run.js";

export interface Remote {
  /** A URL (https://…, http://…) or a path to a bare repository on disk. */
  readonly url: string;
  readonly auth?: GitAuth;
}

export interface RefUpdate {
  readonly ref: string;
  readonly oid: string;
  /** What the remote ref must still be; null means it must not exist yet. */
  readonly expected: string | null;
}

export type PushResult =
  | { readonly ok: true }
  /** A lease did not hold: another writer moved a ref first (fetch and decide again). */
  | { readonly ok: false; readonly reason: "rejected"; readonly refs: readonly string[]; readonly message: string }
  /** The server refused the push itself (a hook, a permission, a size limit): trying again changes nothing. */
  | { readonly ok: false; readonly reason: "refused" | "auth" | "network" | "not-found" | "failed"; readonly message: string };

/**
 * Fetches every remote head into the tracking refs (the local view of the remote; see refs.ts).
 */
export async function fetchRefs(repo: GitRepo, remote: Remote): Promise<void> {
  await repo.git(["fetch", "--no-tags", "--prune", "--quiet", "--no-write-fetch-head", remote.url, FETCH_REFSPEC], { auth: remote.auth }).catch(namingRemote(remote));
}

/** Remote heads without downloading objects: one cheap request, no REST quota. */
export async function listRemoteHeads(repo: GitRepo, remote: Remote): Promise<Map<string, string>> {
  const out = (await repo.git(["ls-remote", "--heads", remote.url], { auth: remote.auth }).catch(namingRemote(remote))).stdout.toString();
  const heads = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [oid, ref] = line.split("\t");
    if (oid && ref) heads.set(ref.slice(remoteRef("").length), oid);
  }
  return heads;
}

const IS_URL = /^[a-z][a-z0-9+.-]*:/i;

/**
 * A failure talking to the remote, told as one with the remote the user gave (git's own words name
 * oc-sync's internal repository) and what to do when the user can; the kind is kept.
 */
function remoteError(remote: Remote, e: GitError): GitError {
  const said = gitSaid(e.stderr) || e.message;
  const where = "the 'remote' setting or OC_SYNC_REMOTE";
  const messages: Partial<Record<GitFailure, () => string>> = {
    "not-found": () =>
      IS_URL.test(remote.url)
        ? `the remote ${remote.url} was not found (${said}): fix the URL (${where}); for GitHub, 'oc-sync init --github OWNER/NAME' creates the repository`
        : `the remote ${remote.url} ${existsSync(remote.url) ? "is not a git repository" : "does not exist"}: create it with 'git init --bare ${remote.url}', or fix the path (${where})`,
    network: () => `could not reach the remote ${remote.url}: ${said}`,
    auth: () => `the remote ${remote.url} refused oc-sync's credentials: ${said}`,
    failed: () => `talking to the remote ${remote.url} failed: ${said}`,
  };
  // Kept as git said it: a full disk is this machine's (its message says where), a rejection is a lost race.
  return new GitError(e.kind, messages[e.kind]?.() ?? e.message, e.stderr);
}

function namingRemote(remote: Remote): (e: unknown) => never {
  return (e) => {
    throw e instanceof GitError ? remoteError(remote, e) : e;
  };
}

/** A ref lock older than this in a repository on disk is a killed push's leftover (a push holds it for milliseconds). */
const STALE_REF_LOCK_MS = 60_000;

/**
 * A push to a repository on disk that was killed mid-way leaves git's `<ref>.lock` behind, and every
 * later push of that ref fails on it until someone removes it by hand. Removed here once it is stale.
 */
async function clearStaleRefLocks(remote: Remote, branches: readonly string[]): Promise<void> {
  if (IS_URL.test(remote.url)) return;
  for (const branch of branches) {
    const lock = join(remote.url, remoteRef(branch) + ".lock");
    const s = await stat(lock).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > STALE_REF_LOCK_MS) await rm(lock, { force: true });
  }
}

/** How a server reports that another push moved a ref between its advertisement and our update: a lost race too. */
const LOST_ON_SERVER = /atomic transaction failed|failed to update ref|cannot lock ref|incorrect old value/;

/**
 * One atomic push: every ref moves only if every ref still has its expected value on the
 * remote (`--force-with-lease` per ref, enforced by the server's receive-pack). Called only by
 * cas.ts, which owns the retry.
 */
export async function pushAtomic(repo: GitRepo, remote: Remote, updates: readonly RefUpdate[]): Promise<PushResult> {
  await clearStaleRefLocks(remote, updates.map((u) => u.ref));
  const args = ["push", "--atomic", "--porcelain", "--no-verify", "--quiet"];
  for (const u of updates) args.push(`--force-with-lease=${remoteRef(u.ref)}:${u.expected ?? ""}`);
  args.push(remote.url, ...updates.map((u) => `${u.oid}:${remoteRef(u.ref)}`));
  let result;
  try {
    result = await repo.git(args, { auth: remote.auth, okCodes: [1] });
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
    return { ok: false, reason: e.kind === "rejected" || e.kind === "disk-full" ? "failed" : e.kind, message: remoteError(remote, e).message };
  }
  if (result.code === 0) return { ok: true };
  // Porcelain lines on stdout: "<flag>\t<src>:<dst>\t<summary>"; "!" marks a ref not moved.
  const refused = result.stdout
    .toString()
    .split("\n")
    .filter((l) => l.startsWith("!\t"))
    .map((l) => ({ ref: l.split("\t")[1]?.split(":")[1]?.slice(remoteRef("").length) ?? "", summary: l.split("\t")[2] ?? "" }));
  const message = result.stderr.trim().split("\n").join(" | ") || refused.map((r) => `${r.ref}: ${r.summary}`).join(" | ") || "push refused";
  if (refused.some((r) => r.summary.startsWith("[remote rejected]") && !LOST_ON_SERVER.test(r.summary))) return { ok: false, reason: "refused", message };
  const lost = refused.length > 0 || /stale info|atomic push failed|rejected/.test(result.stderr);
  return lost ? { ok: false, reason: "rejected", refs: refused.map((r) => r.ref), message } : { ok: false, reason: "failed", message };
}
