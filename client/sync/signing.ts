// What this machine signs (record-mac.ts): every version it commits, and, signed again unchanged,
// a version of executable config its file holds byte for byte that no current key signed (a change
// its user accepted in review; one written by an older oc-sync or before a passphrase change), so the
// user's other machines, a new one too, take it without asking. Not a merge: machines check those by
// redoing them (record-trust.ts). Never a file that carries a held or discarded value back into the
// repo (executable-gate.ts repoForm), nor one whose file here differs (keys kept local, a decision
// awaited): no machine took that value, and signed it would pass. A machine with trustExecutable on
// signs nothing (cycle.ts): it applies anyone's executable config unreviewed.
import type { SyncRecord } from "../../core/record.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import type { RecordSigner } from "../crypto/record-mac.js";
import type { HeldStore } from "../state/held-store.js";
import type { Source } from "../sources/source.js";
import { isVersionOf, type IndexStore } from "../state/index-store.js";

/** Whether `path` has a held change no one accepted: its file here carries that value back into the repo. */
function unsettled(held: HeldStore, path: string): boolean {
  return held.forPath(path).some((h) => h.status !== "accepted");
}

/** What a commit signs, and the mark to save with it (see countersigned). */
export interface CommitSigning {
  readonly sign?: (record: SyncRecord) => SyncRecord;
  readonly countersign?: (offered: ReadonlySet<string>) => AsyncIterable<SyncRecord>;
  readonly state: { readonly countersigned?: string };
}

/**
 * How this machine signs what it commits; nothing without a key. `keepsOwn`: paths whose file here
 * keeps values of its own (the setting `local`, keys awaiting a decision): their record takes those
 * keys from the commit's parent, which may be a main this machine has not checked, so it is not signed.
 */
export function commitSigning(repo: GitRepo, index: IndexStore, signer: RecordSigner | null, config: Source | undefined, keepsOwn: (path: string) => boolean): CommitSigning {
  if (!signer) return { state: {} };
  // A commit's scan only takes held changes away (an edit here supersedes one): none now, none while it runs.
  const none = index.held.all().length === 0;
  const sign = (record: SyncRecord) => (keepsOwn(record.path) || (!none && unsettled(index.held, record.path)) ? record : signer.sign(record));
  // Executable config applied since the last look under this key (a new key looks at everything again).
  const applied = config && index.state.applied(config.category);
  const mark = index.state.countersigned;
  const from = mark?.startsWith(`${signer.keyId}:`) ? mark.slice(signer.keyId.length + 1) : null;
  if (!config || !applied || from === applied) return { sign, state: {} };
  const range = { from, to: applied, prefixes: config.prefixes };
  return { sign, countersign: (offered) => countersigned(repo, index, signer, range, offered), state: { countersigned: `${signer.keyId}:${applied}` } };
}

/**
 * The versions under `prefixes` that changed between `from` (null: ever) and `to`, a commit this
 * machine applied, that its files hold as they are there but that no current key signed: signed
 * now, to be committed as they are. `offered`: paths the commit has a new version of already.
 */
async function* countersigned(repo: GitRepo, index: IndexStore, signer: RecordSigner, range: { from: string | null; to: string; prefixes: readonly string[] }, offered: ReadonlySet<string>): AsyncIterable<SyncRecord> {
  const paths = (await repo.diff(range.from, range.to, range.prefixes)).filter((c) => c.oid !== null && !offered.has(c.path)).map((c) => c.path);
  if (!paths.length) return;
  const known = index.getMany(paths);
  for (const r of (await readRecords(repo, range.to, paths, () => {})).values()) {
    const here = known.get(r.path);
    const asHere = isVersionOf(here, r) && !r.deleted && here.localHash === r.hash;
    if (!asHere || r.merged || signer.authentic(r) || unsettled(index.held, r.path)) continue;
    yield signer.sign(r);
  }
}
