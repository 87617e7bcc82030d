// The GitHub token: GITHUB_TOKEN / OC_SYNC_TOKEN, else the GitHub CLI's, else a message that
// says exactly which permissions to grant.
import { execFileSync } from "node:child_process";
import type { Env } from "../platform/paths.js";

export const REQUIRED_PERMISSIONS =
  "a fine-grained token for the sync repository with Contents: read and write, Workflows: read and write, Actions: read and write, and Administration: read and write (only to create the repository); or a classic token with the repo and workflow scopes";

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenError";
  }
}

export function githubToken(env: Env): string {
  const fromEnv = env.OC_SYNC_TOKEN || env.GITHUB_TOKEN || env.GH_TOKEN;
  if (fromEnv) return fromEnv;
  try {
    const t = execFileSync("gh", ["auth", "token"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
    if (t) return t;
  } catch {
    // gh is not installed or not logged in.
  }
  throw new TokenError(`no GitHub token: set GITHUB_TOKEN (or log in with 'gh auth login'). oc-sync needs ${REQUIRED_PERMISSIONS}`);
}
