import { runSync, type SyncReport } from "../../sync/cycle.js";
import type { SyncContext } from "../../sync/context.js";
import { EXIT, type Output } from "../output.js";

export async function syncCommand(ctx: SyncContext, out: Output, flags: { allowMassDelete: boolean; repush: boolean; restoreMissing: boolean; lockWaitMs: number }): Promise<number> {
  const report = await runSync(ctx, { ...flags, progress: (m) => out.progress(m) });
  printReport(out, report);
  out.result(report);
  return report.conflicts.some((c) => c.needsDecision) || report.needsUser.length ? EXIT.attention : EXIT.ok;
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
  if (r.credentials === "skipped-no-passphrase") out.line("credentials: not synced (no passphrase; set OC_SYNC_PASSPHRASE or run 'oc-sync init')");
  for (const p of r.problems) out.line(`warning: ${p}`);
  for (const p of r.needsUser.filter((n) => !r.problems.includes(n))) out.line(`needs you: ${p}`);
  const waiting = r.conflicts.filter((c) => c.needsDecision).length;
  if (waiting) out.line(`${waiting} conflict(s) wait for your decision: run 'oc-sync conflicts'`);
  if (r.conflicts.length > waiting) out.line(`${r.conflicts.length - waiting} conflict(s) decided by your strategy, kept for review: 'oc-sync conflicts'; 'oc-sync conflicts --ack' clears them`);
}
