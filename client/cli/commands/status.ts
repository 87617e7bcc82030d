import type { GitRepo } from "../../../git/repo.js";
import { GIVE_PASSPHRASE, KEY_CHANGED, resolveKey } from "../../crypto/key-store.js";
import { withState } from "../../state/open-state.js";
import type { SyncReport } from "../../sync/cycle.js";
import { listConflicts } from "../../sync/conflicts.js";
import type { SyncContext } from "../../sync/context.js";
import { TRACKED_MAIN } from "../../../git/refs.js";
import { EXIT, type Output } from "../output.js";

/** What someone who can push to the sync repo can do to this machine (executable config and credentials are checked for a signature). */
export function trustNote(ctx: SyncContext): string {
  const executable = ctx.settings.trustExecutable
    ? "and, as trustExecutable is on, what OpenCode executes (plugins, MCP commands, permissions): they can run code here, which can read this machine's key and sign changes your other machines accept"
    : ctx.settings.passphrase
      ? "not what OpenCode executes nor the credentials it uses: a change to them that none of your machines signed is held for 'oc-sync review'"
      : "not what OpenCode executes: without a passphrase nothing is signed, so every change to it from the repo is held for 'oc-sync review', your own machines' too";
  return `anyone who can push to the sync repo can change the config, state and sessions this machine applies, ${executable}`;
}

export async function statusCommand(ctx: SyncContext, out: Output): Promise<number> {
  return withState(ctx, async ({ repo, index }) => {
    const { base, head, lastSync } = index.state;
    const remoteMain = await repo.revParse(TRACKED_MAIN);
    const unpushed = head && head !== base && !(remoteMain && (await repo.isAncestor(head, remoteMain)));
    const conflicts = await listConflicts(repo, base);
    const credentials = await credentialsState(ctx, repo, remoteMain ?? base);
    const status = {
      machine: ctx.machine,
      remote: ctx.log.mask(ctx.remote.url),
      embeddedRemote: ctx.embedded,
      mode: ctx.mode,
      strategy: ctx.settings.strategy,
      settingsFile: ctx.settings.settingsFile ?? null,
      lastSync,
      base,
      head,
      pendingPush: Boolean(unpushed),
      conflicts: conflicts.length,
      conflictsNeedingDecision: conflicts.filter((c) => c.needsDecision).length,
      categories: ctx.settings.categories,
      passphrase: ctx.settings.passphrase ? "set" : "not set",
      credentials,
      trust: trustNote(ctx),
    };
    out.line(`machine      ${status.machine}`);
    out.line(`remote       ${status.remote}${status.embeddedRemote ? " (embedded default: set 'remote' or run 'oc-sync init' to sync between machines)" : ""}`);
    out.line(`merge        ${status.mode} (strategy ${status.strategy})`);
    out.line(`last sync    ${status.lastSync ? `${new Date(status.lastSync.at).toISOString()} (${status.lastSync.outcome})` : "never"}`);
    out.line(`pending      ${status.pendingPush ? "local commits not yet in main" : "nothing waiting"}`);
    const waiting = status.conflictsNeedingDecision ? `, ${status.conflictsNeedingDecision} waiting for your decision` : "";
    out.line(`conflicts    ${status.conflicts}${waiting}${status.conflicts ? " (run 'oc-sync conflicts')" : ""}`);
    out.line(`credentials  ${CREDENTIALS[credentials]}`);
    out.line(`trust        ${status.trust}`);
    out.result(status);
    return status.conflictsNeedingDecision ? EXIT.attention : EXIT.ok;
  });
}

const CREDENTIALS: Readonly<Record<SyncReport["credentials"] | "cached-key", string>> = {
  synced: "synced (encrypted)",
  "cached-key": "synced (encrypted, with the key cached on this machine)",
  "skipped-no-passphrase": `not synced: no passphrase (${GIVE_PASSPHRASE})`,
  "skipped-key-changed": `not synced: ${KEY_CHANGED}`,
  disabled: "disabled",
};

/** What the next sync does with credentials: a passphrase, or a cached copy of the repo's key, syncs them. */
async function credentialsState(ctx: SyncContext, repo: GitRepo, main: string | null): Promise<keyof typeof CREDENTIALS> {
  if (!ctx.settings.categories.credentials) return "disabled";
  const cached = await resolveKey(repo, main, ctx.paths.dataKey, undefined);
  if (cached.key) return ctx.settings.passphrase ? "synced" : "cached-key";
  // A key rotated elsewhere: only the passphrase set here can tell whether it is the new one.
  const stale = cached.stale && !(ctx.settings.passphrase && (await resolveKey(repo, main, ctx.paths.dataKey, ctx.settings.passphrase)).key);
  if (stale) return "skipped-key-changed";
  return ctx.settings.passphrase ? "synced" : "skipped-no-passphrase";
}
