// doctor: checks everything a sync depends on and says what to fix.
import { existsSync } from "node:fs";
import { listRemoteHeads } from "../../../git/remote.js";
import { runGit } from "../../../git/run.js";
import { readWrappedKey } from "../../crypto/key-store.js";
import { unwrapKey } from "../../crypto/keys.js";
import { openDatabase } from "../../platform/sqlite.js";
import { KNOWN_LAST_MIGRATION, newerSchema } from "../../sources/database-rows.js";
import { withState } from "../../state/open-state.js";
import type { SyncContext } from "../../sync/context.js";
import { MAIN_BRANCH, TRACKED_MAIN } from "../../../git/refs.js";
import { RewrittenMainError } from "../../sync/attention.js";
import { EXIT, type Output } from "../output.js";
import { trustNote } from "./status.js";

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export async function doctorCommand(ctx: SyncContext, out: Output): Promise<number> {
  const checks: Check[] = [];
  const check = async (name: string, fn: () => Promise<string>) => {
    try {
      checks.push({ name, ok: true, detail: await fn() });
    } catch (e) {
      checks.push({ name, ok: false, detail: ctx.log.mask((e as Error).message) });
    }
  };
  await check("git", async () => (await runGit(["--version"])).stdout.toString().trim());
  await check("settings", async () => ctx.settings.settingsFile ?? "no settings file (defaults; embedded remote)");
  await withState(ctx, async ({ repo, index }) => {
    let main: string | undefined;
    await check("remote", async () => {
      const heads = await listRemoteHeads(repo, ctx.remote);
      main = heads.get(MAIN_BRANCH);
      return `${ctx.log.mask(ctx.remote.url)} reachable, ${heads.size} branch(es)`;
    });
    await check("history", async () => {
      const base = index.state.base;
      if (!base || !main || main === base) return base ? "main is where this machine last synced" : "not synced with this remote yet";
      if (!(await repo.revParse(main))) return "main has moved on since this machine last synced (the next sync fetches it)";
      if (await repo.isAncestor(base, main)) return "main descends from what this machine last synced";
      throw new RewrittenMainError(ctx.log.mask(ctx.remote.url), base);
    });
    await check("passphrase", async () => {
      const wrapped = await readWrappedKey(repo, await repo.revParse(TRACKED_MAIN));
      if (!wrapped) return "the sync repo has no key yet";
      if (!ctx.settings.passphrase) return existsSync(ctx.paths.dataKey) ? "not set, but a cached key is present" : "not set: credentials are not synced";
      await unwrapKey(wrapped, ctx.settings.passphrase);
      return "unlocks the sync repo's key";
    });
    await check("database", async () => {
      if (!existsSync(ctx.opencode.database)) return `${ctx.opencode.database} not created yet (run OpenCode once); files sync meanwhile`;
      const db = await openDatabase(ctx.opencode.database, { readOnly: true });
      try {
        const newer = newerSchema(db);
        if (newer) throw new Error(`schema ${newer} is newer than this oc-sync knows (${KNOWN_LAST_MIGRATION}): sessions are read-only until you upgrade`);
        return `${ctx.opencode.database}: schema known`;
      } finally {
        db.close();
      }
    });
    await check("paths", async () => `config ${ctx.opencode.config}${existsSync(ctx.opencode.config) ? "" : " (missing)"}, state ${ctx.opencode.state}, data ${ctx.opencode.data}`);
    await check("trust", async () => trustNote(ctx));
    await check("lock", async () => (existsSync(ctx.paths.lock) ? `held (${ctx.paths.lock}): a sync is running, or a crashed one left it (it is taken over automatically)` : "free"));
  });
  for (const c of checks) out.line(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(11)} ${c.detail}`);
  out.result(checks);
  return checks.every((c) => c.ok) ? EXIT.ok : EXIT.failed;
}
