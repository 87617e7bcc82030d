// The command line as a user meets it: its version, its own words for a bad command line, JSON
// errors under --json, and files named by their real paths.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { acquireLock } from "../../client/platform/lock.js";
import { ocSyncPaths } from "../../client/platform/paths.js";
import { runCli, type CliResult } from "../support/cli.js";
import { fileURLToPath } from "node:url";
import { generate } from "../../bench/generate.js";
import { DEMO_PROJECT, makeHome, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, type SyncWorld } from "../support/sync-env.js";

let A: TestHome;
let world: SyncWorld;
beforeAll(async () => {
  world = await syncWorld();
  A = world.machine("cli-user");
  writeFileSync(join(A.config, "opencode.json"), JSON.stringify({ theme: "dark" }, null, 2));
  await sync(A);
  writeFileSync(join(A.config, "opencode.json"), JSON.stringify({ theme: "light" }, null, 2));
  await sync(A);
});

describe("the command line", () => {
  it("--version prints the package's version", async () => {
    const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    const r = await runCli(A.env, ["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `oc-sync ${version}\n` });
  });

  it.each([
    [["sync", "--bogus"], "oc-sync: unknown option --bogus; see 'oc-sync --help'\n"],
    [["history", "--limit"], "oc-sync: option --limit needs a value; see 'oc-sync --help'\n"],
    [["status", "extra"], "oc-sync: 'status' takes no arguments, not 'extra'; see 'oc-sync --help'\n"],
    [["history", "config/opencode.json", "more"], "oc-sync: 'history' takes one argument, not 'more'; see 'oc-sync --help'\n"],
  ])("%j is refused in oc-sync's words, exit 2", async (args, message) => {
    const r = await runCli(A.env, args);
    expect(r).toMatchObject({ code: 2, stderr: message, stdout: "" });
  });

  it("under --json an error is a JSON document on stdout, with the same exit code", async () => {
    const r = await runCli(A.env, ["--json", "resolve", "no-such-id", "--keep", "local"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("");
    const doc = JSON.parse(r.stdout) as { error: { message: string; exitCode: number } };
    expect(doc.error.exitCode).toBe(2);
    expect(doc.error.message).toContain("no-such-id");
    const usage = await runCli(A.env, ["--json", "status", "extra"]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { message: "'status' takes no arguments, not 'extra'; see 'oc-sync --help'", exitCode: 2, kind: "failed" } });
  });

  it("--lock-wait 0 gives up at once when another sync holds this machine's lock, and says so under --json", async () => {
    const lock = await acquireLock(ocSyncPaths(A.env).lock);
    try {
      const r = await runCli(A.env, ["--json", "sync", "--lock-wait", "0"]);
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout) as { error: { message: string; kind: string } };
      expect(doc.error.kind).toBe("lock-busy");
      expect(doc.error.message).toMatch(/another oc-sync is syncing on this machine \(pid \d+/);
    } finally {
      await lock.release();
    }
    expect((await runCli(A.env, ["sync", "--lock-wait", "soon"])).stderr).toBe("oc-sync: --lock-wait takes a number of seconds, not 'soon'\n");
    expect((await runCli(A.env, ["sync", "--lock-wait", "0"])).code).toBe(0);
  });

  it("waiting for another sync's lock says what it waits for, once (not under --json)", async () => {
    for (const json of [false, true]) {
      const path = ocSyncPaths(A.env).lock;
      const lock = await acquireLock(path);
      const running = runCli(A.env, [...(json ? ["--json"] : []), "sync", "--lock-wait", "30"]);
      // The waiting CLI's own lock file, made before it tries the lock, says it is there.
      while (!readdirSync(dirname(path)).some((n) => n.startsWith(`${basename(path)}.`) && n.endsWith(".tmp"))) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await lock.release();
      const r = await running;
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(json ? "" : `waiting for another oc-sync (pid ${process.pid}) to finish… (at most 30 s)\n`);
    }
  });

  it("history takes a file's own path as well as its record path", async () => {
    const byRecord = JSON.parse((await runCli(A.env, ["--json", "history", "config/opencode.json"])).stdout) as { path: string; versions: unknown[] };
    const byFile = JSON.parse((await runCli(A.env, ["--json", "history", join(A.config, "opencode.json")])).stdout) as { path: string; versions: unknown[] };
    expect(byRecord.versions).toHaveLength(2);
    expect(byFile).toEqual(byRecord);
    const outside = await runCli(A.env, ["history", join(A.home, "notes.txt")]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain(`${join(A.home, "notes.txt")} is not a file oc-sync syncs`);
  });
});

describe("errors name what the user gave", () => {
  it("a remote path that does not exist is named, with what to do, and init keeps no settings for it", async () => {
    const fresh = makeHome(world.root, "cli-no-remote");
    const missing = join(world.root, "no", "such", "repo.git");
    const r = await runCli(fresh.env, ["init", missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`oc-sync: the remote ${missing} does not exist: create it with 'git init --bare ${missing}', or fix the path (the 'remote' setting or OC_SYNC_REMOTE)\n`);
    expect(existsSync(join(fresh.config, "opencode-sync.jsonc"))).toBe(false);
    const notRepo = join(world.root, "just-a-folder");
    mkdirSync(notRepo);
    const json = await runCli(fresh.env, ["--json", "sync"], { OC_SYNC_REMOTE: notRepo });
    expect(JSON.parse(json.stdout)).toEqual({ error: { message: `the remote ${notRepo} is not a git repository: create it with 'git init --bare ${notRepo}', or fix the path (the 'remote' setting or OC_SYNC_REMOTE)`, exitCode: 1, kind: "needs-user" } });
  });

  it("a remote URL that is not there is named as the user gave it", async () => {
    const url = world.server.url("no-such.git");
    const r = await runCli(A.env, ["sync"], { OC_SYNC_REMOTE: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^oc-sync: the remote ${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} was not found \\(.*\\): fix the URL`));
    expect(r.stderr).not.toContain("--git-dir");
  });
});

/** Makes a folder refuse writes, even to root (whom a mode does not stop); returns the undo. */
function readOnly(dir: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  execFileSync("chattr", ["+i", dir]);
  return () => execFileSync("chattr", ["-i", dir]);
}

/**
 * Two machines with an agent folder, synced; `fromB` is written on b and synced, `onA` on a; then
 * a syncs through the CLI while its agent folder refuses writes.
 */
async function syncIntoReadOnlyAgents(name: string, fromB: Record<string, string>, onA: Record<string, string> = {}): Promise<{ a: TestHome; r: CliResult }> {
  const [a, b] = [world.machine(`${name}-a`), world.machine(`${name}-b`)];
  for (const h of [a, b]) mkdirSync(join(h.config, "agent"));
  await sync(a);
  await sync(b);
  for (const [file, text] of Object.entries(fromB)) writeFileSync(join(b.config, file), text);
  await sync(b);
  for (const [file, text] of Object.entries(onA)) writeFileSync(join(a.config, file), text);
  const writable = readOnly(join(a.config, "agent"));
  try {
    return { a, r: await runCli(a.env, ["sync"]) };
  } finally {
    writable();
  }
}

describe("a local write that fails", () => {
  it("exits 3 naming the file and the OS error; everything else applies, and the file comes once it can", async () => {
    const { a, r } = await syncIntoReadOnlyAgents("cli-ro", { "agent/review.md": "# review\n", "opencode.json": JSON.stringify({ theme: "from-b" }, null, 2) });
    const file = join(a.config, "agent", "review.md");
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`^needs you: could not write config/agent/review.md to ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: E[A-Z]+: .*; it is tried again on the next sync$`, "m"));
    expect(readFileSync(join(a.config, "opencode.json"), "utf8")).toContain("from-b");
    expect(existsSync(file)).toBe(false);
    const again = await runCli(a.env, ["sync"]);
    expect(again.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("# review\n");
  });
});

describe("warnings", () => {
  it("each is printed once, on its own line of the report on stdout, and not echoed on stderr", async () => {
    const { r } = await syncIntoReadOnlyAgents("cli-warn", { "agent/one.md": "# one\n", "agent/two.md": "# two\n" }, { "agent/bad-1.md": "half\0written", "agent/bad-2.md": "half\0written" });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^cli-warn-a: pulled/);
    const skipped = lines.filter((l) => l.startsWith("warning: skipped "));
    expect(skipped.map((l) => /agent\/(bad-\d)\.md: it holds NUL bytes/.exec(l)?.[1])).toEqual(["bad-1", "bad-2"]);
    const unwritten = lines.filter((l) => l.startsWith("needs you: could not write "));
    expect(unwritten.map((l) => /config\/agent\/(\w+)\.md to /.exec(l)?.[1]).sort()).toEqual(["one", "two"]);
    expect(lines).toHaveLength(1 + 2 + 2);
  });
});

describe("checks before writes, and the passphrase", () => {
  it("init refuses a passphrase too short before it writes the settings", async () => {
    const fresh = makeHome(world.root, "cli-short-passphrase");
    const r = await runCli(fresh.env, ["init", world.remoteDir], { OC_SYNC_PASSPHRASE: "short" });
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: "oc-sync: passphrase too short: use at least 8 characters; nothing was written\n" });
    expect(existsSync(join(fresh.config, "opencode-sync.jsonc"))).toBe(false);
  });

  it("a settings file that does not parse is named with the line and column", async () => {
    const broken = makeHome(world.root, "cli-broken-settings");
    const file = join(broken.config, "opencode-sync.jsonc");
    writeFileSync(file, '{\n  // mine\n  "machine": "x",,\n}\n');
    const r = await runCli(broken.env, ["status"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`oc-sync: ${file}: line 3, column 18: PropertyNameExpected; fix the file (it is JSONC: comments are fine)\n`);
  });

  it("init without a terminal and without a passphrase sets up the rest and says how to give one", async () => {
    const fresh = makeHome(world.root, "cli-no-terminal");
    const r = await runCli(fresh.env, ["init", world.remoteDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("credentials: not synced: no passphrase was given (set OC_SYNC_PASSPHRASE, or run 'oc-sync init' in a terminal to be asked)\n");
  });

  it("status says credentials sync on a machine whose cached key unlocks them, without a passphrase", async () => {
    const withKey = await runCli(A.env, ["status"], { OC_SYNC_PASSPHRASE: "" });
    expect(withKey.stdout).toContain("credentials  synced (encrypted, with the key cached on this machine)\n");
    const fresh = makeHome(world.root, "cli-no-key", { OC_SYNC_REMOTE: world.url });
    const without = await runCli(fresh.env, ["--json", "status"]);
    expect(JSON.parse(without.stdout)).toMatchObject({ credentials: "skipped-no-passphrase" });
  });
});

describe("progress on a terminal", () => {
  const ROOT = fileURLToPath(new URL("../../", import.meta.url));
  /** The CLI on a pseudo-terminal (util-linux `script`), as a user at a terminal runs it (async: the git server runs in this process). */
  const onTerminal = async (h: TestHome, args: string) =>
    (await promisify(execFile)("script", ["-qec", `${process.execPath} ${ROOT}node_modules/tsx/dist/cli.mjs ${ROOT}client/cli/entry.ts ${args}`, "/dev/null"], { env: h.env as NodeJS.ProcessEnv, encoding: "utf8", timeout: 60_000 })).stdout;

  it("a first pull shows records applied of the total, cleared before the report; none without a terminal or under --json", async () => {
    const w = await syncWorld();
    const from = w.machine("progress-from", false);
    generate(from.db, { name: "few", sessions: 20, messagesPerSession: 30, partsPerMessage: 3 }, DEMO_PROJECT, from.repo);
    await sync(from);
    const shown = await onTerminal(w.machine("progress-tty"), "sync");
    expect(shown).toMatch(/applied \d+ of \d+ records…/);
    // The headline starts on a cleared line, not after the last progress.
    expect(shown).toMatch(/\r\x1b\[Kprogress-tty: (pulled|merged)/);
    expect(await onTerminal(w.machine("progress-json"), "--json sync")).not.toContain("records…");
    const piped = await runCli(w.machine("progress-pipe").env, ["sync"]);
    expect(piped.stderr + piped.stdout).not.toContain("records…");
  });
});
