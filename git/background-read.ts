// Reads many objects with a `git cat-file --batch` that runs on its own: names from a file, output
// to a file. Through pipes, git stalls as soon as they are full, and they are drained only while
// this process is idle; an apply spends most of its time in synchronous SQLite writes, so reading
// the next batch this way lets git work meanwhile (a first pull read and wrote strictly in turn).
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { batchHeader } from "./object-reader.js";
import { gitEnv } from "./run.js";

const PREFIX = "oc-sync-read-";
const STALE_MS = 3_600_000;

/**
 * Starts reading at once; resolves to each object's content in order (null when missing or not a
 * blob). The files live in a private folder inside the git dir and are removed when done.
 */
export function readInBackground(gitDir: string, names: readonly string[]): Promise<(Buffer | null)[]> {
  const bad = names.find((n) => /[\n\r]/.test(n));
  if (bad !== undefined) return Promise.reject(new Error(`object name with a line break: ${JSON.stringify(bad)}`));
  const dir = mkdtempSync(join(gitDir, PREFIX));
  const input = join(dir, "names");
  const output = join(dir, "objects");
  const fds: number[] = [];
  const cleanUp = () => {
    for (const fd of fds) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(input, names.join("\n") + "\n", { mode: 0o600 });
    fds.push(openSync(input, "r"), openSync(output, "w", 0o600));
  } catch (e) {
    cleanUp();
    return Promise.reject(e as Error);
  }
  return new Promise<(Buffer | null)[]>((resolve, reject) => {
    const child = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { env: gitEnv(), stdio: [fds[0]!, fds[1]!, "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(new Error(`git cat-file could not start: ${e.message}`)));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`git cat-file exited with ${code}: ${stderr.trim()}`));
      try {
        resolve(parseBatch(readFileSync(output), names.length));
      } catch (e) {
        reject(e as Error);
      }
    });
  }).finally(cleanUp);
}

/** Removes what a read killed midway left behind (an hour old: no read takes that long). */
export async function removeStaleReads(gitDir: string): Promise<void> {
  for (const name of (await readdir(gitDir).catch(() => [])).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(gitDir, name);
    const age = Date.now() - (await stat(dir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > STALE_MS) await rm(dir, { recursive: true, force: true });
  }
}

/** `git cat-file --batch` output: a header line, then the content and a line break (none when missing). */
function parseBatch(out: Buffer, count: number): (Buffer | null)[] {
  const objects: (Buffer | null)[] = [];
  let at = 0;
  while (objects.length < count) {
    const nl = out.indexOf(10, at);
    if (nl < 0) throw new Error(`git cat-file gave ${objects.length} of ${count} objects`);
    const header = batchHeader(out.subarray(at, nl));
    at = nl + 1;
    if (!header) {
      objects.push(null);
      continue;
    }
    const end = at + header.size;
    objects.push(header.blob ? out.subarray(at, end) : null);
    at = end + 1;
  }
  return objects;
}
