// A full disk is the user's to fix, and the error must say where: Node's ENOSPC names no file.

/** No space left where oc-sync writes: nothing was saved there and nothing was changed. */
export class DiskFullError extends Error {
  constructor(readonly where: string) {
    super(`the disk holding ${where} is full: nothing was saved there and nothing was changed; free some space and sync again`);
    this.name = "DiskFullError";
  }
}

/** Whether an error is a full disk or quota, from Node (ENOSPC, EDQUOT) or SQLite. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || /database or disk is full|SQLITE_FULL/i.test(String((e as Error | null)?.message));
}

/** Rethrows a full disk as a DiskFullError naming `where`; anything else as it is. */
export function namingDiskFull(where: string): (e: unknown) => never {
  return (e) => {
    throw isDiskFull(e) ? new DiskFullError(where) : e;
  };
}
