// Line-based three-way merge (diff3) for Markdown and other text.
import { diff3Merge } from "node-diff3";
import type { OverlapSink } from "../conflict.js";

/** Lines with their terminators, so joining gives back the exact text. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  return text.split(/(?<=\n)/);
}

/** Merges non-overlapping hunks; each overlapping hunk goes to the sink. */
export function mergeText(base: string, main: string, branch: string, sink: OverlapSink): string {
  const regions = diff3Merge(splitLines(main), splitLines(base), splitLines(branch), { excludeFalseConflicts: true });
  let out = "";
  for (const region of regions) {
    if (region.ok) {
      out += region.ok.join("");
      continue;
    }
    const c = region.conflict!;
    const mainText = c.a.join("");
    const branchText = c.b.join("");
    const at = `lines ${c.aIndex + 1}-${c.aIndex + Math.max(c.a.length, 1)}`;
    const winner = sink.overlap(at, mainText, branchText);
    out += winner === "main" ? mainText : branchText;
  }
  return out;
}
