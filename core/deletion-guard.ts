// The mass-delete guard's rule, one for the deletions made here and those arriving from the remote:
// a user seldom means to delete most of a group at once (a wiped database, a replaced folder does).

/** Deletions in a group (sessions, files; a session's messages count with it) below this many are never asked about. */
export const MASS_DELETE_FLOOR = 5;

/** Whether `count` deletions out of `live` in one group need the user's yes first. */
export function isMassDelete(count: number, live: number, share: number): boolean {
  return count >= MASS_DELETE_FLOOR && count > live * share;
}

/**
 * The trailer of a commit whose user confirmed its deletions (`sync --allow-mass-delete`): other
 * machines apply them without asking again.
 */
export const CONFIRMED_DELETIONS = "Oc-Sync-Deletions: confirmed";
