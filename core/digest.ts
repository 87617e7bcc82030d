// The digest: main's moves since the last one, as the audit trail shows them (the Action's job
// summary and log, `oc-sync log`). Which machine, when, records by category added/changed/deleted,
// merges and the conflicts they kept or a user decided. Only paths and counts: never a value.
import { CONFLICTS_DIR } from "./layout.js";
import type { Strategy } from "./strategy.js";
import type { CommitTrailers } from "./trailers.js";

export interface CommitFacts {
  readonly oid: string;
  readonly parents: readonly string[];
  /** Committer time, ms since the epoch. */
  readonly time: number;
  readonly subject: string;
  readonly trailers: CommitTrailers;
}

export type ChangeKind = "added" | "changed" | "deleted";

export interface PathChange {
  readonly path: string;
  /** A record's deletion is a new version (a tombstone), not a removed file: the header tells. */
  readonly kind: ChangeKind;
}

/** A conflict a merge kept, as its record describes it (never its values). */
export interface ConflictFact {
  readonly id: string;
  readonly path: string;
  readonly at: string;
  readonly strategy: Strategy;
  readonly kept: string;
  readonly lost: string;
  readonly needsDecision: boolean;
}

/** One step of main's first-parent chain, with what it changed against the step before. */
export interface MainMove {
  readonly commit: CommitFacts;
  readonly changes: readonly PathChange[];
  readonly conflicts: readonly ConflictFact[];
}

export type Counts = Record<ChangeKind, number>;

export interface DigestEntry {
  readonly commit: string;
  readonly time: string;
  /** The machine that made it; "the Action" for its merges. */
  readonly by: string;
  readonly how: "changes" | "merge";
  /** For a merge: whose branch it folded in. */
  readonly merged?: string;
  readonly records: Readonly<Record<string, Counts>>;
  /** For a merge: the commits of the other side it brought into main (each reached main with it). */
  readonly brought: readonly { readonly commit: string; readonly by: string }[];
  readonly conflictsKept: readonly ConflictFact[];
  /** Conflicts a user decided (their records deleted): ids. */
  readonly conflictsDecided: readonly string[];
}

export interface Digest {
  /** main at the previous digest (null: the first digest, from the first commit). */
  readonly from: string | null;
  readonly to: string;
  /** main no longer holds the previous position: it was rewritten (force-pushed) since. */
  readonly rewritten: boolean;
  readonly entries: readonly DigestEntry[];
}

/** The category a repo path counts under, as the settings name them (sessions' rows by table). */
export function categoryOf(path: string): string {
  const s = path.split("/");
  if (s[0] === "db" && s[1] === "sessions") {
    if (s[3] === "messages" || s[3] === "parts") return s[3];
    return s[3] === "todos.json" ? "todos" : "sessions";
  }
  if (s[0] === "db" && s.length > 2) return s[1]!;
  if (s.length > 1 && ["config", "state", "credentials", CONFLICTS_DIR.slice(0, -1)].includes(s[0]!)) return s[0]!;
  return "repo files";
}

/** Who made a commit: its trailer; for one made before trailers, the machine its subject names (those subjects start with it). */
function madeBy(c: CommitFacts): string {
  if (c.trailers.machine) return c.trailers.machine;
  if (c.trailers.merged) return "the Action";
  return /^oc-sync: (\S+) (local changes|merged into main|kept its branch|needs a merge|resolved|acknowledged|--repush)/.exec(c.subject)?.[1] ?? "unknown";
}

export function countByCategory(changes: readonly PathChange[]): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const c of changes) (out[categoryOf(c.path)] ??= { added: 0, changed: 0, deleted: 0 })[c.kind]++;
  return out;
}

/**
 * The digest of main's moves (oldest first) over `all`, every commit main gained since `from`:
 * each commit a merge brought in from another branch is named under it (what main before the merge
 * lacked, so under the first merge that reached it: every commit appears once).
 */
export function digestOf(from: string | null, to: string, rewritten: boolean, moves: readonly MainMove[], all: readonly CommitFacts[]): Digest {
  const byOid = new Map(all.map((c) => [c.oid, c]));
  const entries = moves.map((m): DigestEntry => {
    const c = m.commit;
    const brought = c.parents.length > 1 ? sideCommits(c, byOid) : [];
    return {
      commit: c.oid,
      time: new Date(c.time).toISOString(),
      by: madeBy(c),
      how: c.parents.length > 1 ? "merge" : "changes",
      ...(c.trailers.merged ? { merged: c.trailers.merged } : {}),
      records: countByCategory(m.changes),
      brought: brought.map((b) => ({ commit: b.oid, by: madeBy(b) })),
      conflictsKept: m.conflicts,
      conflictsDecided: m.changes.filter((x) => x.kind === "deleted" && categoryOf(x.path) === "conflicts").map((x) => x.path.slice(CONFLICTS_DIR.length, -".json".length)),
    };
  });
  return { from, to, rewritten, entries };
}

/** The commits of a merge's other parents that its first parent (main before it) lacks, oldest first. */
function sideCommits(merge: CommitFacts, byOid: ReadonlyMap<string, CommitFacts>): CommitFacts[] {
  const known = reachable([merge.parents[0]!], byOid, new Set());
  return [...reachable(merge.parents.slice(1), byOid, known)].map((oid) => byOid.get(oid)!).sort((a, b) => a.time - b.time);
}

/** Commits of the range reachable from `tips`, stopping at those in `stop`. */
function reachable(tips: readonly string[], byOid: ReadonlyMap<string, CommitFacts>, stop: ReadonlySet<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [...tips];
  while (todo.length) {
    const oid = todo.pop()!;
    const c = byOid.get(oid);
    if (!c || seen.has(oid) || stop.has(oid)) continue;
    seen.add(oid);
    todo.push(...c.parents);
  }
  return seen;
}

const short = (oid: string): string => oid.slice(0, 12);

/** "config +1 ~2 -0, messages +40": a move's records in one line. */
export function recordsLine(records: Readonly<Record<string, Counts>>): string {
  const parts = Object.entries(records)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cat, n]) => `${cat} ${[n.added && `+${n.added}`, n.changed && `~${n.changed}`, n.deleted && `-${n.deleted}`].filter(Boolean).join(" ")}`);
  return parts.length ? parts.join(", ") : "no records";
}

/** One line per move, then one per commit a merge brought and per conflict: the log's and `oc-sync log`'s text. */
export function digestLines(d: Digest): string[] {
  const lines = [`main ${d.from ? short(d.from) : "(its first commit)"} → ${short(d.to)}: ${d.entries.length} move(s)${d.rewritten ? "; main was rewritten (force-pushed) since the last digest: listed is what it holds that the old main did not" : ""}`];
  for (const e of d.entries) {
    const how = e.how === "merge" ? `merge${e.merged ? ` of machines/${e.merged}` : ""}` : "changes";
    lines.push(`${short(e.commit)}  ${e.time}  ${e.by}  ${how}: ${recordsLine(e.records)}`);
    for (const b of e.brought) lines.push(`  brought ${short(b.commit)} by ${b.by}`);
    for (const c of e.conflictsKept) lines.push(`  conflict ${c.id} in ${c.path}${c.at ? ` at ${c.at}` : ""}: ${c.strategy} kept ${c.kept}'s, ${c.lost}'s kept aside${c.needsDecision ? " (waiting for a decision)" : ""}`);
    for (const id of e.conflictsDecided) lines.push(`  conflict ${id} decided by ${e.by}`);
  }
  return lines;
}
