// JSONL logs (prompt history): both sides' additions kept in order, a line removed on either
// side (trimmed history) stays removed, nothing duplicated. No overlaps are possible.
import { splitLines } from "./text.js";

export function mergeJsonl(base: string, main: string, branch: string): string {
  const baseLines = new Set(lineSet(base));
  const mainLines = lineSet(main);
  const branchLines = lineSet(branch);
  const inMain = new Set(mainLines);
  const inBranch = new Set(branchLines);
  const kept = mainLines.filter((l) => !(baseLines.has(l) && !inBranch.has(l)));
  const added = branchLines.filter((l) => !inMain.has(l) && !baseLines.has(l));
  const seen = new Set<string>();
  const lines = [...kept, ...added].filter((l) => (seen.has(l) ? false : (seen.add(l), true)));
  return lines.length ? lines.join("\n") + "\n" : "";
}

function lineSet(text: string): string[] {
  return splitLines(text)
    .map((l) => l.replace(/\r?\n$/, ""))
    .filter((l) => l.trim() !== "");
}
