// The audit trail: a log group per machine branch with every record decision, conflicts as
// warnings, and a job summary table — all of it ciphertext-safe (values are never printed).
import * as core from "@actions/core";
import { digestLines, recordsLine, type Digest } from "../core/digest.js";
import { conflictPath } from "../core/layout.js";
import type { MergeAllResult } from "../git/merge-all.js";
import { machineBranch } from "../git/refs.js";

/** GitHub caps a step summary at 1 MiB; stay well under it. */
const SUMMARY_BUDGET = 512 * 1024;
const MAX_CONFLICT_ROWS = 200;
const MAX_DIGEST_ROWS = 300;

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

/** The digest in the log: every move of main, every commit a merge brought, every conflict. */
export async function logDigest(digest: Digest): Promise<void> {
  await core.group(`digest: ${digest.entries.length} move(s) of main since ${digest.from?.slice(0, 12) ?? "its first commit"}`, async () => {
    for (const line of digestLines(digest)) core.info(line);
  });
  if (digest.rewritten) core.warning(`main no longer holds ${digest.from}, the last digest's position: it was rewritten (force-pushed); the digest lists what main holds that it did not`);
}

export async function writeSummary(result: MergeAllResult, strategy: string, digest: Digest | null): Promise<void> {
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
  if (digest) addDigest(digest);
  if (core.summary.stringify().length > SUMMARY_BUDGET) {
    core.summary.emptyBuffer();
    core.summary.addRaw(`oc-sync merged ${result.machines.length} machine branch(es) into ${result.after}${digest ? ` and main moved ${digest.entries.length} time(s) since the last digest` : ""}; the full list is in the log.`, true);
  }
  await core.summary.write();
}

/** One row per commit that reached main since the last digest: a move of main, or a commit a merge brought. */
function addDigest(digest: Digest): void {
  core.summary.addHeading("main since the last digest", 3);
  if (!digest.entries.length) {
    core.summary.addRaw("main has not moved since the last digest.", true);
    return;
  }
  if (digest.rewritten) core.summary.addRaw(`main was rewritten (force-pushed) since the last digest at \`${digest.from?.slice(0, 12)}\`: listed is what main holds that it did not.`, true);
  const rows = digest.entries.flatMap((e) => [
    [e.commit.slice(0, 12), e.time, e.by, e.how === "merge" ? `merge${e.merged ? ` of machines/${e.merged}` : ""}` : "changes", recordsLine(e.records), conflictsCell(e)],
    ...e.brought.map((b) => [b.commit.slice(0, 12), "", b.by, `brought by ${e.commit.slice(0, 12)}`, "", ""]),
  // An empty cell would be dropped from the HTML row by the summary writer: a dash keeps the columns.
  ]).map((row) => row.map((cell) => escapeHtml(cell || "–")));
  const header = ["commit", "when", "machine", "how", "records (+added ~changed -deleted)", "conflicts"].map((data) => ({ data, header: true }));
  core.summary.addTable([header, ...rows.slice(0, MAX_DIGEST_ROWS)]);
  if (rows.length > MAX_DIGEST_ROWS) core.summary.addRaw(`…and ${rows.length - MAX_DIGEST_ROWS} more commits: the log's "digest" group lists every one; so does 'oc-sync log'.`, true);
}

function conflictsCell(e: Digest["entries"][number]): string {
  const kept = e.conflictsKept.map((c) => `kept ${c.kept}'s ${c.path}${c.at ? ` at ${c.at}` : ""} (${c.strategy})`);
  const decided = e.conflictsDecided.map((id) => `decided ${id}`);
  return [...kept, ...decided].join("; ");
}

/** The summary's table is HTML: a machine id or a file name must not become markup. */
const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
