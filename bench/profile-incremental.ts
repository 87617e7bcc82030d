// Profiles incremental syncs: npm exec tsx bench/profile-incremental.ts (SIZE=S|M|L, default S)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadContext } from "../client/sync/context.js";
import { runSync } from "../client/sync/cycle.js";
import { runGit } from "../git/run.js";
import { DEMO_PROJECT, makeHome } from "../test/support/opencode-home.js";
import { addMessage, generate, SIZES } from "./generate.js";

// Set up once (OC_SYNC_PROFILE_ROOT unset), then profile only the incremental syncs in a second run.
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
const sessions = (new DatabaseSync(A.db, { readOnly: true }).prepare("SELECT id FROM session").all() as { id: string }[]).map((r) => r.id);
const ctx = await loadContext({ env: A.env });
for (let i = 0; i < 5; i++) {
  const db = new DatabaseSync(A.db);
  const t = Date.now();
  addMessage(db.prepare("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)"), db.prepare("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)"), sessions[i]!, A.repo, t, 10, i);
  db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(t + 1, sessions[i]!);
  db.close();
  const c = process.cpuUsage();
  const s = performance.now();
  await runSync(ctx);
  const u = process.cpuUsage(c);
  console.log(`sync ${i}: ${(performance.now() - s).toFixed(0)} ms wall, ${((u.user + u.system) / 1000).toFixed(0)} ms CPU`);
}
