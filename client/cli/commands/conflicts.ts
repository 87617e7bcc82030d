// Conflicts: list the losing values kept by merges, and resolve one by choosing a side.
import { applyEdits, modify, type JSONPath } from "jsonc-parser";
import { conflictPath } from "../../../core/layout.js";
import type { Conflict } from "../../../core/conflict.js";
import { makeRecord, type SyncRecord } from "../../../core/record.js";
import { readRecords } from "../../../git/merge-branch.js";
import { resolveKey } from "../../crypto/key-store.js";
import { listConflicts, runSync, withState } from "../../sync/cycle.js";
import type { SyncContext } from "../../sync/context.js";
import { commitRepoOnly, writeLocally } from "../../sync/local-edit.js";
import { buildSources } from "../../sync/sources.js";
import { EXIT, UsageError, type Output } from "../output.js";

export async function conflictsCommand(ctx: SyncContext, out: Output): Promise<number> {
  return withState(ctx, async ({ repo, index }) => {
    const conflicts = await listConflicts(repo, index.getMeta("base") ?? null);
    if (!conflicts.length) out.line("no conflicts");
    for (const c of conflicts) {
      out.line(`${c.id}  ${c.path}${c.at ? ` at ${c.at}` : ""}${c.needsDecision ? "  [needs your decision]" : ""}`);
      out.line(`    kept  ${c.kept.writer} (${new Date(c.kept.updatedAt).toISOString()}): ${preview(c.kept.value)}`);
      out.line(`    lost  ${c.lost.writer} (${new Date(c.lost.updatedAt).toISOString()}): ${preview(c.lost.value)}`);
    }
    if (conflicts.length) out.line("resolve with: oc-sync resolve <id> --keep local|remote|<machine>");
    out.result(conflicts);
    return conflicts.some((c) => c.needsDecision) ? EXIT.attention : EXIT.ok;
  });
}

function preview(v: string | null): string {
  if (v === null) return "(deleted)";
  if (/^"?v[12]:/.test(v) || /"v[12]:/.test(v)) return "(encrypted value)";
  const one = v.replace(/\s+/g, " ").trim();
  return one.length > 100 ? one.slice(0, 97) + "..." : one;
}

export async function resolveCommand(ctx: SyncContext, out: Output, id: string, keep: string): Promise<number> {
  await withState(ctx, async ({ repo, index }) => {
    const base = index.getMeta("base") ?? null;
    const conflict = (await listConflicts(repo, base)).find((c) => c.id === id || c.id.startsWith(id));
    if (!conflict) throw new UsageError(`no conflict with id ${id}; 'oc-sync conflicts' lists them`);
    const side = chooseSide(conflict, keep, ctx.machine);
    if (side === "lost") {
      const current = (await readRecords(repo, base, [conflict.path])).get(conflict.path);
      const replaced = withValue(current, conflict);
      const key = (await resolveKey(repo, base, ctx.paths.dataKey, ctx.settings.passphrase)).key;
      await writeLocally(index, buildSources(ctx.settings, ctx.opencode, key, (m) => ctx.log.log("warn", m)), [replaced]);
    }
    const tomb = (await readRecords(repo, base, [conflictPath(conflict.id)])).get(conflictPath(conflict.id))!;
    await commitRepoOnly(repo, index, ctx.machine, [{ ...tomb, content: null, deleted: true, hash: "" }], `oc-sync: ${ctx.machine} resolved conflict ${conflict.id}`);
    out.line(`conflict ${conflict.id}: keeping the ${side === "lost" ? `value from ${conflict.lost.writer}` : `value from ${conflict.kept.writer}`}`);
  });
  const report = await runSync(ctx);
  out.result({ resolved: id, keep, sync: report });
  return EXIT.ok;
}

function chooseSide(c: Conflict, keep: string, machine: string): "kept" | "lost" {
  if (keep === "local") return c.kept.writer === machine ? "kept" : c.lost.writer === machine ? "lost" : fail();
  if (keep === "remote") return c.kept.writer !== machine ? "kept" : "lost";
  if (keep === c.kept.writer) return "kept";
  if (keep === c.lost.writer) return "lost";
  return fail();
  function fail(): never {
    throw new UsageError(`--keep must be local, remote, ${c.kept.writer} or ${c.lost.writer}`);
  }
}

/** The record's current content with the conflict's losing value put back where it was. */
function withValue(current: SyncRecord | undefined, c: Conflict): SyncRecord {
  if (!current) throw new Error(`record ${c.path} is not in the sync repo any more`);
  const text = current.content ? new TextDecoder().decode(current.content) : "";
  let next: string | null;
  if (c.at === "") next = c.lost.value;
  else if (c.at.startsWith("/")) next = applyEdits(text, modify(text, pointerPath(c.at), c.lost.value === null ? undefined : JSON.parse(c.lost.value), {}));
  else next = c.kept.value !== null && text.includes(c.kept.value) ? text.replace(c.kept.value, c.lost.value ?? "") : text + (c.lost.value ?? "");
  return makeRecord({ ...current, content: next === null ? null : new TextEncoder().encode(next) });
}

function pointerPath(pointer: string): JSONPath {
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}
