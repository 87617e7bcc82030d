// Executable config and credentials are gated (DESIGN.md §8): a change arriving from the repo to
// what OpenCode executes or authenticates with is not written; the local file keeps its value, the
// incoming one is kept in state.db (HeldStore; a credential as ciphertext), each sync names it
// (exit 3, a toast in the plugin) until the user accepts or discards it with 'oc-sync review'. A
// record from the user's machines passes: signed by one, or a merge of signed versions this machine
// redoes (record-trust.ts); anything else, which anyone with push access could have written, is held.
// Changes made here are the user's own and are never held.
import { admit, repoForm, type HeldChange, type HeldValue } from "../../core/held.js";
import type { RecordTrust } from "./record-trust.js";
import type { SyncRecord } from "../../core/record.js";
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import type { Source } from "../sources/source.js";
import type { WriteGate } from "../sources/files.js";
import type { HeldStore } from "../state/held-store.js";
import { entryFor, isVersionOf, type IndexStore } from "../state/index-store.js";
import { withState } from "../state/open-state.js";
import type { SyncContext } from "./context.js";
import { buildSources, type Gates } from "./sources.js";
import { GIVE_PASSPHRASE, resolveKey } from "../crypto/key-store.js";
import { CREDENTIALS_PREFIX } from "../sources/credentials.js";

/** A sync's gates. `trust`: null without a passphrase (nothing authenticates: every executable change is held). */
export function syncGates(held: HeldStore, trust: RecordTrust | null): Gates {
  return { config: executableGate(held, trust), credentials: { held, trusted: async (r) => trust !== null && (await trust(r)) } };
}

function executableGate(held: HeldStore, trust: RecordTrust | null): WriteGate {
  return {
    async admit(record, local) {
      if (trust && (await trust(record))) {
        // The user's own machine wrote it: what was held here of an earlier value is superseded.
        held.replace(record.path, []);
        return record.deleted ? null : record.content;
      }
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
    .map((h) => `${where(h)}: ${h.writer}'s change to ${h.what} is held, not applied: none of your machines signed it (a machine without the passphrase, an older oc-sync, a merge of unsigned versions, or anyone who can push to the sync repo). 'oc-sync review' shows it; 'oc-sync review --accept ${h.id}' applies it, '--discard ${h.id}' keeps yours`);
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
  if (path.startsWith(CREDENTIALS_PREFIX)) return [`    ${label}: (a credential, kept encrypted: not shown)`];
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
    const found = index.held.find(id);
    const record = (await readRecords(repo, index.state.base, [found.path])).get(found.path);
    if (!record) throw new Error(`${found.path} is not in the sync repo any more; nothing to accept`);
    // A credential is written decrypted: without the key it could not be, and it stays held.
    const credential = found.path.startsWith(CREDENTIALS_PREFIX);
    const key = credential ? (await resolveKey(repo, index.state.base, ctx.paths.dataKey, ctx.settings.passphrase)).key : null;
    if (credential && !key) throw new Error(`${found.path}: a held credential is accepted only with the sync repo's key (${GIVE_PASSPHRASE}); it stays held`);
    const h = index.held.setStatus(found.id, "accepted");
    // Its file is looked at again for signing (signing.ts): so the user's other machines take it too.
    index.update({ countersigned: null });
    const sources = buildSources({ ...ctx.settings, trustExecutable: false }, ctx.opencode, key, (m) => ctx.log.log("warn", m), syncGates(index.held, null));
    await writeThroughGate(index, sources, [record]);
    return h;
  });
}

/**
 * Held changes whose file main now has from the user's machines (another machine's user accepted
 * it and signed it again, or a merge now checks): written, as if accepted here. `trust`: the gate's.
 */
export async function settleHeld(repo: GitRepo, index: IndexStore, sources: readonly Source[], at: string, trust: RecordTrust): Promise<void> {
  const paths = [...new Set(index.held.all().filter((h) => h.status === "held").map((h) => h.path))];
  if (!paths.length) return;
  const trusted: SyncRecord[] = [];
  // Only the version the held change came from, now signed: an older one (put back by a push) or one behind an edit here is not.
  const known = index.getMany(paths);
  for (const r of (await readRecords(repo, at, paths)).values()) {
    if (isVersionOf(known.get(r.path), r) && (await trust(r))) trusted.push(r);
  }
  await writeThroughGate(index, sources, trusted);
}

/** Writes records through their sources (and so through the gate), and indexes what was written. */
async function writeThroughGate(index: IndexStore, sources: readonly Source[], records: readonly SyncRecord[]): Promise<void> {
  for (const source of sources) {
    const mine = records.filter((r) => source.owns(r.path));
    if (!mine.length) continue;
    const done = await source.apply(mine, (p) => index.get(p));
    const byPath = new Map(mine.map((r) => [r.path, r]));
    index.save(done.applied.map((a) => entryFor(byPath.get(a.path)!, a.localHash, a.stat)));
  }
}

/** Keeps this machine's value for held change `id`: it is not asked about again while the repo has that value. */
export async function discardHeld(ctx: SyncContext, id: string): Promise<HeldChange> {
  return withState(ctx, async ({ index }) => index.held.setStatus(index.held.find(id).id, "discarded"));
}
