// One sync at a time per machine, across processes (two OpenCode windows, a CLI run beside the
// plugin). An exclusive lock file holding the owner's pid; a lock whose owner is gone is taken over.
// The file is made whole, pid inside, then linked into place: a process killed while taking the
// lock cannot leave an empty lock behind that nobody could ever prove stale.
import { randomBytes } from "node:crypto";
import { namingDiskFull } from "./disk-full.js";
import { ensurePrivateDir } from "./private-dir.js";
import { link, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export class LockBusyError extends Error {
  constructor(path: string, owner: string) {
    super(`another oc-sync is syncing on this machine (pid ${owner}, lock ${path}); try again when it finishes`);
    this.name = "LockBusyError";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface Lock {
  release(): Promise<void>;
}

/** An empty lock can only be one an older oc-sync left while being killed; this old, it is stale. */
const EMPTY_LOCK_STALE_MS = 5000;

/** Takes the lock, waiting up to `waitMs` for a live owner to finish; `onWait` is told once, with the owner's pid, when it starts to wait. */
export async function acquireLock(path: string, waitMs = 0, onWait?: (owner: string) => void): Promise<Lock> {
  await ensurePrivateDir(dirname(path));
  const deadline = Date.now() + waitMs;
  const mine = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 }).catch(async (e: unknown) => {
    await rm(mine, { force: true });
    return namingDiskFull(dirname(path))(e);
  });
  try {
    for (;;) {
      try {
        await place(mine, path);
        await removeDeadOwnersFiles(path);
        return { release: () => rm(path, { force: true }) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      if (await isStale(path)) {
        await rm(path, { force: true });
        continue;
      }
      const owner = (await readFile(path, "utf8").catch(() => "")).trim() || "unknown";
      if (Date.now() >= deadline) throw new LockBusyError(path, owner);
      onWait?.(owner);
      onWait = undefined;
      await sleep(100);
    }
  } finally {
    await rm(mine, { force: true });
  }
}

/** The half-made lock files (`<lock>.<pid>-<hex>.tmp`) of processes that were killed while taking the lock. */
async function removeDeadOwnersFiles(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    const pid = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid && !alive(Number(pid))) await rm(join(dirname(path), name), { force: true });
  }
}

/** Puts the finished lock file in place, failing with EEXIST when a lock is there. */
async function place(made: string, path: string): Promise<void> {
  try {
    await link(made, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A file system without hard links: create-exclusive and write in one call instead.
    if (code === "EEXIST" || !["EPERM", "ENOTSUP", "ENOSYS", "EXDEV"].includes(code ?? "")) throw e;
    await writeFile(path, await readFile(made), { flag: "wx", mode: 0o600 });
  }
}

async function isStale(path: string): Promise<boolean> {
  const owner = (await readFile(path, "utf8").catch(() => "")).trim();
  if (owner === "") return Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now()) > EMPTY_LOCK_STALE_MS;
  const pid = Number(owner);
  return !Number.isInteger(pid) || !alive(pid);
}
