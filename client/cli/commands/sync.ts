import { GIVE_PASSPHRASE } from "../../crypto/key-store.js";
import { runSync, type SyncOptions, type SyncReport } from "../../sync/cycle.js";
import type { SyncContext } from "../../sync/context.js";
import { EXIT, type Output } from "../output.js";

export async function syncCommand(ctx: SyncContext, out: Output, flags: { allowMassDelete: boolean; repush: boolean; restoreMissing: boolean; lockWaitMs: number }): Promise<number> {
  const report = await runSync(ctx, { ...flags, ...telling(out) });
  printReport(out, report);
  out.result(report);
  return exitFor(report);
}

/** What a command that syncs tells the user while it works: progress, and why it waits. */
export function telling(out: Output): Pick<SyncOptions, "progress" | "onLockWait"> {
  return {
    progress: (m) => out.progress(m),
    onLockWait: (owner, waitMs) => out.note(`waiting for another oc-sync (pid ${owner}) to finish… (at most ${Math.round(waitMs / 1000)} s)`),
  };
}

/** A sync that worked exits 3 while something waits for the user: a conflict to decide, a needs-you item. */
export function exitFor(r: SyncReport): number {
  return r.conflicts.some((c) => c.needsDecision) || r.needsUser.length ? EXIT.attention : EXIT.ok;
}

export function printReport(out: Output, r: SyncReport): void {
  const what: Record<SyncReport["outcome"], string> = {
    "fast-forward": "pushed to main",
    merged: "merged with other machines' changes and pushed",
    "waiting-for-action": "pushed; the merge Action will fold it into main",
    pulled: "pulled other machines' changes",
    "up-to-date": "already up to date",
    offline: "offline: local changes kept, they will be pushed on the next sync",
  };
  out.line(`${r.machine}: ${what[r.outcome]} (${r.committed} local change(s), ${r.applied} applied here)`);
  if (r.credentials === "skipped-no-passphrase") out.line(`credentials: not synced: no passphrase was given (${GIVE_PASSPHRASE})`);
  for (const p of r.problems.filter((n) => !r.needsUser.includes(n))) out.line(`warning: ${p}`);
  for (const p of r.needsUser) out.line(`needs you: ${p}`);
  const waiting = r.conflicts.filter((c) => c.needsDecision).length;
  if (waiting) out.line(`${waiting} conflict(s) wait for your decision: run 'oc-sync conflicts'`);
  if (r.conflicts.length > waiting) out.line(`${r.conflicts.length - waiting} conflict(s) decided by your strategy, kept for review: 'oc-sync conflicts'; 'oc-sync conflicts --ack' clears them`);
}
