// The facts of a digest, read from git alone: every commit main gained since a position, its
// first-parent steps with the paths each changed, which of those are record deletions (a record's
// header says), and the conflicts merges kept (their records' metadata). core/digest.ts tells them.
import { digestOf, type ChangeKind, type CommitFacts, type ConflictFact, type Digest, type MainMove, type PathChange } from "../core/digest.js";
import type { Conflict } from "../core/conflict.js";
import { CONFLICTS_DIR, isRecordPath } from "../core/layout.js";
import { sessionFolder } from "../core/db-paths.js";
import { isSegmentPath, sessionFolderOf } from "../core/segment.js";
import { readTrailers } from "../core/trailers.js";
import { digestedMain } from "./digest-position.js";
import { TRACKED_MAIN } from "./refs.js";
import type { GitRepo } from "./repo.js";

const RECORD_SEP = "\x1e";
const FIELD_SEP = "\x1f";
/** Blobs read at once: a day's changes can be many records, and only their header lines are kept. */
const HEADER_BATCH = 256;

/** main's moves since the last digest's position, as last fetched; null when there is no main yet. */
export async function digestSinceLast(repo: GitRepo): Promise<Digest | null> {
  const main = await repo.revParse(TRACKED_MAIN);
  return main ? readDigest(repo, await digestedMain(repo), main) : null;
}

export async function readDigest(repo: GitRepo, from: string | null, to: string): Promise<Digest> {
  // A main rewritten and collected since may have lost the old position's commit: then all of main is listed.
  const present = from !== null && (await repo.revParse(from)) !== null;
  const rewritten = from !== null && (!present || !(await repo.isAncestor(from, to)));
  const range = present ? [to, `^${from}`] : [to];
  const all = await commitsIn(repo, range);
  const byOid = new Map(all.map((c) => [c.oid, c]));
  const steps = await Promise.all((await firstParentSteps(repo, range)).map((s) => throughSegments(repo, s, byOid.get(s.oid)?.parents[0] ?? null)));
  const tombstones = await tombstonesAmong(repo, steps.flatMap((s) => s.raw));
  const moves: MainMove[] = [];
  for (const s of steps.reverse()) {
    const changes = s.raw.map((r): PathChange => ({ path: r.path, kind: r.oid !== null && tombstones.has(r.oid) ? "deleted" : r.kind }));
    moves.push({ commit: byOid.get(s.oid)!, changes, conflicts: await keptConflicts(repo, s.raw) });
  }
  return digestOf(from, to, rewritten, moves, all);
}

async function commitsIn(repo: GitRepo, range: readonly string[]): Promise<CommitFacts[]> {
  const out = (await repo.git(["log", `--format=${RECORD_SEP}%H${FIELD_SEP}%P${FIELD_SEP}%ct${FIELD_SEP}%B`, ...range, "--"])).stdout.toString("utf8");
  return out
    .split(RECORD_SEP)
    .filter(Boolean)
    .map((chunk) => {
      const [oid, parents, time, message] = chunk.split(FIELD_SEP);
      return { oid: oid!, parents: parents ? parents.split(" ") : [], time: Number(time) * 1000, subject: message!.split("\n")[0]!, trailers: readTrailers(message!) };
    });
}

interface RawChange {
  readonly path: string;
  /** The new blob; null when the path was removed. */
  readonly oid: string | null;
  readonly kind: ChangeKind;
}

/** main's first-parent chain in the range, newest first, each with its diff against its first parent. */
async function firstParentSteps(repo: GitRepo, range: readonly string[]): Promise<{ oid: string; raw: RawChange[] }[]> {
  const args = ["log", "--first-parent", "--diff-merges=first-parent", "--raw", "-z", "--no-renames", "--no-abbrev", `--format=${RECORD_SEP}%H`, ...range, "--"];
  const out = (await repo.git(args)).stdout.toString("utf8");
  return out
    .split(RECORD_SEP)
    .filter(Boolean)
    .map((chunk) => {
      // "<oid>\0\n" then per path ":<mode> <mode> <old> <new> <status>\0<path>\0".
      const fields = chunk.split("\0");
      const raw: RawChange[] = [];
      for (let i = 1; i + 1 < fields.length; i += 2) {
        const meta = fields[i]!.replace(/^\n/, "").split(" ");
        const status = meta[4];
        if (!status) continue;
        raw.push({ path: fields[i + 1]!, oid: status === "D" ? null : meta[3]!, kind: status === "A" ? "added" : status === "D" ? "deleted" : "changed" });
      }
      return { oid: fields[0]!.trim(), raw };
    });
}

/** A step's changes to segment files as the changes to the records in them (a new session: each of its rows added). */
async function throughSegments(repo: GitRepo, step: { oid: string; raw: RawChange[] }, parent: string | null): Promise<{ oid: string; raw: RawChange[] }> {
  const sessions = new Set(step.raw.filter((r) => isSegmentPath(r.path)).map((r) => sessionFolder(sessionFolderOf(r.path)!)));
  if (!sessions.size) return step;
  const inSession = (path: string) => [...sessions].some((f) => path.startsWith(f));
  const records = await repo.changes(parent, step.oid, [...sessions]);
  const kind = (c: { oid: string | null; before: string | null }): ChangeKind => (c.oid === null ? "deleted" : c.before === null ? "added" : "changed");
  return { oid: step.oid, raw: [...step.raw.filter((r) => !inSession(r.path)), ...records.map((c) => ({ path: c.path, oid: c.oid, kind: kind(c) }))] };
}

/** The record versions that are deletions: a tombstone is a new version of the path, not a removed file. */
async function tombstonesAmong(repo: GitRepo, raw: readonly RawChange[]): Promise<Set<string>> {
  const versions = [...new Set(raw.filter((r) => r.oid && isRecordPath(r.path)).map((r) => r.oid!))];
  const out = new Set<string>();
  for (let i = 0; i < versions.length; i += HEADER_BATCH) {
    const batch = versions.slice(i, i + HEADER_BATCH);
    const blobs = await repo.readBlobs(batch);
    batch.forEach((oid, j) => isTombstone(blobs[j] ?? null) && out.add(oid));
  }
  return out;
}

function isTombstone(blob: Buffer | null): boolean {
  if (!blob) return false;
  const nl = blob.indexOf(10);
  try {
    return (JSON.parse(blob.toString("utf8", 0, nl < 0 ? blob.length : nl)) as { deleted?: unknown }).deleted === true;
  } catch {
    return false;
  }
}

/** The conflicts a step added, from their records: who was kept, by which rule, and where (no values). */
async function keptConflicts(repo: GitRepo, raw: readonly RawChange[]): Promise<ConflictFact[]> {
  const added = raw.filter((r) => r.kind === "added" && r.oid && r.path.startsWith(CONFLICTS_DIR));
  const blobs = await repo.readBlobs(added.map((r) => r.oid!));
  const out: ConflictFact[] = [];
  for (const blob of blobs) {
    const c = conflictIn(blob);
    if (c) out.push({ id: c.id, path: c.path, at: c.at, strategy: c.strategy, kept: c.kept.writer, lost: c.lost.writer, needsDecision: c.needsDecision });
  }
  return out;
}

function conflictIn(blob: Buffer | null): Conflict | null {
  if (!blob) return null;
  const nl = blob.indexOf(10);
  try {
    const c = JSON.parse(blob.toString("utf8", nl + 1)) as Conflict;
    return typeof c.id === "string" && typeof c.path === "string" && typeof c.kept?.writer === "string" && typeof c.lost?.writer === "string" ? c : null;
  } catch {
    return null;
  }
}
