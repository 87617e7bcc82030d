// The audit trail: a log group per machine branch with every record decision, conflicts as
// warnings, and a job summary table — all of it ciphertext-safe (values are never printed).
import * as core from "@actions/core";
import { conflictPath } from "../core/layout.js";
import type { MergeAllResult } from "../git/merge-all.js";
import { machineBranch } from "../git/refs.js";

/** GitHub caps a step summary at 1 MiB; stay well under it. */
const SUMMARY_BUDGET = 512 * 1024;
const MAX_CONFLICT_ROWS = 200;

export async function logMachines(result: MergeAllResult): Promise<void> {
  for (const m of result.machines) {
    await core.group(`${machineBranch(m.machine)} → ${m.fastForward ? "fast-forward" : "merge"} ${m.commit?.slice(0, 12)}`, async () => {
      if (m.fastForward) core.info(`main was an ancestor of ${machineBranch(m.machine)}: fast-forwarded`);
      for (const d of m.result?.decisions ?? []) core.info(`${d.path}: ${d.comparison} → ${d.action} (${d.why})`);
    });
    for (const d of m.damaged) core.warning(`${machineBranch(m.machine)}: ${d}; left as main has it, the rest merged`);
    for (const c of m.result?.conflicts ?? []) {
      core.warning(`conflict ${c.id} in ${c.path}${c.at ? ` at ${c.at}` : ""}: kept ${c.kept.writer}'s value (${c.strategy}), ${c.lost.writer}'s kept in ${conflictPath(c.id)}`);
    }
  }
}

export async function writeSummary(result: MergeAllResult, strategy: string): Promise<void> {
  const rows = result.machines.map((m) => [
    machineBranch(m.machine),
    m.fastForward ? "fast-forward" : "merge",
    String(m.result?.changed.length ?? "all"),
    String(m.result?.conflicts.length ?? 0),
  ]);
  core.summary.addHeading("oc-sync merge", 2);
  if (!result.machines.length) core.summary.addRaw("Nothing to merge: every machine branch is already in main.", true);
  else
    core.summary.addTable([
      [
        { data: "machine branch", header: true },
        { data: "how", header: true },
        { data: "records merged", header: true },
        { data: "conflicts", header: true },
      ],
      ...rows,
    ]);
  core.summary.addRaw(`\nmain: \`${result.before?.slice(0, 12) ?? "none"}\` → \`${result.after?.slice(0, 12) ?? "none"}\` (strategy ${strategy}${result.pushed ? "" : ", not pushed"})\n`, true);
  const conflicts = result.machines.flatMap((m) => m.result?.conflicts ?? []);
  if (conflicts.length) {
    core.summary.addHeading("Conflicts kept", 3);
    core.summary.addList(conflicts.slice(0, MAX_CONFLICT_ROWS).map((c) => `${c.path}${c.at ? ` at ${c.at}` : ""}: kept ${c.kept.writer}, kept aside ${c.lost.writer} (conflicts/${c.id}.json)`));
    if (conflicts.length > MAX_CONFLICT_ROWS) core.summary.addRaw(`…and ${conflicts.length - MAX_CONFLICT_ROWS} more; run 'oc-sync conflicts'.`, true);
  }
  if (core.summary.stringify().length > SUMMARY_BUDGET) {
    core.summary.emptyBuffer();
    core.summary.addRaw(`oc-sync merged ${result.machines.length} machine branch(es) into ${result.after}; the full list is in the log.`, true);
  }
  await core.summary.write();
}
