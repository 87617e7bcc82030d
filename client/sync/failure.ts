// What kind of failure a sync ended in, as plain data: the CLI prints it under --json, and the
// plugin (which runs each sync as a CLI child) decides from it whether to retry, toast or stay quiet.
import { GitError } from "../../git/run.js";
import { SettingsError } from "../config/settings.js";
import { PassphraseError } from "../crypto/keys.js";
import { PublicRepoError } from "../github/bootstrap.js";
import { TokenError } from "../github/token.js";
import { LockBusyError } from "../platform/lock.js";
import { AttentionError } from "./attention.js";

/**
 * lock-busy: another process syncs this machine (nothing failed); needs-user: only the user can fix
 * it (settings, passphrase, token, a remote that is not there, a public repo, main rewritten); network: offline or flaky, worth
 * a retry with backoff; failed: anything else.
 */
export type FailureKind = "lock-busy" | "needs-user" | "network" | "failed";

export function failureKind(e: unknown): FailureKind {
  if (e instanceof LockBusyError) return "lock-busy";
  if (e instanceof GitError && e.kind === "network") return "network";
  const needsUser = e instanceof SettingsError || e instanceof PassphraseError || e instanceof PublicRepoError || e instanceof TokenError || e instanceof AttentionError || (e instanceof GitError && (e.kind === "auth" || e.kind === "not-found"));
  return needsUser ? "needs-user" : "failed";
}
