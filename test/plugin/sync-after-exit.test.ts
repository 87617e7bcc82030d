// What a short `opencode run` wrote reaches the remote right after OpenCode exits, not on its next
// start: the plugin hands what is not synced yet to a detached oc-sync, and OpenCode's exit is not held.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect, it } from "vitest";
import { recordPath } from "../../core/db-paths.js";
import { remoteRecordPaths } from "../support/remote-view.js";
import { runGit } from "../../git/run.js";
import { ensureOpenCode, opencode, prepareHome, startFakeLlm, waitFor } from "../support/opencode-real.js";
import { tempDir } from "../support/tmp.js";

it("a short `opencode run` has every message and part on the remote seconds after it exits", async () => {
  const bin = await ensureOpenCode();
  const root = await tempDir("oc-sync-exit-");
  const llm = await startFakeLlm(join(root, "llm.jsonl"));
  try {
    const remote = join(root, "remote.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    // The default 5 s debounce: the session's last rows are written well inside it, just before exit.
    const h = await prepareHome(root, "laptop", llm.port, { remote, interval: 3600 });
    const started = Date.now();
    await opencode(bin, h, ["run", "--model", "fakellm/fake-model", "Plan and note. [[todo]] [[write:notes/x.txt|written at the end]]"]);
    const exitedAfterMs = Date.now() - started;
    const db = new DatabaseSync(h.db, { readOnly: true });
    const rows = [
      ...(db.prepare("SELECT id, session_id AS sessionId FROM message").all() as { id: string; sessionId: string }[]).map((r) => recordPath({ table: "message", ...r })),
      ...(db.prepare("SELECT id, session_id AS sessionId, message_id AS messageId FROM part").all() as { id: string; sessionId: string; messageId: string }[]).map((r) => recordPath({ table: "part", ...r })),
    ];
    db.close();
    expect(rows.length).toBeGreaterThan(3);
    const missing = async () => {
      const have = new Set(await remoteRecordPaths(remote, ["db/sessions/"]));
      return rows.filter((p) => !have.has(p));
    };
    await waitFor("every row on the remote", async () => ((await missing()).length === 0 ? true : undefined), 30_000).catch(async (e: Error) => {
      throw new Error(`${e.message}; still missing: ${(await missing()).join(", ")}; oc-sync's log:\n${existsSync(h.log) ? readFileSync(h.log, "utf8") : "(none)"}`);
    });
    expect(exitedAfterMs).toBeLessThan(60_000);
  } finally {
    await llm.stop();
  }
}, 180_000);
