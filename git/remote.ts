// Talking to the sync remote: fetch refs, read remote heads cheaply, and push with
// compare-and-swap so that concurrent machines and Action runs never overwrite each other.
import type { GitAuth } from "./auth.js";
import type { GitRepo } from "./repo.js";
import { GitError } from "./run.js";

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
  | { readonly ok: false; readonly reason: "rejected"; readonly refs: readonly string[]; readonly message: string }
  | { readonly ok: false; readonly reason: "auth" | "network" | "not-found" | "failed"; readonly message: string };

/**
 * Fetches every remote head into `refs/remotes/sync/*` (the local view of the remote). A
 * wildcard, so an empty remote (no main yet) is not an error.
 */
export async function fetchRefs(repo: GitRepo, remote: Remote): Promise<void> {
  await repo.git(["fetch", "--no-tags", "--prune", "--quiet", "--no-write-fetch-head", remote.url, "+refs/heads/*:refs/remotes/sync/*"], { auth: remote.auth });
}

/** Remote heads without downloading objects: one cheap request, no REST quota. */
export async function listRemoteHeads(repo: GitRepo, remote: Remote): Promise<Map<string, string>> {
  const out = (await repo.git(["ls-remote", "--heads", remote.url], { auth: remote.auth })).stdout.toString();
  const heads = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [oid, ref] = line.split("\t");
    if (oid && ref) heads.set(ref.replace(/^refs\/heads\//, ""), oid);
  }
  return heads;
}

/**
 * One atomic push: every ref moves only if every ref still has its expected value on the
 * remote (`--force-with-lease` per ref, enforced by the server's receive-pack).
 */
export async function pushAtomic(repo: GitRepo, remote: Remote, updates: readonly RefUpdate[]): Promise<PushResult> {
  const args = ["push", "--atomic", "--porcelain", "--no-verify", "--quiet"];
  for (const u of updates) args.push(`--force-with-lease=refs/heads/${u.ref}:${u.expected ?? ""}`);
  args.push(remote.url, ...updates.map((u) => `${u.oid}:refs/heads/${u.ref}`));
  let result;
  try {
    result = await repo.git(args, { auth: remote.auth, okCodes: [1] });
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
    return { ok: false, reason: e.kind === "rejected" ? "failed" : e.kind, message: e.message };
  }
  if (result.code === 0) return { ok: true };
  // Porcelain lines on stdout: "<flag>\t<src>:<dst>\t<summary>"; "!" marks a refused ref.
  const refused = result.stdout
    .toString()
    .split("\n")
    .filter((l) => l.startsWith("!\t"))
    .map((l) => l.split("\t")[1]?.split(":")[1]?.replace(/^refs\/heads\//, "") ?? "");
  const stale = refused.length > 0 || /stale info|atomic push failed|rejected/.test(result.stderr);
  const message = result.stderr.trim().split("\n").join(" | ") || "push refused";
  return stale ? { ok: false, reason: "rejected", refs: refused, message } : { ok: false, reason: "failed", message };
}
