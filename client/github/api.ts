// GitHub's REST API for the few calls oc-sync makes (data itself moves with git): throttled as
// GitHub asks (rate-limit headers, retry-after) and retried on transient errors.
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { Env } from "../platform/paths.js";
import { REQUIRED_PERMISSIONS } from "./token.js";

const GitHubClient = Octokit.plugin(throttling, retry);
export type GitHub = InstanceType<typeof GitHubClient>;

export function githubApiUrl(env: Env): string {
  return env.OC_SYNC_GITHUB_API || "https://api.github.com";
}

/** Where repositories are cloned from (GitHub Enterprise, or the test stand-in, set their own). */
export function githubGitUrl(env: Env): string {
  return env.OC_SYNC_GITHUB_URL || "https://github.com";
}

const RETRIES = 3;

export function createGitHub(token: string, env: Env, warn: (m: string) => void): GitHub {
  return new GitHubClient({
    auth: token,
    baseUrl: githubApiUrl(env),
    userAgent: "oc-sync",
    // Octokit logs every failed attempt; retries are expected, and the final failure is explained once.
    log: { debug: () => {}, info: () => {}, warn, error: () => {} },
    request: { retries: RETRIES, retryAfter: 1 },
    throttle: {
      onRateLimit: (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
        warn(`GitHub rate limit on ${options.method} ${options.url}; retrying in ${retryAfter}s`);
        return retryCount < 2;
      },
      onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
        warn(`GitHub secondary rate limit on ${options.method} ${options.url}; retrying in ${retryAfter}s`);
        return retryCount < 1;
      },
    },
  });
}

/** A failed REST call as a message that names the call and says what to do. */
export function explainGitHubError(e: unknown): Error {
  const err = e as { status?: number; message?: string; request?: { method?: string; url?: string } };
  if (typeof err.status !== "number" || !err.request?.url) return e instanceof Error ? e : new Error(String(e));
  const what = `GitHub API ${err.request.method ?? "GET"} ${new URL(err.request.url).pathname} failed with ${err.status}`;
  const said = (err.message ?? "").split(" - ")[0];
  if (err.status === 401) return new Error(`${what}: GitHub rejected the token: it is invalid, expired or revoked. oc-sync needs ${REQUIRED_PERMISSIONS}`);
  if (err.status === 403) return new Error(`${what} (${said}): the token lacks a permission, or a rate limit held past the retries. oc-sync needs ${REQUIRED_PERMISSIONS}`);
  if (err.status === 404) return new Error(`${what}: the repository does not exist, or this token cannot see it (a fine-grained token must list it)`);
  if (err.status >= 500) return new Error(`${what} (${said}) after ${RETRIES} retries: GitHub may be having trouble; try again later`);
  return new Error(`${what}: ${said}`);
}
