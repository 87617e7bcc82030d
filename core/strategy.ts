// Who wins where both sides changed the same key, line range or value.
// "local" is the machine branch being reconciled (the machine that wrote the change);
// "remote" is main (what every other machine already has).

export type Strategy = "auto-merge" | "local-wins" | "remote-wins" | "newest-wins" | "ask";

export const strategies: readonly Strategy[] = ["auto-merge", "local-wins", "remote-wins", "newest-wins", "ask"];

export type Side = "main" | "branch";

export interface SideInfo {
  readonly writer: string;
  readonly updatedAt: number;
}

export interface Sides {
  readonly main: SideInfo;
  readonly branch: SideInfo;
}

/** Deterministic: newer timestamp wins, ties broken by machine id so every reconciler agrees. */
export function newerSide(sides: Sides): Side {
  if (sides.main.updatedAt !== sides.branch.updatedAt) return sides.main.updatedAt > sides.branch.updatedAt ? "main" : "branch";
  return sides.main.writer >= sides.branch.writer ? "main" : "branch";
}

/** The side kept where an overlapping change must be decided; `ask` keeps main until the user decides. */
export function overlapWinner(strategy: Strategy, sides: Sides): Side {
  switch (strategy) {
    case "local-wins":
      return "branch";
    case "remote-wins":
    case "ask":
      return "main";
    case "auto-merge":
    case "newest-wins":
      return newerSide(sides);
  }
}

export function isStrategy(s: string): s is Strategy {
  return (strategies as readonly string[]).includes(s);
}
