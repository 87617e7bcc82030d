// Sessions store absolute paths. In the repo a path is kept portable (`~/…` for the home
// folder); on apply it is mapped to this machine: the project's own checkout here when there is
// one, else `~` plus the user's pathMap of roots. Scanning back remembers the repo value, so a
// mapped path never reads as a local change (no ping-pong between machines).
import { join } from "node:path";

export interface PathContext {
  readonly home: string;
  /** Other machines' roots → this machine's roots, e.g. {"/Users/ana/code": "/home/ana/src"}. */
  readonly pathMap: Readonly<Record<string, string>>;
}

const under = (p: string, root: string) => p === root || p.startsWith(root.endsWith("/") ? root : root + "/");

export function compressHome(p: string, home: string): string {
  return under(p, home) ? "~" + p.slice(home.length) : p;
}

export function expandPortable(p: string, ctx: PathContext): string {
  for (const [from, to] of Object.entries(ctx.pathMap)) if (under(p, from)) return to + p.slice(from.length);
  const abs = p === "~" || p.startsWith("~/") ? ctx.home + p.slice(1) : p;
  for (const [from, to] of Object.entries(ctx.pathMap)) if (under(abs, from)) return to + abs.slice(from.length);
  return abs;
}

/**
 * A portable path under the project's portable root maps into the project's checkout here
 * (`localRoot`); anything else is expanded.
 */
export function toLocalPath(portable: string, ctx: PathContext, project?: { portableRoot: string; localRoot: string }): string {
  if (project && project.portableRoot !== "/" && under(portable, project.portableRoot)) {
    const rest = portable.slice(project.portableRoot.length).replace(/^\//, "");
    return rest ? join(project.localRoot, rest) : project.localRoot;
  }
  return expandPortable(portable, ctx);
}

export function toPortablePath(local: string, previous: string | undefined, ctx: PathContext, project?: { portableRoot: string; localRoot: string }): string {
  if (previous !== undefined && toLocalPath(previous, ctx, project) === local) return previous;
  return compressHome(local, ctx.home);
}
