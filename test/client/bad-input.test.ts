// The bad-input catalogue (docs/bad-input.md): each case gives oc-sync something broken or hostile
// and checks what a user would: a clear message naming the file, record or setting; no local data
// damaged (nothing outside OpenCode's folders written, no file half-written); and that the next good
// run recovers. Each case has its own remote, so a damaged repo cannot leak into another case.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { FORMAT_PATH, KEY_PATH, RECORD_SIZE_LIMIT } from "../../core/layout.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import { foreignRecord, plantOnMain } from "../support/hostile-repo.js";
import { addSession, openDb, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, TOKEN, type SyncWorld } from "../support/sync-env.js";

/** Every file a user keeps in OpenCode's folders, by content; the database by its rows. */
function fingerprint(h: TestHome): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const s = lstatSync(abs);
      if (name.startsWith("opencode.db")) continue;
      if (s.isDirectory()) walk(abs);
      else out[relative(h.home, abs)] = s.isSymbolicLink() ? "link" : createHash("sha256").update(readFileSync(abs)).digest("hex");
    }
  };
  for (const d of [h.config, h.state, h.data]) walk(d);
  if (existsSync(h.db)) {
    try {
      const db = openDb(h);
      for (const t of ["project", "session", "message", "part", "todo"]) out[`db:${t}`] = JSON.stringify(db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all());
      db.close();
    } catch (e) {
      out["db:unreadable"] = (e as Error).message;
    }
  }
  return out;
}

const remoteFiles = async (w: SyncWorld) => (await runGit(["--git-dir", w.remoteDir, "ls-tree", "-r", "--name-only", "main"])).stdout.toString().trim().split("\n");
const remoteText = async (w: SyncWorld, path: string) => (await runGit(["--git-dir", w.remoteDir, "cat-file", "-p", `main:${path}`], { okCodes: [128] })).stdout.toString();
const allRemoteObjects = async (w: SyncWorld) => (await runGit(["--git-dir", w.remoteDir, "cat-file", "--batch-all-objects", "--batch"])).stdout.toString("latin1");
const problems = (r: { problems: readonly string[] }) => r.problems.join("\n");
const write = (file: string, content: string | Uint8Array) => {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, content);
};

/** A second machine that has synced once, holding what A pushed: the usual receiving side. */
async function pair(w: SyncWorld, setupA: (a: TestHome) => void = () => {}): Promise<{ A: TestHome; B: TestHome }> {
  const A = w.machine("a");
  setupA(A);
  await sync(A);
  const B = w.machine("b");
  await sync(B);
  return { A, B };
}

describe("bad local files", () => {
  it.each([
    ["opencode.json", '{ "theme": "dark", '],
    ["tui.jsonc", '{ // comment\n "theme": '],
    ["agent/reviewer.json", "{ not json"],
  ])("%s with a syntax error is not uploaded; it syncs once fixed", async (file, broken) => {
    const w = await syncWorld();
    const { A, B } = await pair(w);
    write(join(A.config, file), broken);
    write(join(A.config, "AGENTS.md"), "still synced\n");
    const r = await sync(A);
    expect(problems(r)).toMatch(new RegExp(`${file.replace(".", "\\.")}.*not valid JSON.*fix it`));
    expect(await remoteFiles(w)).not.toContain(`config/${file}`);
    expect(await remoteFiles(w)).toContain("config/AGENTS.md");
    expect(readFileSync(join(A.config, file), "utf8")).toBe(broken);
    write(join(A.config, file), '{ "theme": "dark" }');
    expect(problems(await sync(A))).toBe("");
    await sync(B);
    expect(readFileSync(join(B.config, file), "utf8")).toBe('{ "theme": "dark" }');
  });

  it("a broken line in prompt-history.jsonl is kept verbatim and the other lines merge", async () => {
    const w = await syncWorld();
    const { A, B } = await pair(w);
    write(join(A.state, "prompt-history.jsonl"), '{"input":"a1"}\n{"input": broken\n');
    await sync(A);
    await sync(B);
    write(join(B.state, "prompt-history.jsonl"), readFileSync(join(B.state, "prompt-history.jsonl"), "utf8") + '{"input":"b1"}\n');
    expect(problems(await sync(B))).toBe("");
    await sync(A);
    for (const h of [A, B]) expect(readFileSync(join(h.state, "prompt-history.jsonl"), "utf8")).toBe('{"input":"a1"}\n{"input": broken\n{"input":"b1"}\n');
  });

  it.each([
    ["not JSON", "{ openai: sk-", /auth\.json is not valid JSON; fix or remove it/],
    ["a JSON array", '["sk-1"]', /auth\.json must hold a JSON object of entries/],
  ])("auth.json that is %s: credentials wait with a message, the file is untouched, everything else syncs", async (_what, content, message) => {
    const w = await syncWorld();
    const { A, B } = await pair(w);
    write(join(A.data, "auth.json"), content);
    write(join(A.config, "AGENTS.md"), "synced anyway\n");
    const r = await sync(A);
    expect(problems(r)).toMatch(message);
    expect(readFileSync(join(A.data, "auth.json"), "utf8")).toBe(content);
    expect(await remoteFiles(w)).not.toContain("credentials/auth.json");
    await sync(B);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("synced anyway\n");
    write(join(A.data, "auth.json"), '{"openai":{"type":"api","key":"sk-fixed"}}');
    expect(problems(await sync(A))).toBe("");
    await sync(B);
    expect(JSON.parse(readFileSync(join(B.data, "auth.json"), "utf8"))).toEqual({ openai: { type: "api", key: "sk-fixed" } });
  });

  it.each([
    ["a binary theme asset", "themes/logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff, 0xfe])],
    ["AGENTS.md with invalid UTF-8", "AGENTS.md", Buffer.from([0x68, 0x69, 0xc3, 0x28, 0xa0, 0xa1, 0x0a])],
  ])("%s arrives byte for byte", async (_what, file, bytes) => {
    const w = await syncWorld();
    const { B } = await pair(w, (a) => write(join(a.config, file), bytes));
    expect(Buffer.compare(readFileSync(join(B.config, file)), bytes)).toBe(0);
  });

  it("a file over the size limit is skipped with a message naming it and the limit, and is not deleted anywhere", async () => {
    const w = await syncWorld();
    const { A, B } = await pair(w, (a) => write(join(a.config, "agent", "huge.md"), "small at first\n"));
    write(join(A.config, "agent", "huge.md"), Buffer.alloc(RECORD_SIZE_LIMIT + 1, 0x61));
    write(join(A.config, "agent", "small.md"), "fine\n");
    const r = await sync(A);
    expect(problems(r)).toMatch(/skipped .*agent\/huge\.md: 40\.0 MB \(41943041 bytes\) is over the 40\.0 MB \(41943040 bytes\) limit for one record \(the setting recordLimitMB/);
    expect(await remoteFiles(w)).toContain("config/agent/small.md");
    expect(await remoteText(w, "config/agent/huge.md")).toContain("small at first");
    await sync(B);
    expect(readFileSync(join(B.config, "agent", "huge.md"), "utf8")).toBe("small at first\n");
  });

  it("a symlinked file (a dotfiles manager's) syncs its content; another machine's change is not written through a link that leads out of OpenCode's folders", async () => {
    const w = await syncWorld();
    const { A, B } = await pair(w, (a) => write(join(a.config, "AGENTS.md"), "rules v1\n"));
    const dotfile = join(A.home, "dotfiles", "AGENTS.md");
    write(dotfile, "rules v1\n");
    rmSync(join(A.config, "AGENTS.md"));
    symlinkSync(dotfile, join(A.config, "AGENTS.md"));
    expect(problems(await sync(A))).toBe("");
    await sync(B);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("rules v1\n");
    writeFileSync(dotfile, "rules v2, edited in the dotfiles\n");
    await sync(A);
    await sync(B);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("rules v2, edited in the dotfiles\n");
    writeFileSync(join(B.config, "AGENTS.md"), "rules v3 from b\n");
    await sync(B);
    const r = await sync(A);
    expect(problems(r)).toMatch(/AGENTS\.md leads to .*dotfiles\/AGENTS\.md, outside OpenCode's folders: .*held in the sync repo/);
    expect(lstatSync(join(A.config, "AGENTS.md")).isSymbolicLink()).toBe(true);
    expect(readFileSync(dotfile, "utf8")).toBe("rules v2, edited in the dotfiles\n");
    expect(await remoteText(w, "config/AGENTS.md")).toContain("rules v3 from b");
  });

  it("a symlinked folder is read through, and a change to a file in it syncs", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const elsewhere = join(A.home, "dotfiles", "command");
    write(join(elsewhere, "x.md"), "command from the dotfiles\n");
    symlinkSync(elsewhere, join(A.config, "command"));
    expect(problems(await sync(A))).toBe("");
    expect(await remoteText(w, "config/command/x.md")).toContain("command from the dotfiles");
  });

  it("two folder names linked to one dotfiles folder both sync, and a link loop ends the walk", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const shared = join(A.home, "dotfiles", "commands");
    write(join(shared, "x.md"), "one command, two names\n");
    symlinkSync(shared, join(A.config, "command"));
    symlinkSync(shared, join(A.config, "commands"));
    symlinkSync(shared, join(shared, "loop"));
    await sync(A);
    const files = await remoteFiles(w);
    expect(files).toEqual(expect.arrayContaining(["config/command/x.md", "config/commands/x.md"]));
    expect(files.filter((f) => f.includes("/loop/loop/"))).toEqual([]);
  });

  it("a file that becomes a link to nothing is skipped, not deleted on the other machines", async () => {
    const w = await syncWorld();
    const { A, B } = await pair(w, (a) => write(join(a.config, "AGENTS.md"), "rules\n"));
    rmSync(join(A.config, "AGENTS.md"));
    symlinkSync(join(A.home, "not-there"), join(A.config, "AGENTS.md"));
    expect(problems(await sync(A))).toMatch(/skipped .*AGENTS\.md: it is a link to nothing/);
    await sync(B);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("rules\n");
  });

  it("a nested .git folder is never synced, and a repo record into one is refused", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    write(join(A.config, "agent", ".git", "config"), "[core]\n\tfsmonitor = touch /tmp/pwned\n");
    write(join(A.config, "agent", "review.md"), "synced\n");
    await sync(A);
    expect(await remoteFiles(w)).toContain("config/agent/review.md");
    expect((await remoteFiles(w)).filter((f) => f.includes(".git/"))).toEqual([]);
    const B = w.machine("b");
    await plantOnMain(w.remoteDir, [foreignRecord("config/command/.git/config", "[core]\n\tfsmonitor = touch /tmp/pwned\n")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/refused to write config\/command\/\.git\/config/);
    expect(existsSync(join(B.config, "command", ".git"))).toBe(false);
  });

  it("a file whose name cannot be stored portably is skipped with a message", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    write(join(A.config, "command", "two\nlines.md"), "x\n");
    write(join(A.config, "command", "fine.md"), "y\n");
    const r = await sync(A);
    expect(problems(r)).toMatch(/skipped .*two\nlines\.md: its name cannot be stored portably/);
    expect(await remoteFiles(w)).toContain("config/command/fine.md");
  });

  it("a machine without OpenCode's config folder gets it created", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    write(join(A.config, "AGENTS.md"), "hello\n");
    await sync(A);
    const B = w.machine("b");
    rmSync(B.config, { recursive: true });
    expect(problems(await sync(B))).toBe("");
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("hello\n");
  });

  it.each([
    ["a file where a folder must go", (b: TestHome) => write(join(b.config, "command"), "i am a file\n"), (b: TestHome) => rmSync(join(b.config, "command")), "command/deploy.md"],
    ["a folder where a file must go", (b: TestHome) => mkdirSync(join(b.config, "AGENTS.md"), { recursive: true }), (b: TestHome) => rmSync(join(b.config, "AGENTS.md"), { recursive: true }), "AGENTS.md"],
  ])("%s: that record waits with a message naming it, the rest applies, and it lands once the way is clear", async (_what, block, clear, file) => {
    const w = await syncWorld();
    const A = w.machine("a");
    const B = w.machine("b");
    await sync(B);
    block(B);
    const before = fingerprint(B);
    write(join(A.config, file), "from A\n");
    write(join(A.config, "tui.json"), '{"ok":true}');
    await sync(A);
    const r = await sync(B);
    expect(problems(r)).toMatch(new RegExp(`could not write config/${file.replace(".", "\\.")}`));
    expect(readFileSync(join(B.config, "tui.json"), "utf8")).toBe('{"ok":true}');
    const after = fingerprint(B);
    delete after[".config/opencode/tui.json"];
    expect(after).toEqual(before);
    clear(B);
    expect(problems(await sync(B))).toBe("");
    expect(readFileSync(join(B.config, file), "utf8")).toBe("from A\n");
  });

  it("a full disk: nothing half-written, a message, and the next sync after space is freed finishes", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    write(join(A.config, "AGENTS.md"), "old rules\n");
    await sync(A);
    const B = w.machine("b");
    await sync(B);
    // B's config folder on a 64 KiB file system, filled up.
    await runMount(["-t", "tmpfs", "-o", "size=64k", "tmpfs", B.config]);
    try {
      write(join(B.config, "AGENTS.md"), "old rules\n");
      write(join(B.config, "filler"), Buffer.alloc(60 * 1024));
      write(join(A.config, "AGENTS.md"), "new rules ".repeat(1000));
      await sync(A);
      const r = await sync(B);
      expect(problems(r)).toMatch(/could not write config\/AGENTS\.md .*: the disk holding .*AGENTS\.md is full: nothing was saved there and nothing was changed; free some space and sync again/);
      expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("old rules\n");
      expect(readdirSync(B.config).filter((n) => n.includes(".oc-sync-"))).toEqual([]);
      rmSync(join(B.config, "filler"));
      expect(problems(await sync(B))).toBe("");
      expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("new rules ".repeat(1000));
    } finally {
      await runMount(["-u", B.config]);
    }
  });
});

async function runMount(args: string[]): Promise<void> {
  const [cmd, rest] = args[0] === "-u" ? ["umount", args.slice(1)] : ["mount", args];
  const code = await new Promise<number>((resolve) => spawn(cmd, rest, { stdio: "inherit" }).on("close", (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`${cmd} ${rest.join(" ")} failed (${code}): the full-disk case needs root, as on this project's machines`);
}

describe("a broken or hostile sync repo", () => {
  it("a config record holding invalid JSON is not written over the local file", async () => {
    const w = await syncWorld();
    const { B } = await pair(w, (a) => write(join(a.config, "opencode.json"), '{"theme":"dark"}'));
    await plantOnMain(w.remoteDir, [foreignRecord("config/opencode.json", '{"theme": ', "jsonc")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/config\/opencode\.json in the sync repo is not valid JSON \(line 1, column 11: .*\): left .*opencode\.json as it is; fix the file on the machine that wrote it \(attacker\)/);
    expect(readFileSync(join(B.config, "opencode.json"), "utf8")).toBe('{"theme":"dark"}');
    await plantOnMain(w.remoteDir, [foreignRecord("config/opencode.json", '{"theme":"light"}', "jsonc")]);
    expect(problems(await sync(B))).toBe("");
    expect(readFileSync(join(B.config, "opencode.json"), "utf8")).toBe('{"theme":"light"}');
  });

  it.each([
    ["no header line", new TextEncoder().encode("just text")],
    ["a header that is not JSON", new TextEncoder().encode("{oops\ncontent")],
    ["content that does not match its hash", (() => {
      const r = foreignRecord("config/AGENTS.md", "original\n").bytes;
      return new Uint8Array([...r.subarray(0, r.length - 2), 0x21, 0x0a]);
    })()],
  ])("a damaged record (%s) is named and skipped; every other record applies", async (_what, bytes) => {
    const w = await syncWorld();
    const { B } = await pair(w, (a) => write(join(a.config, "AGENTS.md"), "kept\n"));
    await plantOnMain(w.remoteDir, [{ path: "config/AGENTS.md", bytes }, foreignRecord("config/tui.json", '{"fresh":1}', "jsonc")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/sync repo record config\/AGENTS\.md is malformed .*; skipped/);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("kept\n");
    expect(readFileSync(join(B.config, "tui.json"), "utf8")).toBe('{"fresh":1}');
  });

  it.each([
    ["config/../escape.md", "escape.md"],
    ["config/agent/../../../../escape.md", "../escape.md"],
    ["state/../../.bashrc", "../.bashrc"],
  ])("a record path with '..' (%s) is refused: nothing is written outside OpenCode's folders", async (path, outside) => {
    const w = await syncWorld();
    const { B } = await pair(w);
    await plantOnMain(w.remoteDir, [foreignRecord(path, "echo pwned\n")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/refused to write .*escape\.md|refused to write .*\.bashrc|not a file oc-sync syncs/);
    expect(existsSync(join(B.config, outside))).toBe(false);
    expect(existsSync(join(B.home, ".local", ".bashrc"))).toBe(false);
    expect(existsSync(join(B.home, ".bashrc"))).toBe(false);
  });

  it("a symlink in the repo is never created as a link nor followed", async () => {
    const w = await syncWorld();
    const { B } = await pair(w);
    await plantOnMain(w.remoteDir, [{ path: "config/agent/link.md", bytes: new TextEncoder().encode("/etc/passwd"), mode: "120000" }]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/config\/agent\/link\.md/);
    const target = join(B.config, "agent", "link.md");
    expect(existsSync(target) && lstatSync(target).isSymbolicLink()).toBe(false);
  });

  it.each([
    ["into a folder OpenCode generates", "config/node_modules/evil/index.js"],
    ["to a top-level file oc-sync does not sync", "config/evil.sh"],
    ["into a credentials name oc-sync does not sync", "credentials/id_rsa"],
  ])("a record %s is refused with a message", async (_what, path) => {
    const w = await syncWorld();
    const { B } = await pair(w);
    const before = fingerprint(B);
    await plantOnMain(w.remoteDir, [foreignRecord(path, "payload\n")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(new RegExp(`refused to write ${path.replace(/\./g, "\\.")}`));
    expect(fingerprint(B)).toEqual(before);
  });

  it.each([
    ["a table oc-sync never syncs", "db/account/acc_1.json"],
    ["an id that is not an id", "db/sessions/ses 1;drop/session.json"],
  ])("a database record for %s is refused", async (_what, path) => {
    const w = await syncWorld();
    const { B } = await pair(w);
    const before = fingerprint(B);
    await plantOnMain(w.remoteDir, [foreignRecord(path, '{"id":"x"}', "json")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/not a database record path/);
    expect(fingerprint(B)).toEqual(before);
  });

  it("a database record with invalid JSON is named and skipped; the rest of its session and the files apply", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const db = openDb(A);
    const s = addSession(db, A, { messages: 1 });
    db.close();
    await sync(A);
    const B = w.machine("b");
    await plantOnMain(w.remoteDir, [foreignRecord(`db/sessions/${s.id}/messages/msg_bad.json`, "{ nope", "json"), foreignRecord("config/AGENTS.md", "files still apply\n")]);
    const r = await sync(B);
    expect(problems(r)).toMatch(/refused record db\/sessions\/.*msg_bad\.json: it is not JSON; it is skipped and the rest applies/);
    expect(r.needsUser.join("\n")).toMatch(/msg_bad\.json/);
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("files still apply\n");
    const check = openDb(B);
    expect(check.prepare("SELECT id FROM message").all()).toEqual([{ id: s.messages[0] }]);
    check.close();
  });

  it("a repo made by a newer oc-sync (format version) is refused before anything is written", async () => {
    const w = await syncWorld();
    const { B } = await pair(w);
    await plantOnMain(w.remoteDir, [{ path: FORMAT_PATH, bytes: new TextEncoder().encode('{"format":99}\n') }, foreignRecord("config/AGENTS.md", "from the future\n")]);
    const before = fingerprint(B);
    const r = await runCli(B.env, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the sync repo uses format 99; this oc-sync understands up to 2\. Upgrade oc-sync/);
    expect(fingerprint(B)).toEqual(before);
  });

  it("a repo that is not an oc-sync repo is refused with what to do", async () => {
    const w = await syncWorld();
    const seed = join(w.root, "other");
    await runGit(["init", "-q", "-b", "main", seed]);
    writeFileSync(join(seed, "README"), "someone else's project\n");
    await runGit(["-C", seed, "add", "."]);
    await runGit(["-C", seed, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x"]);
    await runGit(["-C", seed, "push", "-q", w.remoteDir, "main"]);
    const A = w.machine("a");
    const r = await runCli(A.env, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an oc-sync repository.*Point 'remote' at an empty or oc-sync repository/);
  });

  it("a wrong passphrase is refused with what to do, and no local file is touched", async () => {
    const w = await syncWorld();
    await pair(w, (a) => write(join(a.data, "auth.json"), '{"openai":{"key":"sk-1"}}'));
    const C = w.machine("c");
    write(join(C.data, "auth.json"), '{"mine":{"key":"sk-c"}}');
    const before = fingerprint(C);
    const r = await runCli({ ...C.env, OC_SYNC_PASSPHRASE: "not the passphrase" }, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wrong passphrase: it does not unlock this sync repo's key/);
    expect(r.stderr).not.toContain("not the passphrase");
    expect(fingerprint(C)).toEqual(before);
    expect(problems(await sync(C))).toBe("");
    expect(JSON.parse(readFileSync(join(C.data, "auth.json"), "utf8"))).toEqual({ mine: { key: "sk-c" }, openai: { key: "sk-1" } });
  });

  it("a tampered wrapped key is refused like a wrong passphrase; no local file is touched", async () => {
    const w = await syncWorld();
    await pair(w, (a) => write(join(a.data, "auth.json"), '{"openai":{"key":"sk-1"}}'));
    const key = JSON.parse(await remoteText(w, KEY_PATH)) as { wrapped: string };
    const raw = Buffer.from(key.wrapped, "base64");
    raw[20] = raw[20]! ^ 1;
    await plantOnMain(w.remoteDir, [{ path: KEY_PATH, bytes: new TextEncoder().encode(JSON.stringify({ ...key, wrapped: raw.toString("base64") })) }]);
    const C = w.machine("c");
    const before = fingerprint(C);
    const r = await runCli(C.env, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not unlock this sync repo's key \(\.oc-sync\/key\.json\)/);
    expect(fingerprint(C)).toEqual(before);
  });

  it("a wrapped key in an unknown format asks for an upgrade", async () => {
    const w = await syncWorld();
    await pair(w, (a) => write(join(a.data, "auth.json"), '{"openai":{"key":"sk-1"}}'));
    await plantOnMain(w.remoteDir, [{ path: KEY_PATH, bytes: new TextEncoder().encode('{"version":7}') }]);
    const C = w.machine("c");
    const r = await runCli(C.env, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.oc-sync\/key\.json has a format this oc-sync does not know; upgrade oc-sync/);
  });

  it("without a passphrase credentials are never uploaded", async () => {
    const w = await syncWorld();
    const A = w.home("a", { OC_SYNC_PASSPHRASE: "" });
    write(join(A.data, "auth.json"), '{"openai":{"key":"sk-NOPASS-canary"}}');
    const r = await sync(A);
    expect(r.credentials).toBe("skipped-no-passphrase");
    expect(await allRemoteObjects(w)).not.toContain("sk-NOPASS-canary");
  });
});

describe("a database in a bad state", () => {
  it("a database locked longer than oc-sync waits: a message, no half-written batch, and the next sync applies", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const db = openDb(A);
    const s = addSession(db, A, { messages: 3 });
    db.close();
    await sync(A);
    const B = w.machine("b");
    const holder = spawn(process.execPath, ["-e", `const {DatabaseSync}=require("node:sqlite");const d=new DatabaseSync(${JSON.stringify(B.db)});d.exec("BEGIN IMMEDIATE");console.log("locked");setTimeout(()=>{d.exec("COMMIT");d.close()},9000)`]);
    await new Promise<void>((r) => holder.stdout.once("data", () => r()));
    const r = await sync(B);
    expect(problems(r)).toMatch(/could not write \d+ record\(s\) into .*opencode\.db: database is locked; no row of this batch was written, the next sync retries/);
    await new Promise((r) => holder.on("close", r));
    const check = openDb(B);
    expect(check.prepare("SELECT count(*) AS n FROM message").get()).toEqual({ n: 0 });
    check.close();
    expect(problems(await sync(B))).toBe("");
    const after = openDb(B);
    expect(after.prepare(`SELECT count(*) AS n FROM message WHERE session_id = '${s.id}'`).get()).toEqual({ n: 3 });
    after.close();
  }, 90_000);

  it("a database file that is not SQLite is named and left byte for byte; files still sync", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    write(join(A.config, "AGENTS.md"), "rules\n");
    await sync(A);
    const B = w.machine("b", false);
    writeFileSync(B.db, "this is not a database, but it is the user's file");
    const r = await sync(B);
    expect(problems(r)).toMatch(/opencode\.db.*(not a database|cannot be read)/);
    expect(readFileSync(B.db, "utf8")).toBe("this is not a database, but it is the user's file");
    expect(readFileSync(join(B.config, "AGENTS.md"), "utf8")).toBe("rules\n");
  });

  it("a database without the todo table (a later OpenCode migration) syncs sessions without todos", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const db = openDb(A);
    const s = addSession(db, A, { messages: 2 });
    db.close();
    await sync(A);
    const B = w.machine("b");
    const dbB = openDb(B);
    dbB.exec("DROP TABLE todo");
    dbB.close();
    expect(problems(await sync(B))).toBe("");
    const check = openDb(B);
    expect(check.prepare(`SELECT count(*) AS n FROM message WHERE session_id = '${s.id}'`).get()).toEqual({ n: 2 });
    check.close();
  });
});

describe("bad settings", () => {
  it.each([
    ["broken JSONC", "{ \"strategy\": ", /opencode-sync\.jsonc: line 1, column 15: ValueExpected; fix the file/],
    ["an unknown strategy", '{ "strategy": "yolo" }', /setting "strategy": must be one of "auto-merge", "local-wins", "remote-wins", "newest-wins", "ask"/],
    ["an unknown setting", '{ "remtoe": "x" }', /unknown setting\(s\) "remtoe"; allowed: remote/],
    ["a machine name with spaces", '{ "machine": "My Laptop" }', /setting "machine": lowercase letters, digits and '-'/],
    ["a mass-delete share over 1", '{ "massDeleteShare": 5 }', /setting "massDeleteShare"/],
    ["a push budget over GitHub's 2 GiB limit", '{ "pushBudgetMB": 4096 }', /setting "pushBudgetMB": .*2048/],
    ["a category that does not exist", '{ "categories": { "sessionz": false } }', /setting "categories/],
  ])("%s in opencode-sync.jsonc names the file and the setting; nothing is synced", async (_what, text, message) => {
    const w = await syncWorld();
    const A = w.home("a", { OC_SYNC_MACHINE: "" });
    writeFileSync(join(A.config, "opencode-sync.jsonc"), text);
    write(join(A.config, "AGENTS.md"), "x\n");
    const r = await runCli(A.env, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect((await runGit(["--git-dir", w.remoteDir, "for-each-ref"])).stdout.toString()).toBe("");
  });
});

describe("the remote misbehaves", () => {
  it("a revoked token: a clear message without the token, local data untouched, and a good token recovers", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    write(join(A.config, "AGENTS.md"), "x\n");
    const revoked = "tok_revoked_0000000000000000000000";
    const before = fingerprint(A);
    const r = await runCli({ ...A.env, OC_SYNC_TOKEN: revoked }, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused oc-sync's credentials: the token is missing, expired or revoked.*OC_SYNC_TOKEN/);
    expect(r.stderr + r.stdout).not.toContain(revoked);
    expect(fingerprint(A)).toEqual(before);
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    expect(await remoteFiles(w)).toContain("config/AGENTS.md");
  });

  it("a remote repository that does not exist is named", async () => {
    const w = await syncWorld();
    const A = w.machine("a", false);
    const r = await runCli({ ...A.env, OC_SYNC_REMOTE: w.server.url("missing.git") }, ["sync"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.git/);
    expect(r.stderr).toMatch(/not found|does not exist|no such/i);
  });

  it.each([
    ["the connection reset mid-push", "reset" as const],
    ["a 502 mid-push", { status: 502 }],
    ["a 503 mid-push", { status: 503 }],
  ])("%s: the sync fails clearly, nothing is lost, and the next sync pushes", async (_what, fault) => {
    const w = await syncWorld();
    const { A, B } = await pair(w);
    write(join(A.config, "command", "late.md"), "pushed later\n");
    w.server.setFault(fault, "push");
    try {
      const r = await runCli(A.env, ["sync"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/push to .* failed|could not|remote/i);
      expect(r.stderr).not.toContain(TOKEN);
    } finally {
      w.server.setFault(null);
    }
    expect(readFileSync(join(A.config, "command", "late.md"), "utf8")).toBe("pushed later\n");
    expect((await runCli(A.env, ["sync"])).code).toBe(0);
    await sync(B);
    expect(readFileSync(join(B.config, "command", "late.md"), "utf8")).toBe("pushed later\n");
  });

  it("a 500 on fetch is treated as the remote being away: local changes are committed and pushed later", async () => {
    const w = await syncWorld();
    const { A, B } = await pair(w);
    write(join(A.config, "command", "x.md"), "x\n");
    w.server.setFault({ status: 500 });
    try {
      const r = await sync(A);
      expect(r.outcome).toBe("offline");
      expect(problems(r)).toMatch(/remote unreachable/);
    } finally {
      w.server.setFault(null);
    }
    await sync(A);
    await sync(B);
    expect(readFileSync(join(B.config, "command", "x.md"), "utf8")).toBe("x\n");
  });
});

describe("locks", () => {
  it("a lock left by a killed sync is taken over", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const lock = join(A.home, ".local", "share", "oc-sync", "sync.lock");
    write(lock, "999999\n");
    chmodSync(lock, 0o600);
    write(join(A.config, "AGENTS.md"), "x\n");
    expect(problems(await sync(A))).toBe("");
    expect(existsSync(lock)).toBe(false);
  });

  it("an empty lock left by an older oc-sync killed while taking it is taken over", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const lock = join(A.home, ".local", "share", "oc-sync", "sync.lock");
    write(lock, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    write(join(A.config, "AGENTS.md"), "x\n");
    expect(problems(await sync(A, { lockWaitMs: 1000 }))).toBe("");
    expect(existsSync(lock)).toBe(false);
  });

  it("a lock held by a live sync makes another wait, then say who holds it", async () => {
    const w = await syncWorld();
    const A = w.machine("a");
    const lock = join(A.home, ".local", "share", "oc-sync", "sync.lock");
    write(lock, `${process.pid}\n`);
    await expect(sync(A, { lockWaitMs: 300 })).rejects.toThrow(/another oc-sync is syncing on this machine \(pid \d+, lock .*sync\.lock\)/);
    rmSync(lock);
    expect(problems(await sync(A))).toBe("");
  });
});
