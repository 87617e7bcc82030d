// Profiles a sync: npm exec tsx bench/profile.ts (SIZE=R|S|M|L, default S). Run once to set up a
// machine with that database pushed, then again with OC_SYNC_PROFILE_ROOT and WHAT=incremental
// (five one-message syncs) or WHAT=first-pull (a new machine pulls everything), under --cpu-prof.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadContext } from "../client/sync/context.js";
import { runSync } from "../client/sync/cycle.js";
import { runGit } from "../git/run.js";
import { createDatabase, DEMO_PROJECT, makeHome } from "../test/support/opencode-home.js";
import { addMessage, generate, SIZES } from "./generate.js";

const given = process.env.OC_SYNC_PROFILE_ROOT;
const root = given ?? mkdtempSync(join(tmpdir(), "oc-sync-prof-"));
const remote = join(root, "remote.git");
const A = makeHome(root, "a", { OC_SYNC_REMOTE: remote });
if (!given) {
  await runGit(["init", "--bare", "-q", "-b", "main", remote]);
  generate(A.db, SIZES[process.env.SIZE ?? "S"]!, DEMO_PROJECT, A.repo);
  await runSync(await loadContext({ env: A.env }));
  console.log(`set up; now run with OC_SYNC_PROFILE_ROOT=${root}`);
  process.exit(0);
}

async function timedSync(label: string, env: typeof A.env): Promise<void> {
  const ctx = await loadContext({ env });
  const c = process.cpuUsage();
  const s = performance.now();
  const r = await runSync(ctx);
  const u = process.cpuUsage(c);
  console.log(`${label}: ${r.outcome}, ${r.applied} applied, ${(performance.now() - s).toFixed(0)} ms wall, ${((u.user + u.system) / 1000).toFixed(0)} ms CPU`);
}

if (process.env.WHAT === "first-pull") {
  const B = makeHome(mkdtempSync(join(root, "pull-")), "b", { OC_SYNC_REMOTE: remote });
  createDatabase(B).close();
  await timedSync("first pull", B.env);
} else {
  const sessions = (new DatabaseSync(A.db, { readOnly: true }).prepare("SELECT id FROM session").all() as { id: string }[]).map((r) => r.id);
  for (let i = 0; i < 5; i++) {
    const db = new DatabaseSync(A.db);
    const t = Date.now();
    addMessage(db.prepare("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)"), db.prepare("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)"), sessions[i]!, A.repo, t, 10, i);
    db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(t + 1, sessions[i]!);
    db.close();
    await timedSync(`sync ${i}`, A.env);
  }
}
