// Files are replaced whole or not at all: write a temp file beside the target, fsync, rename.
import { randomBytes } from "node:crypto";
import { renameSync, type Stats } from "node:fs";
import { mkdir, open, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { namingDiskFull } from "./disk-full.js";

/** The temp files this module writes beside their target: never synced, never watched. */
export const TEMP_FILE = /\.oc-sync-[0-9a-f]+\.tmp$/;

/** A temp file this old is a killed write's leftover (a write takes milliseconds); it may hold plaintext credentials. */
const LEFTOVER_MS = 60_000;

/** Removes `file` if it is one of this module's temp files and a killed write left it. */
export async function removeLeftover(file: string): Promise<boolean> {
  if (!TEMP_FILE.test(file)) return false;
  const s = await stat(file).catch(() => undefined);
  if (!s || Date.now() - s.mtimeMs < LEFTOVER_MS) return false;
  await rm(file, { force: true });
  return true;
}

/**
 * Returns the stat of what was written (the rename keeps it). `replaceIf`, when given, is asked
 * synchronously right before the rename, after the slow part (writing, fsync): when it says no the
 * file is left as it is and null returned. Nothing of this process runs between its answer and the
 * rename, so another program's write can slip in only within that instant, not during an fsync.
 */
export async function writeFileAtomic(path: string, content: Uint8Array | string, mode = 0o644, replaceIf?: () => boolean): Promise<Stats | null> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.oc-sync-${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", mode);
  let stats: Stats;
  try {
    await fh.writeFile(content);
    await fh.chmod(mode);
    await fh.sync();
    stats = await fh.stat();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    return namingDiskFull(path)(e);
  }
  await fh.close();
  try {
    if (replaceIf && !replaceIf()) {
      await rm(tmp, { force: true });
      return null;
    }
    renameSync(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return stats;
}
