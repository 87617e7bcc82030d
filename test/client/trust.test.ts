// The trust boundary on this machine (DESIGN.md §8): what oc-sync hands to git's children, and who
// may read what it keeps. Real git against a bare repo on disk whose hook records what it is given.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ocSyncPaths } from "../../client/platform/paths.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { addSession, makeUsedHome, openDb } from "../support/opencode-home.js";
import { PASSPHRASE, syncWorld, TOKEN } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

describe("what git's children are given", () => {
  it("a remote's hook sees neither the passphrase, nor a token, nor any OC_SYNC_ setting", async () => {
    const root = await tempDir("oc-sync-trust-");
    const remote = join(root, "hooked.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    const seen = join(root, "hook-env.txt");
    writeFileSync(join(remote, "hooks", "pre-receive"), `#!/bin/sh\nenv >> '${seen}'\n`);
    chmodSync(join(remote, "hooks", "pre-receive"), 0o755);
    const token = "canary-token-for-the-hook-test";
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

describe("a token in the remote URL", () => {
  it("never reaches a process's arguments, a log line or the output; the sync works with it", async () => {
    const w = await syncWorld();
    const root = await tempDir("oc-sync-url-token-");
    // A git in front of the real one that writes down every command line it is given.
    const shim = join(root, "bin");
    mkdirSync(shim);
    const argv = join(root, "git-argv.txt");
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(join(shim, "git"), `#!/bin/sh\necho "$@" >> '${argv}'\nexec '${real}' "$@"\n`);
    chmodSync(join(shim, "git"), 0o755);
    const url = w.url.replace("://", `://ana:${TOKEN}@`);
    const A = makeUsedHome(root, "url-a", { OC_SYNC_REMOTE: url, OC_SYNC_PASSPHRASE: PASSPHRASE, PATH: `${shim}:${process.env.PATH}` });
    writeFileSync(join(A.config, "opencode.json"), '{ "theme": "from a" }\n');
    const printed = [await runCli(A.env, ["sync", "--json"]), await runCli(A.env, ["status"]), await runCli(A.env, ["status", "--json"])];
    expect(printed[0]!.code, printed[0]!.stderr).toBe(0);
    expect((await runGit(["--git-dir", w.remoteDir, "cat-file", "-p", "main:config/opencode.json"])).stdout.toString()).toContain("from a");
    expect(readFileSync(argv, "utf8")).toContain("push");
    const seen = [readFileSync(argv, "utf8"), ...printed.flatMap((r) => [r.stdout, r.stderr]), readFileSync(ocSyncPaths(A.env).log, "utf8")].join("\n");
    expect(seen).not.toContain(TOKEN);
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
