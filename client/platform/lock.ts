// One sync at a time per machine, across processes (two OpenCode windows, a CLI run beside the
// plugin). An exclusive lock file holding the owner's pid; a lock whose owner is gone is taken over.
import { open, readFile, rm, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { sleep } from "../../git/retry.js";

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

/** Takes the lock, waiting up to `waitMs` for a live owner to finish. */
export async function acquireLock(path: string, waitMs = 0): Promise<Lock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => rm(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = (await readFile(path, "utf8").catch(() => "")).trim();
    const pid = Number(owner);
    if (owner !== "" && (!Number.isInteger(pid) || !alive(pid))) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(path, owner || "unknown");
    await sleep(100);
  }
}
