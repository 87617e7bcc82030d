// The sync's own state, beside the index in state.db: named, typed fields, read and written only
// here. On disk it is the index's meta table, under the keys earlier versions wrote (below), so an
// upgraded machine keeps its base, head and marks as they were.

export type SyncOutcome = "fast-forward" | "merged" | "waiting-for-action" | "pulled" | "up-to-date" | "offline";

export interface LastSync {
  readonly at: number;
  readonly outcome: SyncOutcome;
}

/** A change to the state; absent fields stay as they are. */
export interface StatePatch {
  /** The main commit this machine last integrated: its next commit builds on it. */
  readonly base?: string;
  /** This machine's branch tip: its commits not yet known to be in main (base when none). */
  readonly head?: string;
  /**
   * The commit this machine last pushed (or was about to push) to its branch, saved before the push:
   * a sync killed after the push and before saving its state leaves the branch there.
   */
  readonly pushed?: string;
  readonly lastSync?: LastSync;
  /** Per source category: the main commit it last applied. */
  readonly applied?: Readonly<Record<string, string>>;
  /** Per source category: record paths it could not place yet, tried again next time (empty: none). */
  readonly waiting?: Readonly<Record<string, readonly string[]>>;
  /** Per session: the newest time_updated the scan has read (null: read it whole next time). */
  readonly seen?: Readonly<Record<string, number | null>>;
  /** The remote this state belongs to (its URL without credentials, or its path). */
  readonly remote?: string;
  /** The next sync uploads every version this machine has (a new remote, a rewritten main), not only changes. */
  readonly rejoin?: boolean;
  /** Per remote this machine left for another: the commits that were its own there (see SyncState.ownOn); null: forgotten. */
  readonly left?: Readonly<Record<string, readonly string[] | null>>;
  /** Set when a sync found this machine's id shared (see client/sync/shared-id.ts); null: cleared. */
  readonly distrusted?: Distrusted | null;
  /** `<key id>:<main commit>`: up to where this machine signed again the executable config it applied (client/sync/signing.ts); null: look at all of it. */
  readonly countersigned?: string | null;
}

/**
 * An id found shared on a remote this machine came back to: its versions made since it left carry
 * counters of that id the other machine's versions there may not have seen, though they look newer.
 */
export interface Distrusted {
  readonly machine: string;
  /** Commits whose versions this machine is known to have had: its counters for the id are capped at theirs. */
  readonly commits: readonly string[];
}

/** What the state needs of its table: one value, or every value under a key prefix. */
export interface MetaTable {
  get(key: string): string | undefined;
  withPrefix(prefix: string): Map<string, string>;
}

const KEY = { base: "base", head: "head", pushed: "pushed", lastSync: "lastSync", applied: "applied:", waiting: "waiting:", seen: "seen:", remote: "remote", rejoin: "rejoin", left: "left:", distrusted: "distrusted", countersigned: "countersigned" } as const;

/** What a rejoin forgets: everything that describes the old remote's history, and the scan marks (so every row is read). */
export const REJOIN_FORGETS = { keys: [KEY.base, KEY.head, KEY.pushed, KEY.countersigned], prefixes: [KEY.applied, KEY.waiting, KEY.seen] } as const;

export class SyncState {
  constructor(private readonly meta: MetaTable) {}

  get base(): string | null {
    return this.meta.get(KEY.base) ?? null;
  }

  get head(): string | null {
    return this.meta.get(KEY.head) ?? this.base;
  }

  get pushed(): string | null {
    return this.meta.get(KEY.pushed) ?? null;
  }

  get lastSync(): LastSync | null {
    const raw = this.meta.get(KEY.lastSync);
    return raw === undefined ? null : (JSON.parse(raw) as LastSync);
  }

  get remote(): string | null {
    return this.meta.get(KEY.remote) ?? null;
  }

  get rejoin(): boolean {
    return this.meta.get(KEY.rejoin) === "1";
  }

  /**
   * The commits that were this machine's own on `remote` when it last left it for another (its base,
   * head and last push there): back on it, its branch there must still be one of them, or another
   * machine pushed under this id meanwhile (a restored backup, a copied home). Empty: never left it.
   */
  ownOn(remote: string): string[] {
    return JSON.parse(this.meta.get(KEY.left + remote) ?? "[]") as string[];
  }

  get countersigned(): string | null {
    return this.meta.get(KEY.countersigned) ?? null;
  }

  get distrusted(): Distrusted | null {
    const raw = this.meta.get(KEY.distrusted);
    return raw === undefined ? null : (JSON.parse(raw) as Distrusted);
  }

  applied(category: string): string | null {
    return this.meta.get(KEY.applied + category) ?? null;
  }

  waiting(category: string): string[] {
    return JSON.parse(this.meta.get(KEY.waiting + category) ?? "[]") as string[];
  }

  seen(session: string): number | undefined {
    const raw = this.meta.get(KEY.seen + session);
    return raw === undefined ? undefined : Number(raw);
  }

  /** Every session's scan mark, in one query (the scan visits every session row). */
  allSeen(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, v] of this.meta.withPrefix(KEY.seen)) out.set(k.slice(KEY.seen.length), Number(v));
    return out;
  }
}

/** The patch as meta rows to write (null: delete the row). */
export function metaRows(patch: StatePatch): Record<string, string | null> {
  const rows: Record<string, string | null> = {};
  if (patch.base !== undefined) rows[KEY.base] = patch.base;
  if (patch.head !== undefined) rows[KEY.head] = patch.head;
  if (patch.pushed !== undefined) rows[KEY.pushed] = patch.pushed;
  if (patch.lastSync !== undefined) rows[KEY.lastSync] = JSON.stringify(patch.lastSync);
  if (patch.remote !== undefined) rows[KEY.remote] = patch.remote;
  if (patch.rejoin !== undefined) rows[KEY.rejoin] = patch.rejoin ? "1" : null;
  if (patch.distrusted !== undefined) rows[KEY.distrusted] = patch.distrusted && JSON.stringify(patch.distrusted);
  if (patch.countersigned !== undefined) rows[KEY.countersigned] = patch.countersigned;
  for (const [c, commit] of Object.entries(patch.applied ?? {})) rows[KEY.applied + c] = commit;
  for (const [remote, commits] of Object.entries(patch.left ?? {})) rows[KEY.left + remote] = commits && JSON.stringify(commits);
  for (const [c, paths] of Object.entries(patch.waiting ?? {})) rows[KEY.waiting + c] = paths.length ? JSON.stringify(paths) : null;
  for (const [s, at] of Object.entries(patch.seen ?? {})) rows[KEY.seen + s] = at === null ? null : String(at);
  return rows;
}

/** Two patches as one; the later one's fields win. */
export function mergePatches(a: StatePatch, b: StatePatch): StatePatch {
  return { ...a, ...b, applied: { ...a.applied, ...b.applied }, waiting: { ...a.waiting, ...b.waiting }, seen: { ...a.seen, ...b.seen } };
}
