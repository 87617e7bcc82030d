// A conflict is the losing value of an overlapping change, kept so nothing is ever dropped.
import { pointerKeys } from "./merge/json-value.js";
import { createHash } from "node:crypto";
import { newerSide, type Side, type Strategy } from "./strategy.js";

export interface ConflictSide {
  readonly side: Side;
  readonly writer: string;
  readonly updatedAt: number;
  /** The value as text (JSON for structured values); null when that side deleted it. */
  readonly value: string | null;
  /** "base64": a whole record whose bytes are not UTF-8, its value is "base64:" and their base64. */
  readonly encoding?: "base64";
}

const BASE64 = "base64:";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A whole record's bytes as a conflict keeps them: the text, or base64 for bytes that are not UTF-8. */
export function wholeValue(bytes: Uint8Array | null): Pick<ConflictSide, "value" | "encoding"> {
  if (bytes === null) return { value: null };
  try {
    return { value: utf8.decode(bytes) };
  } catch {
    return { value: BASE64 + Buffer.from(bytes).toString("base64"), encoding: "base64" };
  }
}

/** The bytes a whole-record conflict side stands for (null: that side deleted the record). */
export function sideBytes(side: Pick<ConflictSide, "value" | "encoding">): Uint8Array | null {
  if (side.value === null) return null;
  if (side.encoding === "base64") return Buffer.from(side.value.slice(BASE64.length), "base64");
  return new TextEncoder().encode(side.value);
}

export interface Conflict {
  /** Stable id: the same overlap always gets the same id, so re-running a merge adds nothing. */
  readonly id: string;
  /** The record's repo path. */
  readonly path: string;
  /** Where inside the record: a JSON pointer, "lines N-M", an entry name, or "" for the whole record. */
  readonly at: string;
  readonly strategy: Strategy;
  readonly kept: ConflictSide;
  readonly lost: ConflictSide;
  /** `ask`: the kept value is provisional until the user picks one. */
  readonly needsDecision: boolean;
}

/** Why the merge kept what it kept, in words: the rule of the conflict's strategy (see overlapWinner) applied to its two sides. */
export function whyKept(c: Pick<Conflict, "strategy" | "kept" | "lost">): string {
  const { kept, lost } = c;
  const at = (s: ConflictSide) => new Date(s.updatedAt).toISOString();
  switch (c.strategy) {
    case "auto-merge":
    case "newest-wins":
      if (kept.updatedAt !== lost.updatedAt) return `newest edit wins (${c.strategy}): ${kept.writer}'s edit at ${at(kept)} is later than ${lost.writer}'s at ${at(lost)}`;
      // The tie rule is newerSide's: the same on every machine that merges.
      return `newest edit wins (${c.strategy}), and both edits are from ${at(kept)}: a tie goes to the machine id later in order, ${newerSide({ main: kept, branch: lost }) === "main" ? kept.writer : lost.writer}`;
    case "local-wins":
      return `local-wins: ${kept.writer}'s change was the one being merged into main, so it replaced ${lost.writer}'s`;
    case "remote-wins":
      return `remote-wins: ${kept.writer}'s value was already in main, so it stayed over ${lost.writer}'s`;
    case "ask":
      return `ask: ${kept.writer}'s value (main's) stays until you choose; ${lost.writer}'s waits for your decision`;
  }
}

export function conflictId(path: string, at: string, kept: string | null, lost: string | null): string {
  return createHash("sha256")
    .update(JSON.stringify([path, at, kept, lost]))
    .digest("hex")
    .slice(0, 16);
}

/** Decides each overlap found while merging one record and keeps the losing value. */
export interface OverlapSink {
  overlap(at: string, main: string | null, branch: string | null): Side;
}

/**
 * What this machine keeps until the user decides (`ask`), by record path: JSON keys where the
 * merge set this machine's value aside, or `[]` (the whole record) for a file whose whole content
 * or lines were. Its live file keeps its value there meanwhile, and does not offer it again.
 */
export function awaitingDecision(conflicts: readonly Conflict[], machine: string): Map<string, string[][]> {
  const keys = new Map<string, string[][]>();
  for (const c of conflicts) {
    if (!c.needsDecision || c.lost.writer !== machine) continue;
    keys.set(c.path, [...(keys.get(c.path) ?? []), c.at.startsWith("/") ? pointerKeys(c.at) : []]);
  }
  return keys;
}
