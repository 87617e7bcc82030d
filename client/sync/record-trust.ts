// Whether a record in the sync repo comes from the user's machines: signed by one (record-mac.ts),
// or the result of a merge (the Action's, which has no key) that this machine redoes from the
// signed versions it names and gets exactly. Anything else may come from anyone who can push.
// What a forged merge can still do: pick, among versions the user's machines wrote, two concurrent
// ones and which of them wins where they overlap (the strategy); its base must be a version both
// descend from, and none only when they share no history, so it cannot bring back what either removed.
import { decodeRecord, encodeRecord, recordBlobId, type SyncRecord } from "../../core/record.js";
import { reconcileRecord } from "../../core/reconcile.js";
import { atMost, meetVectors } from "../../core/vector.js";
import type { GitRepo } from "../../git/repo.js";
import type { RecordSigner } from "../crypto/record-mac.js";

/**
 * How many merges deep a merged record's inputs are followed: a merge of a merge of… a signed
 * version. Each machine's edit is signed again, so chains stay short; past this the record is held.
 */
const MERGE_DEPTH = 8;
/** How many inputs one record's check reads at most, one at a time: a crafted chain costs this, no more. */
const INPUT_READS = 30;
/** The largest input a check reads (a merge of executable config names small files). */
const INPUT_BYTES = 4 * 1024 * 1024;

export type RecordTrust = (record: SyncRecord) => Promise<boolean>;

export function recordTrust(repo: GitRepo, signer: RecordSigner): RecordTrust {
  return async (record) => {
    const budget = { reads: INPUT_READS };
    try {
      return await trusted(repo, signer, record, MERGE_DEPTH, budget);
    } catch {
      // An input git cannot read is no input: the record is held, the sync goes on.
      return false;
    }
  };
}

/**
 * Whether the repo holds this very version signed by the current key: signed again at a passphrase
 * change or countersigned (signing.ts), while this copy (the base of a later merge, say) carries the
 * old signature or none. Only a key holder can have made that copy's bytes.
 */
async function signedCopyExists(repo: GitRepo, signer: RecordSigner, record: SyncRecord): Promise<boolean> {
  const [size] = await repo.objectSizes([recordBlobId(signer.sign(record))]);
  return size! >= 0;
}

async function trusted(repo: GitRepo, signer: RecordSigner, record: SyncRecord, depth: number, budget: { reads: number }): Promise<boolean> {
  if (signer.authentic(record) || (await signedCopyExists(repo, signer, record))) return true;
  const m = record.merged;
  if (!m || depth === 0) return false;
  const input = async (oid: string): Promise<SyncRecord | undefined> => {
    if (--budget.reads < 0) return undefined;
    const [size] = await repo.objectSizes([oid]);
    if (!(size! <= INPUT_BYTES)) return undefined;
    const bytes = await repo.readBlob(oid);
    const r = bytes && decodeRecord(record.path, bytes);
    return r && (await trusted(repo, signer, r, depth - 1, budget)) ? r : undefined;
  };
  const main = await input(m.main);
  const branch = main && (await input(m.branch));
  if (!main || !branch) return false;
  const common = meetVectors(main.vector, branch.vector);
  const base = m.base === null ? null : await input(m.base);
  if (base === undefined) return false;
  if (base === null ? Object.keys(common).length > 0 : !atMost(base.vector, main.vector) || !atMost(base.vector, branch.vector)) return false;
  const redone = reconcileRecord(base ?? undefined, main, branch, m.strategy).record;
  return Buffer.from(encodeRecord(redone)).equals(Buffer.from(encodeRecord({ ...record, mac: undefined })));
}
