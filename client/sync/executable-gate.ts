// Executable config is gated (DESIGN.md §8): a change arriving from the repo to what OpenCode
// executes is not written; the local file keeps its value, the incoming one is kept in state.db
// (HeldStore), each sync names it (exit 3, a toast in the plugin) until the user accepts or
// discards it with 'oc-sync review'. Records are not signed yet, so this machine cannot tell the
// user's other machines from anyone with push access: every incoming executable change is held.
// Changes made here are the user's own and are never held.
import { admit, repoForm, type HeldChange, type HeldValue } from "../../core/held.js";
import { readRecords } from "../../git/record-reader.js";
import type { WriteGate } from "../sources/files.js";
import type { HeldStore } from "../state/held-store.js";
import { entryFor } from "../state/index-store.js";
import { withState } from "../state/open-state.js";
import type { SyncContext } from "./context.js";
import { buildSources } from "./sources.js";

export function executableGate(held: HeldStore): WriteGate {
  return {
    admit(record, local) {
      const a = admit(record.path, local, record.deleted ? null : record.content, record.writer, held.forPath(record.path));
      held.replace(record.path, a.held);
      return a.write;
    },
    repoForm(path, local) {
      const changes = held.forPath(path);
      if (!changes.length) return local;
      const form = repoForm(local, changes);
      // Edited here since: the user's value is what syncs now, nothing is held there any more.
      held.remove(form.superseded);
      return form.bytes;
    },
  };
}

/** What each sync says about the changes still waiting for a decision. */
export function heldProblems(held: HeldStore): string[] {
  return held
    .all()
    .filter((h) => h.status === "held")
    .map((h) => `${where(h)}: ${h.writer}'s change to ${h.what} is held, not applied (until records are signed oc-sync cannot tell your machines from anyone who can push to the sync repo). 'oc-sync review' shows it; 'oc-sync review --accept ${h.id}' applies it, '--discard ${h.id}' keeps yours`);
}

/** A held change for a person: where, what, and both values. */
export function describeHeld(h: HeldChange): string[] {
  const mark = h.status === "discarded" ? "  [discarded: yours is kept]" : "";
  return [`${h.id}  ${where(h)}  from ${h.writer}: ${h.what}${mark}`, ...shown("here", h.local, h.path), ...shown("incoming", h.incoming, h.path)];
}

/** The most lines of a value `review` prints. */
const SHOWN_LINES = 40;

function shown(label: string, side: HeldValue, path: string): string[] {
  if (side.value === null) return [`    ${label}: (none)`];
  if (side.encoding === "base64") return [`    ${label}: (binary content; 'oc-sync history ${path}')`];
  const lines = side.value.replace(/\n$/, "").split("\n");
  const more = lines.length > SHOWN_LINES ? [`      … ${lines.length - SHOWN_LINES} more line(s): 'oc-sync history ${path}'`] : [];
  return [`    ${label}:`, ...lines.slice(0, SHOWN_LINES).map((l) => `      ${l}`), ...more];
}

function where(h: HeldChange): string {
  return h.at ? `${h.path} ${h.at}` : h.path;
}

export async function listHeld(ctx: SyncContext): Promise<HeldChange[]> {
  return withState(ctx, async ({ index }) => index.held.all());
}

/**
 * Writes held change `id` (or a unique prefix of it) here: the record as main has it goes through
 * the gate once more, which lets that value pass (other held changes of the file stay held). The
 * caller syncs afterwards.
 */
export async function acceptHeld(ctx: SyncContext, id: string): Promise<HeldChange> {
  return withState(ctx, async ({ repo, index }) => {
    const h = index.held.setStatus(index.held.find(id).id, "accepted");
    const record = (await readRecords(repo, index.state.base, [h.path])).get(h.path);
    if (!record) throw new Error(`${h.path} is not in the sync repo any more; nothing to accept`);
    const sources = buildSources({ ...ctx.settings, trustExecutable: false }, ctx.opencode, null, (m) => ctx.log.log("warn", m), executableGate(index.held));
    for (const source of sources.filter((s) => s.owns(h.path))) {
      const done = await source.apply([record], (p) => index.get(p));
      index.save(done.applied.map((a) => entryFor(record, a.localHash, a.stat)));
    }
    return h;
  });
}

/** Keeps this machine's value for held change `id`: it is not asked about again while the repo has that value. */
export async function discardHeld(ctx: SyncContext, id: string): Promise<HeldChange> {
  return withState(ctx, async ({ index }) => index.held.setStatus(index.held.find(id).id, "discarded"));
}
