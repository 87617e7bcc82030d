// oc-sync merge: the Action's reconcile, run from the command line (remotes without Actions).
import { mergeAllBranches } from "../../../git/merge-all.js";
import { machineBranch } from "../../../git/refs.js";
import type { SyncContext } from "../../sync/context.js";
import { withState } from "../../state/open-state.js";
import { EXIT, type Output } from "../output.js";

export async function mergeCommand(ctx: SyncContext, out: Output, dryRun: boolean): Promise<number> {
  return withState(ctx, async ({ repo }) => {
    const result = await mergeAllBranches(repo, ctx.remote, { strategy: ctx.settings.strategy, dryRun, who: `oc-sync merge (${ctx.machine})`, machine: ctx.machine });
    if (!result.machines.length) out.line("nothing to merge: every machine branch is already in main");
    for (const m of result.machines) out.line(`${machineBranch(m.machine)}: ${m.fastForward ? "fast-forward" : `merged, ${m.result?.changed.length ?? 0} record(s), ${m.result?.conflicts.length ?? 0} conflict(s)`}`);
    const damaged = result.machines.flatMap((m) => m.damaged);
    for (const d of damaged) out.line(`needs you: ${d}; left as main has it`);
    if (result.machines.length) out.line(`${result.pushed ? "main moved" : "main would move (dry run)"} ${result.before?.slice(0, 12)} → ${result.after?.slice(0, 12)}`);
    out.result({ before: result.before, after: result.after, pushed: result.pushed, machines: result.machines.map((m) => ({ machine: m.machine, fastForward: m.fastForward, changed: m.result?.changed.length ?? 0, conflicts: m.result?.conflicts ?? [], damaged: m.damaged })) });
    return damaged.length ? EXIT.attention : EXIT.ok;
  });
}
