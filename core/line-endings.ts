// Line endings of a text record. A file edited on Windows ends its lines with CRLF, the same file
// on macOS or Linux often with LF: to a line merge every line then differs. Merges compare lines
// without their endings, and each machine keeps the endings its own copy of a file has.

export type LineEnding = "crlf" | "lf";

/** The one ending every line of `text` has; undefined when it has no line break or mixes both. */
export function lineEndingOf(text: string): LineEnding | undefined {
  const breaks = text.split("\n").length - 1;
  if (breaks === 0) return undefined;
  const crlf = text.split("\r\n").length - 1;
  if (crlf === breaks) return "crlf";
  return crlf === 0 ? "lf" : undefined;
}

/** `text` (whose lines all end one way) with every line ending `ending`. */
export function withLineEnding(text: string, ending: LineEnding): string {
  const lf = text.replace(/\r\n/g, "\n");
  return ending === "lf" ? lf : lf.replace(/\n/g, "\r\n");
}

/**
 * The ending a merge writes: the sides' ending when they agree, else the side's that changed it
 * from the base (a three-way merge of the ending itself), else main's.
 */
export function mergedLineEnding(base: LineEnding | undefined, main: LineEnding, branch: LineEnding): LineEnding {
  if (main === branch) return main;
  return base === main ? branch : main;
}

/**
 * The three sides with LF endings when they end lines differently (each side consistently), and
 * the ending to give the merge's result; undefined when nothing needs converting (same endings,
 * or a side that mixes them, which is merged as it is).
 */
export function commonLineEndings(base: string, main: string, branch: string): { readonly sides: [string, string, string]; readonly ending: LineEnding } | undefined {
  const [b, m, r] = [base, main, branch].map(lineEndingOf);
  const mixed = (text: string, ending: LineEnding | undefined) => ending === undefined && text.includes("\n");
  if (mixed(base, b) || mixed(main, m) || mixed(branch, r)) return undefined;
  const present = [b, m, r].filter((e): e is LineEnding => e !== undefined);
  if (present.every((e) => e === present[0])) return undefined;
  const ending = mergedLineEnding(b, m ?? r ?? "lf", r ?? m ?? "lf");
  return { sides: [withLineEnding(base, "lf"), withLineEnding(main, "lf"), withLineEnding(branch, "lf")], ending };
}
