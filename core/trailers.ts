// What oc-sync's commits say of themselves, as git trailers (the last paragraph of the message,
// "Key: value" lines): who made the commit and which machine branch a merge folds in. The digest
// (core/digest.ts) reads them back from git alone; git's author line is the same for every machine.
import { CONFIRMED_DELETIONS } from "./deletion-guard.js";

/** The machine that made the commit (its local changes, its merge of main, its conflict decision). */
export const MACHINE_TRAILER = "Oc-Sync-Machine";
/** The machine whose branch a merge commit folds into main. */
export const MERGED_TRAILER = "Oc-Sync-Merged";

export interface CommitTrailers {
  readonly machine?: string;
  readonly merged?: string;
  /** The user confirmed this commit's mass deletion (see deletion-guard.ts). */
  readonly confirmedDeletions?: boolean;
}

/** A commit message: the subject, then the trailers (none: the subject alone). */
export function commitMessage(subject: string, t: CommitTrailers): string {
  const lines = [
    ...(t.machine ? [`${MACHINE_TRAILER}: ${oneLine(t.machine)}`] : []),
    ...(t.merged ? [`${MERGED_TRAILER}: ${oneLine(t.merged)}`] : []),
    ...(t.confirmedDeletions ? [CONFIRMED_DELETIONS] : []),
  ];
  return lines.length ? `${subject}\n\n${lines.join("\n")}` : subject;
}

/** The trailers of a message, as commitMessage writes them (keys are case-insensitive, as git's are). */
export function readTrailers(message: string): CommitTrailers {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  if (paragraphs.length < 2) return {};
  const found = new Map<string, string>();
  for (const line of paragraphs[paragraphs.length - 1]!.split("\n")) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) found.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  const machine = found.get(MACHINE_TRAILER.toLowerCase());
  const merged = found.get(MERGED_TRAILER.toLowerCase());
  return { ...(machine ? { machine } : {}), ...(merged ? { merged } : {}), ...(message.includes(CONFIRMED_DELETIONS) ? { confirmedDeletions: true } : {}) };
}

/** A machine id comes from a setting: a newline in it would end the trailer and start another. */
const oneLine = (s: string): string => s.replace(/\s+/g, " ").trim();
