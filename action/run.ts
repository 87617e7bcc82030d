// The merge Action: fetch the sync repo into a bare repository under RUNNER_TEMP, reconcile every
// machine branch ahead of main into main (core/reconcile via git/merge-all), push by
// compare-and-swap, and leave an audit trail. Glue only.
import * as core from "@actions/core";
import { join } from "node:path";
import { secretForms } from "../git/auth.js";
import { markDigested } from "../git/digest-position.js";
import { digestSinceLast } from "../git/main-moves.js";
import { mergeAllBranches } from "../git/merge-all.js";
import { GitRepo } from "../git/repo.js";
import { logDigest, logMachines, writeSummary } from "./audit.js";
import { readInputs } from "./inputs.js";

export async function run(): Promise<void> {
  try {
    const inputs = readInputs();
    const auth = { token: inputs.token };
    for (const s of secretForms(auth)) core.setSecret(s);
    // A bare repository of its own, filled by mergeAllBranches' fetch: the job's checkout is
    // sparse and shallow (the vendored Action only), and the runner empties RUNNER_TEMP after the job.
    const repo = await GitRepo.open(join(inputs.temp, "oc-sync.git"));
    const remote = { url: `${inputs.serverUrl}/${inputs.repository}.git`, auth };
    try {
      const result = await mergeAllBranches(repo, remote, { strategy: inputs.strategy, dryRun: inputs.dryRun, who: "oc-sync action" });
      await logMachines(result);
      const conflicts = result.machines.reduce((n, m) => n + (m.result?.conflicts.length ?? 0), 0);
      if (!result.machines.length) core.info("nothing to merge: every machine branch is already in main");
      else core.info(`${result.pushed ? "moved" : "would move (dry run)"} main ${result.before} → ${result.after}, ${result.machines.length} branch(es), ${conflicts} conflict(s)`);
      // main after the run, as action.yml says: a dry run leaves it where it was (the log names the commit it would move to).
      core.setOutput("main-sha", (result.pushed ? result.after : result.before) ?? "");
      core.setOutput("merged", String(result.machines.length));
      core.setOutput("conflicts", String(conflicts));
      // After the merge, so its own move is in it: every commit that reached main, once, whoever moved main.
      const digest = await digestSinceLast(repo);
      if (digest) await logDigest(digest);
      await writeSummary(result, inputs.strategy, digest);
      if (digest && !inputs.dryRun) await markDigested(repo, remote, digest.to);
    } finally {
      repo.close();
    }
  } catch (e) {
    core.setFailed(e instanceof Error ? e.message : String(e));
  }
}
