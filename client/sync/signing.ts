// What this machine signs (record-mac.ts): every version it commits, and, signed again unchanged,
// a version of executable config or credentials its file holds as it is that no current key signed
// (a change its user accepted in review; one written by an older oc-sync or before a passphrase
// change), so the user's other machines, a new one too, take it without asking. A merge only of
// credentials, when the others cannot redo it (record-trust.ts: its inputs were signed by a key a
// passphrase change replaced). Never a file that carries a held or discarded value back into the
// repo (executable-gate.ts), nor one whose file here differs (keys kept local, a decision awaited):
// no machine took that value, and signed it would pass. A machine with trustExecutable on signs
// only credentials (cycle.ts): it applies anyone's config unreviewed.
import type { SyncRecord } from "../../core/record.js";
import { compareVectors } from "../../core/vector.js";
import { CREDENTIALS_CATEGORY } from "../sources/credentials.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import type { KeyRing } from "../crypto/keys.js";
import { recordSigner, type RecordSigner } from "../crypto/record-mac.js";
import { recordTrust, type RecordTrust } from "./record-trust.js";
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
  /** A version merged here with `there`, the parent's (local-commit.ts mergedWithParent): signed when that is trusted. */
  readonly signMerged?: (merged: SyncRecord, there: SyncRecord) => Promise<SyncRecord>;
  readonly countersign?: (offered: ReadonlySet<string>, parent: string | null) => AsyncIterable<SyncRecord>;
  readonly state: { readonly countersigned?: string };
}

/** Up to which applied commit, per category, this machine signed again under key `keyId` (a mark under another key, or an older form: nothing yet). */
function marked(mark: string | null, keyId: string): Record<string, string> {
  try {
    const m = JSON.parse(mark ?? "null") as { key?: string; at?: Record<string, string> } | null;
    return m?.key === keyId && m.at ? m.at : {};
  } catch {
    return {};
  }
}

interface Range {
  readonly source: Source;
  readonly from: string | null;
  readonly to: string;
}

/**
 * How this machine signs what it commits; nothing without a key. `checked`: the sources whose records
 * the gates check (executable config, credentials), signed again where their files hold them.
 * `keepsOwn`: paths whose file here keeps values of its own (the setting `local`, keys awaiting a
 * decision) or may hold values no machine checked: their record takes those from the commit's parent,
 * which may be a main this machine has not checked, so it is not signed.
 */
export function commitSigning(repo: GitRepo, index: IndexStore, signer: RecordSigner | null, trust: RecordTrust | null, checked: readonly Source[], keepsOwn: (path: string) => boolean): CommitSigning {
  if (!signer || !trust) return { state: {} };
  // A commit's scan only takes held changes away (an edit here supersedes one): none now, none while it runs.
  const none = index.held.all().length === 0;
  const sign = (record: SyncRecord) => (keepsOwn(record.path) || (!none && unsettled(index.held, record.path)) ? record : signer.sign(record));
  const signMerged = async (merged: SyncRecord, there: SyncRecord) => ((await trust(there)) ? sign(merged) : merged);
  // What each was applied up to since the last look under this key (a new key looks at everything again).
  const mark = marked(index.state.countersigned, signer.keyId);
  const ranges: Range[] = checked.flatMap((source) => {
    const to = index.state.applied(source.category);
    return to && mark[source.category] !== to ? [{ source, from: mark[source.category] ?? null, to }] : [];
  });
  if (!ranges.length) return { sign, signMerged, state: {} };
  const at = { ...mark, ...Object.fromEntries(ranges.map((r) => [r.source.category, r.to])) };
  return { sign, signMerged, countersign: (offered, parent) => countersigned(repo, index, { signer, trust }, ranges, { offered, parent }, keepsOwn), state: { countersigned: JSON.stringify({ key: signer.keyId, at }) } };
}

/**
 * The versions of each range's source that changed between `from` (null: ever) and `to`, a commit
 * this machine applied, that its files hold as they are there but that no current key signed:
 * signed now, to be committed as they are onto `commit.parent`, where none is newer (seed 7115: a
 * main merged since would lose that merge). `commit.offered`: paths it has a new version of already.
 */
async function* countersigned(repo: GitRepo, index: IndexStore, { signer, trust }: { signer: RecordSigner; trust: RecordTrust }, ranges: readonly Range[], commit: { offered: ReadonlySet<string>; parent: string | null }, keepsOwn: (path: string) => boolean): AsyncIterable<SyncRecord> {
  for (const { source, from, to } of ranges) {
    const paths = (await repo.diff(from, to, source.prefixes)).filter((c) => c.oid !== null && !commit.offered.has(c.path) && !keepsOwn(c.path)).map((c) => c.path);
    if (!paths.length) continue;
    const known = index.getMany(paths);
    const onParent = commit.parent && commit.parent !== to ? await readRecords(repo, commit.parent, paths, () => {}) : new Map<string, SyncRecord>();
    const outdates = (r: SyncRecord) => {
      const there = onParent.get(r.path);
      return there !== undefined && !["equal", "behind"].includes(compareVectors(there.vector, r.vector));
    };
    for (const r of (await readRecords(repo, to, paths, () => {})).values()) {
      const here = known.get(r.path);
      if (!isVersionOf(here, r) || r.deleted || signer.authentic(r) || unsettled(index.held, r.path) || outdates(r)) continue;
      // A merge others can redo needs no signature. Of credentials, one they cannot (its inputs signed by a key a passphrase
      // change replaced, accepted in review here) does: this machine took only trusted or accepted versions of them.
      if (r.merged && (source.category !== CREDENTIALS_CATEGORY || (await trust(r)))) continue;
      if (await holdsHere(source, r, here.localHash)) yield signer.sign(r);
    }
  }
}

/** Whether the file here (hashed `localHash`) holds `r` as it is; false when this machine cannot tell (it cannot decrypt it). */
async function holdsHere(source: Source, r: SyncRecord, localHash: string | null): Promise<boolean> {
  try {
    return source.holdsHere ? await source.holdsHere(r) : localHash === r.hash;
  } catch {
    return false;
  }
}

/**
 * What a passphrase change signs again under the new key: every version under `prefixes` in `commit`
 * that this machine holds (it took it through its gates) and that the old key signed, or a merge of
 * such that checks; unchanged but for the signature. Without it, the first merge after the change,
 * whose base only the old key signed, would be held everywhere. Not what it never took: someone
 * with the old key (why passphrases change) may have put that there just before.
 */
export async function signedAgain(repo: GitRepo, index: IndexStore, commit: string, old: KeyRing, next: RecordSigner, prefixes: readonly string[]): Promise<SyncRecord[]> {
  const trust = recordTrust(repo, recordSigner(old));
  const paths = (await repo.diff(null, commit, prefixes)).filter((c) => c.oid !== null).map((c) => c.path);
  const known = index.getMany(paths);
  const out: SyncRecord[] = [];
  for (const r of (await readRecords(repo, commit, paths, () => {})).values()) if (isVersionOf(known.get(r.path), r) && (await trust(r))) out.push(next.sign(r));
  return out;
}
