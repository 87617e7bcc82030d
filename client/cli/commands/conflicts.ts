// conflicts / resolve: the CLI's face of client/sync/conflicts.ts.
import { acknowledgeConflicts, currentConflicts, describeConflict, describeResolution, resolveConflict, SideError, UnknownConflictError, UnplaceableError } from "../../sync/conflicts.js";
import type { SyncContext } from "../../sync/context.js";
import { runSync } from "../../sync/cycle.js";
import { EXIT, UsageError, type Output } from "../output.js";
import { exitFor, printReport, telling } from "./sync.js";

export async function conflictsCommand(ctx: SyncContext, out: Output, ack = false): Promise<number> {
  if (ack) {
    const cleared = await acknowledgeConflicts(ctx);
    out.line(cleared.length ? `acknowledged ${cleared.length} conflict(s) decided automatically; their kept values stay` : "no conflicts decided automatically to acknowledge");
    if (cleared.length) await runSync(ctx);
  }
  const conflicts = await currentConflicts(ctx);
  if (!conflicts.length) out.line("no conflicts");
  for (const c of conflicts) for (const line of describeConflict(c)) out.line(line);
  if (conflicts.some((c) => c.needsDecision)) out.line("decide with: oc-sync resolve <id> --keep local|remote|<machine>");
  if (conflicts.some((c) => !c.needsDecision)) out.line("the others were decided by your strategy; to change one: oc-sync resolve <id> --keep …; to clear them all: oc-sync conflicts --ack");
  out.result(conflicts);
  return conflicts.some((c) => c.needsDecision) ? EXIT.attention : EXIT.ok;
}

export async function resolveCommand(ctx: SyncContext, out: Output, id: string, keep: string): Promise<number> {
  let resolution;
  try {
    resolution = await resolveConflict(ctx, id, keep);
  } catch (e) {
    if (e instanceof UnknownConflictError || e instanceof SideError || e instanceof UnplaceableError) throw new UsageError(e.message);
    throw e;
  }
  out.line(describeResolution(resolution));
  const report = await runSync(ctx, telling(out));
  printReport(out, report);
  out.result({ resolved: id, keep, sync: report });
  return exitFor(report);
}
