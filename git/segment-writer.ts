// Writes the live records of a session new to the repo as segments (core/segment.ts) instead of a
// blob each. The scan yields a session's records together (but for its row), so one session is
// held at a time (at most a segment's worth); everything else passes through in order.
import { isEncodedTombstone } from "../core/record.js";
import { encodeSegment, isSegmentPath, SEGMENT_LOOSE_FROM, SEGMENT_MAX_BYTES, SEGMENT_MIN_RECORDS, segmentDataPath, segmentIndexPath, sessionFolderOf } from "../core/segment.js";
import type { FileChange } from "./repo.js";

interface Pending {
  readonly session: string;
  records: [string, Uint8Array][];
  bytes: number;
}

/** Per new session: segments written so far, and records kept back to join the session's next group. */
interface SessionState {
  written: number;
  kept: [string, Uint8Array][];
}

/**
 * `changes` with the live records of each session that `isNew` says the parent lacks grouped into
 * segments. The scan yields every session's row first and its other rows later: a group too small
 * for a segment is kept back and joins the session's next group; what is still kept at the end is
 * written loose.
 */
export async function* segmentNewSessions(changes: AsyncIterable<FileChange>, isNew: (session: string) => Promise<boolean>): AsyncGenerator<FileChange> {
  const sessions = new Map<string, SessionState | null>();
  let pending: Pending | undefined;
  for await (const change of changes) {
    const [path, content] = change;
    const session = sessionFolderOf(path);
    if (pending && session !== pending.session) {
      yield* flush(pending, true);
      pending = undefined;
    }
    if (session === undefined || !(content instanceof Uint8Array) || !segmentable(path, content)) {
      yield change;
      continue;
    }
    if (!sessions.has(session)) sessions.set(session, (await isNew(session)) ? { written: 0, kept: [] } : null);
    const state = sessions.get(session);
    if (!state) {
      yield change;
      continue;
    }
    if (!pending) {
      pending = { session, records: state.kept, bytes: state.kept.reduce((n, [, b]) => n + b.length, 0) };
      state.kept = [];
    }
    pending.records.push([path, content]);
    pending.bytes += content.length;
    if (pending.bytes >= SEGMENT_MAX_BYTES) yield* flush(pending, false);
  }
  if (pending) yield* flush(pending, true);
  for (const state of sessions.values()) if (state) yield* state.kept;

  function* flush(p: Pending, last: boolean): Generator<FileChange> {
    const state = sessions.get(p.session)!;
    if (last && p.records.length < SEGMENT_MIN_RECORDS) state.kept = p.records;
    else if (p.records.length) {
      const { index, data } = encodeSegment(p.session, p.records);
      yield [segmentDataPath(p.session, state.written), data];
      yield [segmentIndexPath(p.session, state.written), index];
      state.written++;
    }
    p.records = [];
    p.bytes = 0;
  }
}

/** A live record small enough to share a segment (a tombstone stays loose, where deletions are looked for). */
function segmentable(path: string, content: Uint8Array): boolean {
  return content.length < SEGMENT_LOOSE_FROM && !isSegmentPath(path) && !isEncodedTombstone(content);
}
