// passphrase change: rewraps the data key with a new passphrase; no credential is re-encrypted.
import { KEY_PATH } from "../../../core/layout.js";
import { fetchRefs, pushAtomic } from "../../../git/remote.js";
import { cacheKey, readWrappedKey } from "../../crypto/key-store.js";
import { unwrapKey, wrapKey } from "../../crypto/keys.js";
import { withState } from "../../sync/cycle.js";
import type { SyncContext } from "../../sync/context.js";
import { MAIN } from "../../sync/sync-repo.js";
import { EXIT, type Output } from "../output.js";
import { promptSecret } from "../prompt.js";

export async function passphraseChangeCommand(ctx: SyncContext, out: Output): Promise<number> {
  const current = ctx.settings.passphrase ?? (await promptSecret("Current passphrase: "));
  const next = ctx.env.OC_SYNC_NEW_PASSPHRASE ?? (await promptSecret("New passphrase: "));
  return withState(ctx, async ({ repo }) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      await fetchRefs(repo, ctx.remote);
      const main = await repo.revParse(MAIN);
      const wrapped = await readWrappedKey(repo, main);
      if (!main || !wrapped) throw new Error("this sync repo has no key yet: set OC_SYNC_PASSPHRASE and run 'oc-sync sync' to create one");
      const key = await unwrapKey(wrapped, current);
      const rewrapped = await wrapKey(key, next);
      const commit = await repo.commit({ parents: [main], message: `oc-sync: ${ctx.machine} changed the passphrase [skip ci]`, changes: [[KEY_PATH, Buffer.from(JSON.stringify(rewrapped, null, 2) + "\n")]] });
      const pushed = await pushAtomic(repo, ctx.remote, [{ ref: "main", oid: commit, expected: main }]);
      if (pushed.ok) {
        await cacheKey(ctx.paths.dataKey, key);
        out.line("passphrase changed; use the new one on every other machine (their cached key keeps working)");
        out.result({ changed: true, commit });
        return EXIT.ok;
      }
      if (pushed.reason !== "rejected") throw new Error(`could not push the new key: ${pushed.message}`);
    }
    throw new Error("other machines kept changing the sync repo; try again");
  });
}
