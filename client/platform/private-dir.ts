// oc-sync's own folder holds session content (its repo) and the index: only the user may read it.
import { chmod, mkdir } from "node:fs/promises";

/** Creates the folder (and its parents) if needed and makes it 0700, as an older oc-sync may have left it 0755. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Makes an existing file 0600; a file not there yet is no error. */
export async function makePrivate(file: string): Promise<void> {
  await chmod(file, 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
}
