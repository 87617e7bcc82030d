// passphrase change: rewraps the data key with a new passphrase; no credential is re-encrypted.
import { KEY_PATH } from "../../../core/layout.js";
import { compareAndSwap } from "../../../git/cas.js";
import { MAIN_BRANCH, TRACKED_MAIN } from "../../../git/refs.js";
import { cacheKey, readWrappedKey } from "../../crypto/key-store.js";
import { unwrapKey, wrapKey } from "../../crypto/keys.js";
import { withState } from "../../state/open-state.js";
import type { SyncContext } from "../../sync/context.js";
import { EXIT, type Output } from "../output.js";
import { promptSecret } from "../prompt.js";

export async function passphraseChangeCommand(ctx: SyncContext, out: Output): Promise<number> {
  const current = ctx.settings.passphrase ?? (await promptSecret("Current passphrase: "));
  const next = ctx.env.OC_SYNC_NEW_PASSPHRASE ?? (await promptSecret("New passphrase: "));
  return withState(ctx, async ({ repo }) => {
    const step = async () => {
      const main = await repo.revParse(TRACKED_MAIN);
      const wrapped = await readWrappedKey(repo, main);
      if (!main || !wrapped) throw new Error("this sync repo has no key yet: set OC_SYNC_PASSPHRASE and run 'oc-sync sync' to create one");
      const key = await unwrapKey(wrapped, current);
      const rewrapped = await wrapKey(key, next);
      const commit = await repo.commit({ parents: [main], message: `oc-sync: ${ctx.machine} changed the passphrase [skip ci]`, changes: [[KEY_PATH, Buffer.from(JSON.stringify(rewrapped, null, 2) + "\n")]] });
      return { moves: [{ branch: MAIN_BRANCH, to: commit }], value: { key, commit } };
    };
    const { key, commit } = await compareAndSwap(repo, ctx.remote, step, { what: "could not push the new key", fetchFirst: true });
    await cacheKey(ctx.paths.dataKey, key);
    out.line("passphrase changed; use the new one on every other machine (their cached key keeps working)");
    out.result({ changed: true, commit });
    return EXIT.ok;
  });
}
