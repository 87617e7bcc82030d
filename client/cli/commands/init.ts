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
import { gitHubRepoName, setUpGitHubRepo } from "./github.js";
import { exitFor, printReport, telling } from "./sync.js";

export interface InitFlags {
  readonly remote?: string;
  readonly machine?: string;
  /** owner/name; "" for the default, `<login>/opencode-sync`. */
  readonly github?: string;
}

export async function initCommand(ctx: SyncContext, out: Output, flags: InitFlags): Promise<number> {
  if (flags.github !== undefined && flags.remote) throw new UsageError("give either a remote or --github owner/name, not both");
  if (flags.github !== undefined && ctx.settings.remote) throw new UsageError(remoteWins(ctx));
  const github = flags.github === undefined ? undefined : await gitHubRepoName(ctx, flags.github);
  const file = ctx.settings.settingsFile ?? join(ctx.paths.settingsDir, SETTINGS_FILES[0]!);
  const previous = await readFile(file, "utf8").catch(() => undefined);
  let text = previous ?? "{\n  // oc-sync settings for this machine (never synced)\n}\n";
  for (const [key, value] of Object.entries({ remote: flags.remote, github, machine: flags.machine })) {
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
    if (github) await setUpGitHubRepo(next, github, out);
    await checkRemote(next);
  } catch (e) {
    await restoreSettings(file, previous);
    throw e;
  }
  out.line(`settings written to ${file}`);
  const report = await runSync(await loadContext({ env }), telling(out));
  printReport(out, report);
  out.result({ settingsFile: file, github, sync: report });
  return exitFor(report);
}

/** A `remote` (the setting or OC_SYNC_REMOTE) wins over `github`: setting up GitHub beside it would change nothing. */
function remoteWins(ctx: SyncContext): string {
  const where = ctx.env.OC_SYNC_REMOTE ? "OC_SYNC_REMOTE" : `${ctx.settings.settingsFile ?? "the settings file"}: setting "remote"`;
  return `${where} names ${ctx.log.mask(ctx.remote.url)}, which wins over --github; nothing was changed. To move this machine to GitHub, remove that remote first (every machine must switch too), then run init --github again`;
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
