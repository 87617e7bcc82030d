// A session deleted on one machine while another went on changing it is decided as a whole, not
// row by row: row by row, a touched session row came back empty and the rows under it that only
// the other machine had changed waited for a deleted parent forever (history seeds 453, 1132, 1804,
// 1903: a part compacted on one machine while another deleted its session).
//   - A message the deleting machine never saw brings the session back (an edit over a delete).
//   - Otherwise a session row that was only touched (its time_updated) stays deleted.
//   - A row left without its parent (a message or todo list without its session, a part without
//     its message) is deleted too, and its content kept as a conflict: nothing is dropped unseen.
import { conflictId, wholeValue, type Conflict } from "./conflict.js";
import { parseRecordPath, recordPath, sessionFolder } from "./db-paths.js";
import { isLatestTime } from "./layout.js";
import { nestsDeeper } from "./nesting.js";
import { makeRecord, type RecordSet, type SyncRecord } from "./record.js";
import type { Side, Strategy } from "./strategy.js";
import { atMost, compareVectors, incrementVector, mergeVectors } from "./vector.js";

/**
 * Sessions with a message on either side that the base did not have and the other side has not seen:
 * a delete of theirs did not see it. Seen: the other side holds a version at least as new (a delete
 * that saw it; a machine offering everything again after a rejoin offers messages a delete saw, and
 * its merge base, the repo's first commit, has none of them: seed 8).
 */
export function sessionsWithNewMessages(base: RecordSet, main: RecordSet, branch: RecordSet): Set<string> {
  const ids = new Set<string>();
  for (const [side, other] of [
    [main, branch],
    [branch, main],
  ] as const) {
    for (const [path, r] of side) {
      const theirs = other.get(path);
      if (base.get(path)?.content || (theirs && atMost(r.vector, theirs.vector))) continue;
      const session = sessionOfMessage(r);
      if (session !== undefined) ids.add(session);
    }
  }
  return ids;
}

/**
 * The session of a message that brings its session back over a delete that did not see it: a live
 * message row, not one nested too deep to be read (a poison record, which no machine ever placed:
 * history seed 2382). Undefined for anything else.
 */
export function sessionOfMessage(r: SyncRecord): string | undefined {
  const a = parseRecordPath(r.path);
  return a?.table === "message" && !r.deleted && !nestsDeeper(r.content!) ? a.sessionId : undefined;
}

/**
 * Is `edited` a session row whose delete elsewhere may win: its session has no message the delete
 * did not see, and it differs from `base` only in the times a machine sets by itself?
 */
export function deleteBeatsTouch(base: SyncRecord | undefined, edited: SyncRecord, revived: ReadonlySet<string>): boolean {
  const a = parseRecordPath(edited.path);
  if (a?.table !== "session" || revived.has(a.id) || !base?.content || !edited.content) return false;
  const untimed = (bytes: Uint8Array) => {
    const row = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    for (const key of Object.keys(row)) if (isLatestTime(edited.path, `/${key}`)) delete row[key];
    return JSON.stringify(row);
  };
  try {
    return untimed(base.content) === untimed(edited.content);
  } catch {
    return false;
  }
}

/** The path of the row a database record cannot exist without, if any. */
export function parentPath(path: string): string | undefined {
  const a = parseRecordPath(path);
  if (a?.table === "part") return recordPath({ table: "message", id: a.messageId!, sessionId: a.sessionId });
  if (a?.table === "message" || a?.table === "todo") return `${sessionFolder(a.sessionId ?? a.id)}session.json`;
  return undefined;
}

/** A row a decision about its session replaced, and the conflict that keeps what it replaced. */
export interface DecidedRow {
  readonly record: SyncRecord;
  readonly conflict: Conflict;
}

/**
 * Rows of sessions a new message brings back (`revived`) that the merge left deleted, because the side
 * with the new messages never changed the row itself (a step of a sync pushed in several, messages
 * written without touching it: history seed 3190): the live row comes back, newer than both sides'
 * versions, and the delete is kept as its conflict.
 */
export function revivedRows(records: ReadonlyMap<string, SyncRecord>, main: RecordSet, branch: RecordSet, revived: ReadonlySet<string>, strategy: Strategy, mergeWriter: string): DecidedRow[] {
  const back: DecidedRow[] = [];
  for (const id of revived) {
    const path = `${sessionFolder(id)}session.json`;
    const now = records.get(path);
    const liveSide: Side | undefined = main.get(path)?.deleted === false ? "main" : branch.get(path)?.deleted === false ? "branch" : undefined;
    if (!now?.deleted || liveSide === undefined) continue;
    const live = (liveSide === "main" ? main : branch).get(path)!;
    const record = makeRecord({ path, kind: live.kind, content: live.content, vector: incrementVector(mergeVectors(now.vector, live.vector), mergeWriter), updatedAt: live.updatedAt, writer: live.writer });
    const kept = { side: liveSide, writer: live.writer, updatedAt: live.updatedAt, ...wholeValue(live.content) };
    const lost = { side: liveSide === "main" ? ("branch" as const) : ("main" as const), writer: now.writer, updatedAt: now.updatedAt, value: null };
    back.push({ record, conflict: { id: conflictId(path, "", kept.value, null), path, at: "", strategy, kept, lost, needsDecision: false } });
  }
  return back;
}

/**
 * Live rows of `records` whose parent the merge left deleted, each as the tombstone that replaces
 * it (newer than both sides' versions, by `mergeWriter` if need be) and the conflict that keeps its
 * content. Parents before children, so a part under an orphaned message is an orphan too. A parent
 * not in `records` is looked up in `parents` (rows the merge did not read).
 */
export function orphansOf(records: Map<string, SyncRecord>, main: RecordSet, strategy: Strategy, mergeWriter: string, parents?: RecordSet): DecidedRow[] {
  // Parts' parents are messages, which are never parts: messages (and todo lists) first.
  const rows: [string, string][] = [];
  const parts: [string, string][] = [];
  for (const path of records.keys()) {
    const parent = parentPath(path);
    if (parent !== undefined) (parent.endsWith("/session.json") ? rows : parts).push([path, parent]);
  }
  const orphans: DecidedRow[] = [];
  for (const [path, parentAt] of [...rows, ...parts]) {
    const r = records.get(path)!;
    const parent = records.get(parentAt) ?? parents?.get(parentAt);
    if (r.deleted || !parent?.deleted) continue;
    const seen = mergeVectors(r.vector, parent.vector);
    const vector = compareVectors(seen, r.vector) === "ahead" ? seen : incrementVector(seen, mergeWriter);
    const tombstone = makeRecord({ path, kind: r.kind, content: null, vector, updatedAt: Math.max(r.updatedAt, parent.updatedAt), writer: parent.writer });
    const lostSide: Side = r === main.get(path) ? "main" : "branch";
    const lost = { side: lostSide, writer: r.writer, updatedAt: r.updatedAt, ...wholeValue(r.content) };
    const kept = { side: lostSide === "main" ? ("branch" as const) : ("main" as const), writer: parent.writer, updatedAt: parent.updatedAt, value: null };
    const conflict: Conflict = { id: conflictId(path, "", null, lost.value), path, at: "", strategy, kept, lost, needsDecision: false };
    records.set(path, tombstone);
    orphans.push({ record: tombstone, conflict });
  }
  return orphans;
}
