// Temporary folders for tests, removed when the test file finishes. One hook, registered while
// the file is collected: one registered later (from a beforeAll or a test) would never run.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
// The benchmarks import helpers that import this, outside vitest: they remove their own folders.
if (process.env.VITEST) {
  afterAll(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
}

export async function tempDir(prefix = "oc-sync-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
