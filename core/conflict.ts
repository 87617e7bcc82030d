// A conflict is the losing value of an overlapping change, kept so nothing is ever dropped.
import { createHash } from "node:crypto";
import type { Side, Strategy } from "./strategy.js";

export interface ConflictSide {
  readonly side: Side;
  readonly writer: string;
  readonly updatedAt: number;
  /** The value as text (JSON for structured values); null when that side deleted it. */
  readonly value: string | null;
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
