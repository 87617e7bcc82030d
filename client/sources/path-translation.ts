// Sessions store absolute paths. In the repo a path is kept portable: `~/…` for the home folder,
// `/` as the separator and an upper-case drive letter whatever OS wrote it (`C:\git\x` is stored
// as `C:/git/x`); on apply it is mapped to this machine: the project's own checkout here when
// there is one, else `~` plus the user's pathMap of roots, in this machine's form (backslashes
// when its home is a Windows path). Scanning back remembers the repo value, so a mapped path
// never reads as a local change (no ping-pong between machines).
import { posix, win32 } from "node:path";

export interface PathContext {
  /** The home folder as OpenCode writes it into rows: `/home/ana`, `C:\Users\ana`. */
  readonly home: string;
  /** Other machines' roots → this machine's roots, e.g. {"/Users/ana/code": "/home/ana/src", "C:\\git": "/home/ana/src"}. */
  readonly pathMap: Readonly<Record<string, string>>;
}

/** A drive letter (`C:\`, `c:/`, `C:`) or a UNC share (`\\server\share`, stored `//server/share`). */
const WINDOWS_PATH = /^(?:[A-Za-z]:(?:[\\/]|$)|\\\\[^\\/]|\/\/[^/])/;

export function isWindowsPath(p: string): boolean {
  return WINDOWS_PATH.test(p);
}

/** The repo's one form of a path: `/` as the separator, an upper-case drive letter; POSIX paths as they are. */
export function canonicalPath(p: string): string {
  if (!isWindowsPath(p) && !/^~\\/.test(p)) return p;
  const slashed = p.replace(/\\/g, "/");
  return /^[a-z]:/.test(slashed) ? slashed[0]!.toUpperCase() + slashed.slice(1) : slashed;
}

/** This machine's form of a canonical path: backslashes for a Windows path when this machine is Windows. */
function nativePath(p: string, ctx: PathContext): string {
  return isWindowsPath(p) && isWindowsPath(ctx.home) ? p.replace(/\//g, "\\") : p;
}

/** `p` is `root` or inside it; both canonical. Windows paths compare without case, as Windows does. */
function under(p: string, root: string): boolean {
  const fold = isWindowsPath(root) ? (s: string) => s.toLowerCase() : (s: string) => s;
  const [path, top] = [fold(p), fold(root)];
  return path === top || path.startsWith(top.endsWith("/") ? top : top + "/");
}

/** A canonical root without a trailing separator, unless it is a top (`/`, `C:/`). */
function trimRoot(root: string): string {
  return root.length > 1 && root.endsWith("/") && !/^[A-Z]:\/$/.test(root) ? root.slice(0, -1) : root;
}

/** `p` (under `root`) moved under `to`, with exactly one separator between. */
function rebase(p: string, root: string, to: string): string {
  const rest = p.slice(root.length).replace(/^\//, "");
  if (!rest) return to;
  return to.endsWith("/") ? to + rest : `${to}/${rest}`;
}

/** A folder too wide to be a project's root: a whole drive, share or home. */
function isTop(root: string): boolean {
  return root === "/" || root === "~" || /^[A-Z]:\/?$/.test(root) || /^\/\/[^/]+\/[^/]+\/?$/.test(root);
}

function mapRoot(p: string, pathMap: PathContext["pathMap"]): string | undefined {
  for (const [from, to] of Object.entries(pathMap)) {
    const root = trimRoot(canonicalPath(from));
    if (under(p, root)) return rebase(p, root, trimRoot(canonicalPath(to)));
  }
  return undefined;
}

export function compressHome(p: string, home: string): string {
  const [path, top] = [canonicalPath(p), trimRoot(canonicalPath(home))];
  return under(path, top) ? rebase(path, top, "~") : path;
}

export function expandPortable(p: string, ctx: PathContext): string {
  const portable = canonicalPath(p);
  const direct = mapRoot(portable, ctx.pathMap);
  if (direct !== undefined) return nativePath(direct, ctx);
  const abs = portable === "~" || portable.startsWith("~/") ? rebase(portable, "~", trimRoot(canonicalPath(ctx.home))) : portable;
  return nativePath(mapRoot(abs, ctx.pathMap) ?? abs, ctx);
}

/**
 * A portable path under the project's portable root maps into the project's checkout here
 * (`localRoot`, in the form it has); anything else is expanded.
 */
export function toLocalPath(portable: string, ctx: PathContext, project?: { portableRoot: string; localRoot: string }): string {
  const path = canonicalPath(portable);
  const root = project && canonicalPath(project.portableRoot);
  if (project && !isTop(root!) && under(path, root!)) {
    const rest = path.slice(root!.length).replace(/^\//, "");
    const family = isWindowsPath(project.localRoot) ? win32 : posix;
    return rest ? family.join(project.localRoot, rest) : project.localRoot;
  }
  return expandPortable(path, ctx);
}

export function toPortablePath(local: string, previous: string | undefined, ctx: PathContext, project?: { portableRoot: string; localRoot: string }): string {
  if (previous !== undefined && toLocalPath(previous, ctx, project) === local) return previous;
  return compressHome(local, ctx.home);
}
