// The trust boundary on this machine (DESIGN.md §8): what oc-sync hands to git's children, and who
// may read what it keeps. Real git against a bare repo on disk whose hook records what it is given.
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ocSyncPaths } from "../../client/platform/paths.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { addSession, makeUsedHome, openDb } from "../support/opencode-home.js";
import { PASSPHRASE } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

describe("what git's children are given", () => {
  it("a remote's hook sees neither the passphrase, nor a token, nor any OC_SYNC_ setting", async () => {
    const root = await tempDir("oc-sync-trust-");
    const remote = join(root, "hooked.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    const seen = join(root, "hook-env.txt");
    writeFileSync(join(remote, "hooks", "pre-receive"), `#!/bin/sh\nenv >> '${seen}'\n`);
    chmodSync(join(remote, "hooks", "pre-receive"), 0o755);
    const token = "ghp_canaryTokenForTheHookTest0123456789";
    const A = makeUsedHome(root, "trust-a", { OC_SYNC_REMOTE: remote, OC_SYNC_PASSPHRASE: PASSPHRASE, OC_SYNC_TOKEN: token, GITHUB_TOKEN: token, OC_SYNC_STRATEGY: "auto-merge" });
    writeFileSync(join(A.data, "auth.json"), JSON.stringify({ openai: { type: "api", key: "sk-canary-in-auth" } }), { mode: 0o600 });
    const r = await runCli(A.env, ["sync"]);
    expect(r.code, r.stderr).toBe(0);
    const env = readFileSync(seen, "utf8");
    expect(env).toContain("PATH=");
    for (const secret of [PASSPHRASE, token, "sk-canary-in-auth"]) expect(env).not.toContain(secret);
    expect(env).not.toMatch(/^OC_SYNC_|^GITHUB_TOKEN=/m);
  });
});

describe("who may read what oc-sync keeps", () => {
  it("its folder (repo and index hold session content) is 0700, state.db and the settings file 0600, even when an older version left them open", async () => {
    const root = await tempDir("oc-sync-modes-");
    const remote = join(root, "sync.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    const A = makeUsedHome(root, "modes-a", { OC_SYNC_PASSPHRASE: PASSPHRASE });
    const db = openDb(A);
    addSession(db, A, { messages: 1 });
    db.close();
    expect((await runCli(A.env, ["init", remote])).code).toBe(0);
    const paths = ocSyncPaths(A.env);
    const mode = (p: string) => statSync(p).mode & 0o777;
    chmodSync(paths.data, 0o755);
    chmodSync(paths.stateDb, 0o644);
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    expect(mode(paths.data)).toBe(0o700);
    expect(mode(paths.repo)).toBe(0o700);
    expect(mode(paths.stateDb)).toBe(0o600);
    expect(mode(join(paths.settingsDir, "opencode-sync.jsonc"))).toBe(0o600);
  });
});
