// Conflicts: the losing values merges kept, listed and resolved. The CLI and the plugin both call
// this. Resolving writes the chosen side into OpenCode's data (when it is the kept one's opposite)
// and a tombstone for the conflict record, both as new versions from this machine.
import { applyEdits, modify } from "jsonc-parser";
import { awaitingDecision, sideBytes, type Conflict } from "../../core/conflict.js";
import { sessionOf } from "../../core/db-paths.js";
import { CONFLICTS_DIR, conflictPath } from "../../core/layout.js";
import { pointerKeys } from "../../core/merge/json-value.js";
import { makeRecord, type SyncRecord } from "../../core/record.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import { resolveKey } from "../crypto/key-store.js";
import type { SyncContext } from "./context.js";
import { withState } from "../state/open-state.js";
import { commitRepoOnly, writeLocally } from "./local-edit.js";
import { buildSources } from "./sources.js";

export class UnknownConflictError extends Error {
  constructor(id: string) {
    super(`no conflict with id ${id}; 'oc-sync conflicts' lists them`);
    this.name = "UnknownConflictError";
  }
}

/** A row chosen back whose session or message is gone here: nothing could hold it. */
export class UnplaceableError extends Error {
  /** `why`: what keeps the value from its place here, and what to do about it. */
  constructor(c: Conflict, why: string) {
    super(`conflict ${c.id}: ${c.path} cannot be put back: ${why}. It stays kept in the conflict`);
    this.name = "UnplaceableError";
  }
}

const parentDeleted = (c: Conflict, session: string) =>
  new UnplaceableError(c, `the session or message it belongs to was deleted (by ${c.kept.writer}); bring the session back first ('oc-sync restore ${session} --at <a date before the delete>'), then resolve again`);
const notSyncedHere = (c: Conflict) => new UnplaceableError(c, "this machine does not sync it (the setting categories); resolve it on a machine that does");

export class SideError extends Error {
  constructor(c: Conflict) {
    super(`--keep must be local, remote, ${c.kept.writer} or ${c.lost.writer}`);
    this.name = "SideError";
  }
}

export async function listConflicts(repo: GitRepo, commit: string | null): Promise<Conflict[]> {
  if (!commit) return [];
  const paths = (await repo.listTree(commit, [CONFLICTS_DIR])).map((e) => e.path);
  const records = await readRecords(repo, commit, paths);
  return [...records.values()].filter((r) => !r.deleted).map((r) => JSON.parse(new TextDecoder().decode(r.content!)) as Conflict);
}

/** The conflicts in the main commit this machine last integrated. */
export async function currentConflicts(ctx: SyncContext): Promise<Conflict[]> {
  return withState(ctx, ({ repo, index }) => listConflicts(repo, index.state.base));
}

/** A conflict in a few lines for a person: where, and both values. */
export function describeConflict(c: Conflict): string[] {
  return [
    `${c.id}  ${c.path}${c.at ? ` at ${c.at}` : ""}${c.needsDecision ? "  [needs your decision]" : ""}`,
    `    kept  ${c.kept.writer} (${new Date(c.kept.updatedAt).toISOString()}): ${preview(c.kept.value, c.kept.encoding)}`,
    `    lost  ${c.lost.writer} (${new Date(c.lost.updatedAt).toISOString()}): ${preview(c.lost.value, c.lost.encoding)}`,
  ];
}

function preview(v: string | null, encoding: string | undefined): string {
  if (v === null) return "(deleted)";
  if (encoding === "base64") return "(binary content)";
  if (/^"?v[12]:/.test(v) || /"v[12]:/.test(v)) return "(encrypted value)";
  const one = v.replace(/\s+/g, " ").trim();
  return one.length > 100 ? one.slice(0, 97) + "..." : one;
}

export interface Resolution {
  readonly conflict: Conflict;
  /** The side now in effect: the value the merge kept, or the one it had set aside. */
  readonly side: "kept" | "lost";
}

export function describeResolution({ conflict, side }: Resolution): string {
  return `conflict ${conflict.id}: keeping the value from ${side === "lost" ? conflict.lost.writer : conflict.kept.writer}`;
}

/** Settles conflict `id` (or a unique prefix of it) for `keep`: local, remote or a machine's id. The caller syncs afterwards. */
export async function resolveConflict(ctx: SyncContext, id: string, keep: string): Promise<Resolution> {
  return withState(ctx, async ({ repo, index }) => {
    const base = index.state.base;
    const conflict = (await listConflicts(repo, base)).find((c) => c.id === id || c.id.startsWith(id));
    if (!conflict) throw new UnknownConflictError(id);
    const side = chooseSide(conflict, keep, ctx.machine);
    // `ask` kept this machine's value live until now: whichever side is chosen, it is written here,
    // and a kept local value is committed as such (the file already holds it: no scan would see it).
    const heldHere = awaitingDecision([conflict], ctx.machine).size > 0;
    let commitAlso: SyncRecord[] = [];
    if (side === "lost" || heldHere) {
      const current = (await readRecords(repo, base, [conflict.path])).get(conflict.path);
      const chosen = side === "lost" ? withLostValue(current, conflict) : current!;
      const key = (await resolveKey(repo, base, ctx.paths.dataKey, ctx.settings.passphrase)).key;
      const sources = buildSources(ctx.settings, ctx.opencode, key, (m) => ctx.log.log("warn", m));
      // The conflict is the value's only copy: it stays until the value has a place here.
      if (side === "lost" && !sources.some((s) => s.owns(conflict.path))) throw notSyncedHere(conflict);
      const written = await writeLocally(index, sources, [chosen]);
      const session = conflict.path.endsWith("/session.json") ? undefined : sessionOf(conflict.path);
      if (side === "lost" && !chosen.deleted && written === 0 && session) throw parentDeleted(conflict, session);
      if (heldHere && side === "lost") commitAlso = [chosen];
    }
    const record = (await readRecords(repo, base, [conflictPath(conflict.id)])).get(conflictPath(conflict.id))!;
    await commitRepoOnly(repo, index, ctx.machine, [...commitAlso, tombstone(record)], `oc-sync: ${ctx.machine} resolved conflict ${conflict.id}`);
    return { conflict, side };
  });
}

/**
 * Clears every conflict a strategy decided (the kept values stay where they are; those that wait
 * for a decision stay too), in one commit from this machine. The caller syncs afterwards.
 */
export async function acknowledgeConflicts(ctx: SyncContext): Promise<Conflict[]> {
  return withState(ctx, async ({ repo, index }) => {
    const base = index.state.base;
    const decided = (await listConflicts(repo, base)).filter((c) => !c.needsDecision);
    if (!decided.length) return [];
    const records = await readRecords(repo, base, decided.map((c) => conflictPath(c.id)));
    await commitRepoOnly(repo, index, ctx.machine, [...records.values()].map(tombstone), `oc-sync: ${ctx.machine} acknowledged ${decided.length} conflict(s)`);
    return decided;
  });
}

const tombstone = (record: SyncRecord): SyncRecord => ({ ...record, content: null, deleted: true, hash: "" });

function chooseSide(c: Conflict, keep: string, machine: string): "kept" | "lost" {
  if (keep === "local") {
    if (c.kept.writer === machine) return "kept";
    if (c.lost.writer === machine) return "lost";
    throw new SideError(c);
  }
  if (keep === "remote") return c.kept.writer !== machine ? "kept" : "lost";
  if (keep === c.kept.writer) return "kept";
  if (keep === c.lost.writer) return "lost";
  throw new SideError(c);
}

/** The record's current content with the conflict's losing value put back where it was. */
export function withLostValue(current: SyncRecord | undefined, c: Conflict): SyncRecord {
  if (!current) throw new Error(`record ${c.path} is not in the sync repo any more`);
  if (c.at === "") return makeRecord({ ...current, content: sideBytes(c.lost) });
  const text = current.content ? new TextDecoder().decode(current.content) : "";
  const next = c.at.startsWith("/") ? applyEdits(text, modify(text, pointerKeys(c.at), c.lost.value === null ? undefined : JSON.parse(c.lost.value), {})) : replaceLines(text, c);
  return makeRecord({ ...current, content: new TextEncoder().encode(next) });
}

/**
 * A line conflict ("lines N-M" of main's text at the merge): the kept lines are put back as the lost
 * ones at the occurrence that starts on a line nearest to N (the same lines may stand elsewhere too).
 */
function replaceLines(text: string, c: Conflict): string {
  const line = Number(/^lines (\d+)/.exec(c.at)?.[1] ?? 1) - 1;
  const kept = c.kept.value ?? "";
  const lost = c.lost.value ?? "";
  const starts = lineStarts(text);
  const candidates = starts.map((offset, n) => ({ offset, n })).filter(({ offset }) => text.startsWith(kept, offset));
  if (!candidates.length) return text + lost;
  const at = candidates.reduce((best, x) => (Math.abs(x.n - line) < Math.abs(best.n - line) ? x : best));
  return text.slice(0, at.offset) + lost + text.slice(at.offset + kept.length);
}

/** The offset of every line's start, and of the end (where a line may be added). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0 && i + 1 <= text.length; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return [...new Set(starts)];
}
