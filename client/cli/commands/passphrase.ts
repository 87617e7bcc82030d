// passphrase change: rotates the data key. The new key, wrapped by the new passphrase, carries the
// earlier ones, so every value they encrypted stays readable; what is encrypted from now on, the old
// passphrase and the old key do not open. Values are not re-encrypted: their old ciphertexts stay in
// git history for whoever holds the old key anyway, and new ciphertexts of unchanged values would
// make every entry look edited to the merges of machines that have not switched yet. What the old key
// signed is signed again by the new one, in the same commit.
import { KEY_PATH } from "../../../core/layout.js";
import { compareAndSwap } from "../../../git/cas.js";
import { MAIN_BRANCH, TRACKED_MAIN } from "../../../git/refs.js";
import { cacheKey, readWrappedKey } from "../../crypto/key-store.js";
import { keyRing, newDataKey, passphraseProblem, unwrapKey, wrapKey } from "../../crypto/keys.js";
import { withState } from "../../state/open-state.js";
import type { SyncContext } from "../../sync/context.js";
import { commitMessage } from "../../../core/trailers.js";
import { EXIT, UsageError, type Output } from "../output.js";
import { promptSecret } from "../prompt.js";
import { encodeRecord } from "../../../core/record.js";
import { recordSigner } from "../../crypto/record-mac.js";
import { signedAgain } from "../../sync/signing.js";
import { GATED_PREFIXES } from "../../sync/sources.js";

export async function passphraseChangeCommand(ctx: SyncContext, out: Output): Promise<number> {
  const current = ctx.settings.passphrase ?? (await promptSecret("Current passphrase: "));
  const next = ctx.env.OC_SYNC_NEW_PASSPHRASE ?? (await promptSecret("New passphrase: "));
  const problem = passphraseProblem(next);
  if (problem) throw new UsageError(`${problem}; nothing was changed`);
  return withState(ctx, async ({ repo, index }) => {
    const step = async () => {
      const main = await repo.revParse(TRACKED_MAIN);
      const wrapped = await readWrappedKey(repo, main);
      if (!main || !wrapped) throw new Error("this sync repo has no key yet: set OC_SYNC_PASSPHRASE and run 'oc-sync sync' to create one");
      const ring = keyRing(wrapped, await unwrapKey(wrapped, current));
      const key = newDataKey();
      const rotated = await wrapKey(key, next, [ring.current, ...ring.older]);
      const message = commitMessage(`oc-sync: ${ctx.machine} changed the passphrase and rotated the data key [skip ci]`, { machine: ctx.machine });
      // What the old key vouched for, the new one does: a machine checks signatures with the current key only.
      const resigned = await signedAgain(repo, index, main, ring, recordSigner({ current: key, older: [] }), GATED_PREFIXES);
      const changes: [string, Uint8Array][] = [[KEY_PATH, Buffer.from(JSON.stringify(rotated, null, 2) + "\n")], ...resigned.map((r): [string, Uint8Array] => [r.path, encodeRecord(r)])];
      const commit = await repo.commit({ parents: [main], message, changes });
      return { moves: [{ branch: MAIN_BRANCH, to: commit }], value: { key, commit, rotated } };
    };
    const { key, commit, rotated } = await compareAndSwap(repo, ctx.remote, step, { what: "could not push the new key", fetchFirst: true });
    await cacheKey(ctx.paths.dataKey, key, rotated);
    out.line("passphrase changed and the data key rotated: credentials encrypted from now on open only with the new passphrase");
    out.line("every other machine asks for the new passphrase at its next sync; its credentials stay as they are until it has it");
    out.result({ changed: true, commit, keyId: rotated.keyId });
    return EXIT.ok;
  });
}
