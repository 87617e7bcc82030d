// What the plugin needs to know of a failed sync, as plain data: the sync runs in a worker thread
// and an Error's class does not cross postMessage.
import { GitError } from "../../git/run.js";
import { SettingsError } from "../config/settings.js";
import { PassphraseError } from "../crypto/keys.js";
import { PublicRepoError } from "../github/bootstrap.js";
import { TokenError } from "../github/token.js";
import { LockBusyError } from "../platform/lock.js";
import { AttentionError } from "../sync/attention.js";

export interface SyncFailure {
  readonly message: string;
  /** Another process holds this machine's sync lock: nothing failed, the other one syncs. */
  readonly lockBusy: boolean;
  /** Only the user can fix it (settings, passphrase, token, a public repo): worth a toast. */
  readonly fixable: boolean;
  /** Offline or flaky: worth a retry with backoff. */
  readonly network: boolean;
}

export function describeFailure(e: unknown, mask: (text: string) => string = (t) => t): SyncFailure {
  const message = mask(e instanceof Error ? e.message : String(e));
  const fixable = e instanceof SettingsError || e instanceof PassphraseError || e instanceof PublicRepoError || e instanceof TokenError || e instanceof AttentionError || (e instanceof GitError && e.kind === "auth");
  return { message, lockBusy: e instanceof LockBusyError, fixable, network: e instanceof GitError && e.kind === "network" };
}

/** A failure carried back from the worker, thrown where the sync was awaited. */
export class SyncFailed extends Error {
  constructor(readonly failure: SyncFailure) {
    super(failure.message);
    this.name = "SyncFailed";
  }
}
