// init: point this machine at a sync repo, check the passphrase against it before anything is
// touched, then run the first sync.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { applyEdits, modify } from "jsonc-parser";
import { fetchRefs } from "../../../git/remote.js";
import { readWrappedKey } from "../../crypto/key-store.js";
import { passphraseProblem, unwrapKey } from "../../crypto/keys.js";
import { SETTINGS_FILES } from "../../config/settings.js";
import { writeFileAtomic } from "../../platform/atomic-file.js";
import { loadContext, type SyncContext } from "../../sync/context.js";
import { runSync } from "../../sync/cycle.js";
import { withState } from "../../state/open-state.js";
import { TRACKED_MAIN } from "../../../git/refs.js";
import { UsageError, type Output } from "../output.js";
import { promptSecret } from "../prompt.js";
import { setUpGitHubRepo } from "./github.js";
import { exitFor, printReport, telling } from "./sync.js";

export interface InitFlags {
  readonly remote?: string;
  readonly machine?: string;
  readonly github?: string;
}

export async function initCommand(ctx: SyncContext, out: Output, flags: InitFlags): Promise<number> {
  if (flags.github && flags.remote) throw new UsageError("give either a remote or --github owner/name, not both");
  const file = ctx.settings.settingsFile ?? join(ctx.paths.settingsDir, SETTINGS_FILES[0]!);
  const previous = await readFile(file, "utf8").catch(() => undefined);
  let text = previous ?? "{\n  // oc-sync settings for this machine (never synced)\n}\n";
  for (const [key, value] of Object.entries({ remote: flags.remote, github: flags.github, machine: flags.machine })) {
    if (value !== undefined) text = applyEdits(text, modify(text, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  }
  const env = { ...ctx.env };
  if (!env.OC_SYNC_PASSPHRASE && ctx.settings.categories.credentials && process.stdin.isTTY) {
    env.OC_SYNC_PASSPHRASE = await promptSecret("Passphrase for encrypting credentials (empty: do not sync credentials): ");
  }
  const problem = env.OC_SYNC_PASSPHRASE && passphraseProblem(env.OC_SYNC_PASSPHRASE);
  if (problem) throw new UsageError(`${problem}; nothing was written`);
  // Check the remote and the passphrase against it before keeping the settings or touching any file.
  await writeFileAtomic(file, text, 0o600);
  let next: SyncContext;
  try {
    next = await loadContext({ env });
    if (flags.github) await setUpGitHubRepo(next, flags.github, out);
    await checkRemote(next);
  } catch (e) {
    await restoreSettings(file, previous);
    throw e;
  }
  out.line(`settings written to ${file}`);
  const report = await runSync(await loadContext({ env }), telling(out));
  printReport(out, report);
  out.result({ settingsFile: file, sync: report });
  return exitFor(report);
}

/** A failed init leaves the settings as they were. */
async function restoreSettings(file: string, previous: string | undefined): Promise<void> {
  if (previous === undefined) await rm(file, { force: true });
  else await writeFileAtomic(file, previous, 0o600);
}

/** The remote is there (a wrong path or URL fails here, naming it), and the passphrase unlocks its key. */
async function checkRemote(ctx: SyncContext): Promise<void> {
  const passphrase = ctx.settings.passphrase;
  if (ctx.embedded) return;
  await withState(ctx, async ({ repo }) => {
    await fetchRefs(repo, ctx.remote);
    const wrapped = passphrase ? await readWrappedKey(repo, await repo.revParse(TRACKED_MAIN)) : null;
    if (wrapped && passphrase) await unwrapKey(wrapped, passphrase);
  });
}
