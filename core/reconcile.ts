// reconcile(base, main, branch): fold one machine branch into main, record by record.
// Pure: record sets in, merged records, conflicts and an audit trail of decisions out.
import { conflictId, wholeValue, type Conflict, type ConflictSide, type OverlapSink } from "./conflict.js";
import { isLatestTime, MERGE_WRITER } from "./layout.js";
import { mergeContent } from "./merge/index.js";
import { makeRecord, recordBlobId, sameVersion, type RecordSet, type SyncRecord } from "./record.js";
import { deleteBeatsTouch, orphansOf, revivedRows, sessionsWithNewMessages, type DecidedRow } from "./session-deletes.js";
import { overlapWinner, type Side, type Strategy } from "./strategy.js";
import { compareVectors, mergeVectors, type Ordering } from "./vector.js";

export type Action = "kept-main" | "took-branch" | "merged" | "unchanged";

export interface Decision {
  readonly path: string;
  /** How the branch's vector relates to main's ("branch-only" for a record main has never had, "main-only" for one the branch left alone). */
  readonly comparison: Ordering | "branch-only" | "main-only";
  readonly action: Action;
  readonly why: string;
  readonly conflicts: number;
}

export interface ReconcileOptions {
  readonly strategy: Strategy;
  /**
   * Rows outside the merge that its rows belong to (their sessions and messages, as main has them):
   * a row the merge changed is orphaned by a delete from before the merge base too.
   */
  readonly parents?: RecordSet;
}

export interface ReconcileResult {
  /** The new main record set. */
  readonly records: RecordSet;
  /** Records whose version differs from main's: what a commit must write. */
  readonly changed: readonly SyncRecord[];
  readonly conflicts: readonly Conflict[];
  readonly decisions: readonly Decision[];
}

/**
 * `base` is the record set at the merge base of main and the branch; only paths present in main
 * or branch are considered, so callers may pass just the paths that changed on either side.
 */
export function reconcile(base: RecordSet, main: RecordSet, branch: RecordSet, options: ReconcileOptions): ReconcileResult {
  const records = new Map(main);
  const changed = new Map<string, SyncRecord>();
  const conflicts: Conflict[] = [];
  const decisions = new Map<string, Decision>();
  const revived = sessionsWithNewMessages(base, main, branch);
  for (const [path, b] of branch) {
    const m = main.get(path);
    if (m === undefined) {
      records.set(path, b);
      changed.set(path, b);
      decisions.set(path, { path, comparison: "branch-only", action: "took-branch", why: "new record from the branch", conflicts: 0 });
      continue;
    }
    const outcome = reconcileRecord(base.get(path), m, b, options.strategy, revived);
    if (outcome.record !== m) {
      records.set(path, outcome.record);
      changed.set(path, outcome.record);
    }
    conflicts.push(...outcome.conflicts);
    decisions.set(path, { path, comparison: outcome.comparison, action: outcome.action, why: outcome.why, conflicts: outcome.conflicts.length });
  }
  // Rows a decision about their session replaced, each with the conflict that keeps what it replaced.
  const decide = (decided: readonly DecidedRow[], into: Conflict[], why: string) => {
    for (const { record, conflict } of decided) {
      records.set(record.path, record);
      changed.set(record.path, record);
      into.push(conflict);
      decisions.set(record.path, { path: record.path, comparison: decisions.get(record.path)?.comparison ?? "main-only", action: "merged", why, conflicts: 1 });
    }
  };
  decide(revivedRows(records, main, branch, revived, options.strategy, MERGE_WRITER), conflicts, "deleted on one side, a message that delete never saw on the other: the session comes back, the delete kept as a conflict");
  const orphans = orphansOf(records, main, options.strategy, MERGE_WRITER, options.parents);
  const orphaned = new Set(orphans.map((o) => o.record.path));
  // An orphan's conflict against a delete is moot now that it is deleted; one between two edits keeps the losing value.
  const settled = conflicts.filter((c) => !orphaned.has(c.path) || c.lost.value !== null);
  decide(orphans, settled, "the row it belongs to was deleted on the other side: deleted too, its content kept as a conflict");
  return { records, changed: [...changed.values()], conflicts: settled, decisions: [...decisions.values()] };
}

interface RecordOutcome {
  record: SyncRecord;
  comparison: Ordering;
  action: Action;
  why: string;
  conflicts: Conflict[];
}

/** `revived`: sessions a merge of whole record sets found a new message in (see core/session-deletes.ts); a lone record's merge decides it alone. */
export function reconcileRecord(base: SyncRecord | undefined, main: SyncRecord, branch: SyncRecord, strategy: Strategy, revived?: ReadonlySet<string>): RecordOutcome {
  const comparison = compareVectors(branch.vector, main.vector);
  const plain = (record: SyncRecord, action: Action, why: string): RecordOutcome => ({ record, comparison, action, why, conflicts: [] });
  if (comparison === "behind") return plain(main, "kept-main", "main has already seen the branch's version");
  if (comparison === "ahead") return plain(branch, "took-branch", "the branch's version descends from main's");
  if (comparison === "equal" && sameVersion(main, branch)) {
    // A machine signed again a version main has unsigned (a merge it redid, a change its user accepted): the signed copy goes on.
    if (branch.mac !== undefined && branch.mac !== main.mac) return plain(branch, "took-branch", "same version, signed on the branch");
    return plain(main, "unchanged", "same version on both sides");
  }
  return mergeConcurrent(base, main, branch, strategy, comparison, revived);
}

/** Which side holds the later of two times (JSON numbers); undefined unless both are numbers. */
function laterTime(main: string | null, branch: string | null): Side | undefined {
  const [m, b] = [main, branch].map((v) => (v !== null && /^\d+$/.test(v) ? Number(v) : NaN));
  if (Number.isNaN(m) || Number.isNaN(b)) return undefined;
  return m! >= b! ? "main" : "branch";
}

function mergeConcurrent(base: SyncRecord | undefined, main: SyncRecord, branch: SyncRecord, strategy: Strategy, comparison: Ordering, revived: ReadonlySet<string> | undefined): RecordOutcome {
  const conflicts: Conflict[] = [];
  const sides = { main, branch };
  // A whole record is kept as its exact bytes (base64 when not UTF-8), so choosing it later gives them back.
  const whole = { main: wholeValue(live(main)), branch: wholeValue(live(branch)) };
  const keep = (at: string, winner: Side, values: Record<Side, Pick<ConflictSide, "value" | "encoding">>) => {
    const loser: Side = winner === "main" ? "branch" : "main";
    const record = (side: Side): ConflictSide => ({ side, writer: sides[side].writer, updatedAt: sides[side].updatedAt, ...values[side] });
    conflicts.push({ id: conflictId(main.path, at, values[winner].value, values[loser].value), path: main.path, at, strategy, kept: record(winner), lost: record(loser), needsDecision: strategy === "ask" });
  };
  const sink: OverlapSink = {
    overlap(at, mainValue, branchValue) {
      const later = isLatestTime(main.path, at) && laterTime(mainValue, branchValue);
      if (later) return later;
      const winner = overlapWinner(strategy, sides);
      keep(at, winner, at === "" ? whole : { main: { value: mainValue }, branch: { value: branchValue } });
      return winner;
    },
  };
  const vector = mergeVectors(main.vector, branch.vector);
  const newer = main.updatedAt >= branch.updatedAt ? main : branch;
  // What it merged, so a machine with the key can redo the merge from signed versions and check it (the Action cannot sign).
  const inputs = { base: base ? recordBlobId(base) : null, main: recordBlobId(main), branch: recordBlobId(branch), strategy };
  const finish = (content: Uint8Array | null, why: string): RecordOutcome => ({
    record: { ...makeRecord({ path: main.path, kind: branch.kind, content, vector, updatedAt: newer.updatedAt, writer: newer.writer }), merged: inputs },
    comparison,
    action: "merged",
    why,
    conflicts,
  });

  if (main.deleted && branch.deleted) return finish(null, "deleted on both sides");
  if (main.deleted || branch.deleted) {
    // Delete against a concurrent edit: the edit survives, the delete is recorded as the conflict.
    const editedSide: Side = main.deleted ? "branch" : "main";
    if (revived && deleteBeatsTouch(base, sides[editedSide], revived)) return finish(null, "deleted on one side, only its time touched on the other: the delete is kept");
    keep("", editedSide, whole);
    return finish(sides[editedSide].content, "deleted on one side, edited on the other: the edit is kept");
  }
  if (strategy === "newest-wins" || strategy === "local-wins" || strategy === "remote-wins") {
    // Whole-record strategies still merge first, so identical or non-overlapping edits are not conflicts.
    let overlaps = 0;
    const merged = mergeContent(main.kind, live(base), main.content!, branch.content!, { overlap: () => (overlaps++, "main") });
    if (overlaps === 0) return finish(merged, "concurrent edits that do not overlap");
    const winner = sink.overlap("", whole.main.value, whole.branch.value);
    return finish(sides[winner].content, `overlapping edits: ${strategy} keeps the ${winner} version`);
  }
  const merged = mergeContent(main.kind, live(base), main.content!, branch.content!, sink);
  return finish(merged, conflicts.length ? `merged; ${conflicts.length} overlapping change(s) decided by ${strategy}` : "concurrent edits merged");
}

function live(r: SyncRecord | undefined): Uint8Array | null {
  return r === undefined || r.deleted ? null : r.content;
}
