// GitHub's limits on a push (test/support/github/push-limits.ts), at a lowered push limit: the
// stand-in refuses a push over it and warns of a file over 50 MB as GitHub does.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MIB } from "../../core/layout.js";
import { GitRepo } from "../../git/repo.js";
import { runGit } from "../../git/run.js";
import { installPushLimits } from "../support/github/push-limits.js";
import { syncWorld, TOKEN, type SyncWorld } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

const LIMIT = 2 * MIB;

/** A loopback remote that refuses a push whose pack is over LIMIT, and keeps a reflog of every push. */
async function limitedWorld(): Promise<SyncWorld> {
  const w = await syncWorld();
  installPushLimits(w.remoteDir, { pushLimitBytes: LIMIT });
  await runGit(["--git-dir", w.remoteDir, "config", "core.logAllRefUpdates", "always"]);
  return w;
}

/** Every commit a push moved the remote branch to, oldest first (the remote's reflog). */
async function pushesTo(w: SyncWorld, branch: string): Promise<string[]> {
  const out = await runGit(["--git-dir", w.remoteDir, "reflog", "show", "--format=%H", `refs/heads/${branch}`], { okCodes: [128] });
  return out.stdout.toString().split("\n").filter(Boolean).reverse();
}

/** A plain git push of one commit holding `bytes` to the remote. */
async function plainPush(w: SyncWorld, bytes: Buffer): Promise<{ code: number; stderr: string }> {
  const repo = await GitRepo.open(join(await tempDir(), "plain.git"));
  const commit = await repo.commit({ parents: [], message: "one big commit", changes: [["big.bin", bytes]] });
  return repo.git(["push", "--porcelain", w.url, `${commit}:refs/heads/plain`], { auth: { token: TOKEN }, okCodes: [1] });
}

describe("GitHub's push limits in the stand-in", () => {
  it("refuses a push whose pack is over the limit, in git's (and GitHub's) words", async () => {
    const w = await limitedWorld();
    const r = await plainPush(w, randomBytes(3 * MIB));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/remote: fatal: pack exceeds maximum allowed size/);
    expect(await pushesTo(w, "plain")).toEqual([]);
  });

  it("lets a file over 50 MB through with GitHub's warning", async () => {
    const w = await syncWorld();
    installPushLimits(w.remoteDir);
    // Zeros: 51 MiB to GitHub's check, a few KB on disk and on the wire.
    const r = await plainPush(w, Buffer.alloc(51 * MIB));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("remote: warning: File big.bin is 51.00 MB; this is larger than GitHub's recommended maximum file size of 50.00 MB");
    expect(r.stderr).toContain("remote: warning: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com.");
  });
});
