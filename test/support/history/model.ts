// What a history wrote, and what must therefore be true once every machine has synced:
// every write is in every machine's data or kept as a conflict, a value is only gone when a later
// write replaced it knowingly, and a deleted session stays deleted unless an edit that no delete saw
// brings it back (the protocol keeps an edit over a concurrent delete).

/** A value written over a key that several machines write: `prev` is what the writer saw there. */
export interface SharedWrite {
  readonly machine: string;
  readonly value: string;
  readonly prev: string | undefined;
}

export interface SessionDelete {
  readonly machine: string;
  /** Messages and title the deleting machine had: the edits this delete has seen. */
  readonly sawMessages: ReadonlySet<string>;
  readonly sawTitle: string;
  /** Its machine lost state.db before a sync carried it: it cannot be told from a restore, and may be undone. */
  mayBeUndone?: boolean;
}

export interface SessionModel {
  readonly id: string;
  readonly creator: string;
  readonly titles: SharedWrite[];
  readonly messages: Map<string, { machine: string; parts: string[] }>;
  readonly deletes: SessionDelete[];
}

export class HistoryModel {
  /** Config keys only one machine writes, with their writes in order (see ownUnaccounted). */
  readonly ownConfig = new Map<string, SharedWrite[]>();
  readonly sharedConfig: SharedWrite[] = [];
  readonly ownCredentials = new Map<string, SharedWrite[]>();
  readonly sharedCredentials: SharedWrite[] = [];
  readonly prompts = new Set<string>();
  readonly sessions = new Map<string, SessionModel>();
  readonly log: string[] = [];

  /** One machine's write to a key only it writes. */
  ownWrite(writes: Map<string, SharedWrite[]>, key: string, write: SharedWrite): void {
    writes.set(key, [...(writes.get(key) ?? []), write]);
  }

  note(line: string): void {
    this.log.push(line);
  }

  /** Which outcomes are right for the session once everything has synced: one, or both while a delete may be undone. */
  sessionOutcomes(s: SessionModel): Set<boolean> {
    return outcomes(s, (deletes) => sessionLives(s, deletes));
  }

  messageOutcomes(s: SessionModel, message: string): Set<boolean> {
    return outcomes(s, (deletes) => sessionLives(s, deletes) && !deletes.some((d) => d.sawMessages.has(message)));
  }
}

function outcomes(s: SessionModel, lives: (deletes: readonly SessionDelete[]) => boolean): Set<boolean> {
  return new Set([lives(s.deletes), lives(s.deletes.filter((d) => !d.mayBeUndone))]);
}

/** Does the session exist once everything has synced, given these deletes? */
function sessionLives(s: SessionModel, deletes: readonly SessionDelete[]): boolean {
  if (deletes.length === 0) return true;
  const unseenMessage = [...s.messages.keys()].some((m) => !deletes.some((d) => d.sawMessages.has(m)));
  const unseenRename = s.titles.slice(1).some((t) => !deletes.some((d) => seenTitle(s.titles, d.sawTitle, t.value)));
  return unseenMessage || unseenRename;
}

/** Was `title` what `saw` is, or one of the titles `saw` replaced (following what each writer saw)? */
function seenTitle(titles: readonly SharedWrite[], saw: string, title: string): boolean {
  const byValue = new Map(titles.map((t) => [t.value, t]));
  for (let v: string | undefined = saw, hops = 0; v !== undefined && hops <= titles.length; v = byValue.get(v)?.prev, hops++) {
    if (v === title) return true;
  }
  return false;
}

/**
 * Every value written to a shared key is accounted for: it is the final value, or a later write
 * replaced it knowingly (its writer saw it), or a merge kept it as a conflict.
 */
export function unaccounted(writes: readonly SharedWrite[], final: string | undefined, conflictText: string): string[] {
  const replaced = new Set(writes.map((w) => w.prev));
  return writes.filter((w) => w.value !== final && !replaced.has(w.value) && !conflictText.includes(w.value)).map((w) => `${w.value} (written on ${w.machine})`);
}

/**
 * A key one machine writes: its last write wins everywhere, as long as each write saw the one before.
 * A write that did not (the machine's home restored from a backup in between) is concurrent with the
 * writes it missed, and then, as for a shared key, each is the value, replaced knowingly, or a conflict
 * (null: conflicts that cannot be read here, encrypted credentials; the value must be one written).
 */
export function ownUnaccounted(writes: readonly SharedWrite[], final: string | undefined, conflictText: string | null): string[] {
  const last = writes.at(-1)!;
  if (writes.every((w, i) => i === 0 || w.prev === writes[i - 1]!.value)) return final === last.value ? [] : [`${final} instead of the last write ${last.value}`];
  // The value is one no later write replaced knowingly.
  const replaced = new Set(writes.map((w) => w.prev));
  if (!writes.some((w) => w.value === final && !replaced.has(w.value))) return [`${final} is no write that stands (never written, or replaced knowingly)`];
  if (conflictText === null) return [];
  return unaccounted(writes, final, conflictText).map((lost) => `write ${lost} is neither the value, nor replaced knowingly, nor a conflict`);
}
