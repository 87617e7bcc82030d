// GitHub's REST API for the few calls oc-sync makes (data itself moves with git): throttled as
// GitHub asks (rate-limit headers, retry-after) and retried on transient errors.
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { Env } from "../platform/paths.js";

const GitHubClient = Octokit.plugin(throttling, retry);
export type GitHub = InstanceType<typeof GitHubClient>;

export function githubApiUrl(env: Env): string {
  return env.OC_SYNC_GITHUB_API || "https://api.github.com";
}

/** Where repositories are cloned from (GitHub Enterprise, or the test stand-in, set their own). */
export function githubGitUrl(env: Env): string {
  return env.OC_SYNC_GITHUB_URL || "https://github.com";
}

export function createGitHub(token: string, env: Env, warn: (m: string) => void): GitHub {
  return new GitHubClient({
    auth: token,
    baseUrl: githubApiUrl(env),
    userAgent: "oc-sync",
    request: { retries: 3, retryAfter: 1 },
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
