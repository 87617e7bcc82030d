// File names that every machine can sync but not every filesystem can hold: names Windows
// refuses, and names that differ only in case (one file on macOS and Windows, two on Linux).

const WINDOWS_RESERVED = /^(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\..*)?$/i;
// Control characters are among what Windows refuses.
const WINDOWS_FORBIDDEN = /[<>:"|?*\u0000-\u001f]/;

/** Why Windows cannot hold a file or folder named `name`; undefined when it can. */
export function windowsNameProblem(name: string): string | undefined {
  if (WINDOWS_FORBIDDEN.test(name)) return `'${name}' holds a character Windows does not allow in names (< > : " | ? * or a control character)`;
  if (/[. ]$/.test(name)) return `'${name}' ends with a dot or a space, which Windows drops`;
  if (WINDOWS_RESERVED.test(name)) return `'${name}' is a device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)`;
  return undefined;
}

/** The first segment of a repo-relative path that Windows cannot hold, and why. */
export function windowsPathProblem(rel: string): string | undefined {
  for (const segment of rel.split("/")) {
    const problem = windowsNameProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The entry of a folder that a write of `name` would land on instead: the filesystem found
 * `name` (`resolves`) but the folder has no entry spelled so, so it folds case and the entry
 * spelled otherwise is another record's file. undefined when there is no such twin.
 */
export function caseTwin(name: string, resolves: boolean, entries: readonly string[]): string | undefined {
  if (!resolves || entries.includes(name)) return undefined;
  const folded = name.toLowerCase();
  return entries.find((e) => e.toLowerCase() === folded);
}

/**
 * A name git treats as its own control file: `.git` (a folder whose config can run commands, e.g.
 * core.fsmonitor, when anyone runs git there; or a file pointing elsewhere), `.gitmodules`,
 * `.gitattributes`. Compared as macOS and Windows compare names: without case, and on Windows
 * without trailing dots and spaces, and as its 8.3 short name (GIT~1).
 */
export function isGitControlName(name: string): boolean {
  const n = name.toLowerCase().replace(/[. ]+$/, "");
  return n === ".git" || n === "git~1" || n === ".gitmodules" || n === ".gitattributes";
}
