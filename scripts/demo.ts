// npm run demo [-- --keep]: two machines, one remote, edits on both sides, sync, merge, convergence,
// conflicts and why each went the way it did. Everything runs in a temporary folder with real git,
// real SQLite and real files; --keep leaves the folder to look around in.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadContext } from "../client/sync/context.js";
import { runSync } from "../client/sync/cycle.js";
import { withState } from "../client/state/open-state.js";
import { listConflicts } from "../client/sync/conflicts.js";
import { whyKept } from "../core/conflict.js";
import { runGit } from "../git/run.js";
import { addProject, addSession, createDatabase, makeHome, openDb, type TestHome } from "../test/support/opencode-home.js";

const keep = process.argv.slice(2).includes("--keep");
const root = mkdtempSync(join(tmpdir(), "oc-sync-demo-"));
const say = (s = "") => console.log(s);
const step = (s: string) => say(`\n== ${s}`);

async function sync(h: TestHome, name: string) {
  const r = await runSync(await loadContext({ env: h.env }));
  say(`   ${name}: ${r.outcome}, ${r.committed} local change(s) committed, ${r.applied} record(s) applied${r.conflicts.length ? `, ${r.conflicts.length} conflict(s) kept` : ""}`);
  return r;
}

const sessions = (h: TestHome) => {
  const db = openDb(h);
  const rows = db.prepare("SELECT id, title, directory FROM session ORDER BY id").all() as { id: string; title: string; directory: string }[];
  db.close();
  return rows;
};

try {
  const remote = join(root, "remote.git");
  await runGit(["init", "--bare", "-q", "-b", "main", remote]);
  const env = { OC_SYNC_REMOTE: remote, OC_SYNC_PASSPHRASE: "demo passphrase 123" };
  const A = makeHome(root, "laptop", env);
  const B = makeHome(root, "desktop", env);
  say(`oc-sync demo in ${root}\nremote: a bare git repository at ${remote} (local-merge mode)`);

  step("laptop: OpenCode config with comments, an agent, an API key, and two sessions");
  writeFileSync(join(A.config, "opencode.jsonc"), `{\n  // models I use everywhere\n  "model": "anthropic/claude-sonnet",\n  "theme": "dark"\n}\n`);
  mkdirSync(join(A.config, "agent"), { recursive: true });
  writeFileSync(join(A.config, "agent", "review.md"), "# Reviewer\n\nPoint out bugs first.\n");
  writeFileSync(join(A.data, "auth.json"), JSON.stringify({ anthropic: { type: "api", key: "sk-ant-demo-secret" } }, null, 2), { mode: 0o600 });
  const dbA = createDatabase(A);
  addProject(dbA, A);
  addSession(dbA, A, { title: "Fix the login bug", messages: 4 });
  addSession(dbA, A, { title: "Write release notes", messages: 2 });
  dbA.close();
  await sync(A, "laptop");

  step("desktop: OpenCode has run once (empty database); first sync brings everything");
  const dbB = createDatabase(B);
  addProject(dbB, B);
  dbB.close();
  await sync(B, "desktop");
  say(`   desktop now has ${sessions(B).length} sessions; their directory points into the desktop's checkout:`);
  for (const s of sessions(B)) say(`     ${s.id}  ${s.title}  ${s.directory}`);
  say(`   desktop auth.json (mode ${(0o777 & (await import("node:fs")).statSync(join(B.data, "auth.json")).mode).toString(8)}): decrypted locally; the repo holds only ciphertext`);

  step("both machines edit at the same time");
  const cfg = (h: TestHome) => join(h.config, "opencode.jsonc");
  writeFileSync(cfg(A), readFileSync(cfg(A), "utf8").replace('"dark"', '"light"').replace('"theme"', '"autoupdate": false,\n  "theme"'));
  writeFileSync(cfg(B), readFileSync(cfg(B), "utf8").replace('"dark"', '"solarized"').replace("claude-sonnet", "claude-opus"));
  // A minute apart, so which edit is newer is plain to see (a file's edit time is its mtime).
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(cfg(A), minuteAgo, minuteAgo);
  say(`   laptop:  theme → light, adds autoupdate: false (edited at ${minuteAgo.toISOString()})`);
  say(`   desktop: theme → solarized (same key!), model → claude-opus (edited a minute later)`);
  const a2 = openDb(A);
  addSession(a2, A, { title: "Laptop: refactor auth", messages: 3 });
  a2.close();
  const b2 = openDb(B);
  addSession(b2, B, { title: "Desktop: tune the CI", messages: 3 });
  b2.close();
  say("   and each starts a new session");

  step("sync: laptop pushes, desktop merges, laptop pulls the merge");
  await sync(A, "laptop");
  await sync(B, "desktop");
  await sync(A, "laptop");

  step("converged");
  const same = readFileSync(cfg(A), "utf8") === readFileSync(cfg(B), "utf8");
  say(`   opencode.jsonc identical on both: ${same}; comments kept:`);
  say(readFileSync(cfg(A), "utf8").replace(/^/gm, "     "));
  say(`   sessions: laptop ${sessions(A).length}, desktop ${sessions(B).length}`);

  step("conflicts (the losing side is kept, never dropped)");
  const ctx = await loadContext({ env: B.env });
  await withState(ctx, async ({ repo, index }) => {
    for (const c of await listConflicts(repo, index.state.base)) {
      say(`   ${c.id}  ${c.path} at ${c.at}: kept ${c.kept.writer}'s ${c.kept.value}, kept aside ${c.lost.writer}'s ${c.lost.value}`);
      say(`   why: ${whyKept(c)}`);
      say(`   → 'oc-sync resolve ${c.id} --keep ${c.lost.writer}' would switch to the other value`);
    }
  });
} finally {
  if (keep) say(`\nkept the demo folder ${root}: the remote is remote.git, each machine's home a folder beside it (remove it with rm -rf when done)`);
  else {
    rmSync(root, { recursive: true, force: true });
    say(`\nremoved the demo folder ${root} ('npm run demo -- --keep' keeps it)`);
  }
}
