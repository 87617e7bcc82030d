// Machines of different OSes through one real git remote: a session from a Windows-shaped
// database continues on Linux and comes back in Windows form; CRLF files merge with LF edits and
// keep their endings on each machine; names Windows cannot hold are refused there and sync on.
import { GitRepo } from "../../git/repo.js";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { caseTwin, windowsNameProblem } from "../../core/file-names.js";
import { contentHash, decodeRecord, type SyncRecord } from "../../core/record.js";
import { FileSource } from "../../client/sources/files.js";
import { ApplyIncomplete } from "../../client/sources/source.js";
import { runGit } from "../../git/run.js";
import { addMessage, addProject, addSession, createDatabase, DEMO_PROJECT, openDb, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, type SyncWorld } from "../support/sync-env.js";

let world: SyncWorld;
beforeAll(async () => {
  world = await syncWorld();
});

const crlf = (s: string) => s.replace(/\n/g, "\r\n");
const mainHead = async () => (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
/** A record's content on main, as the repo holds it. */
// Read as oc-sync reads the repo: a new session's rows are in its segment.
const repoRecord = async (path: string) => {
  const repo = new GitRepo(world.remoteDir);
  try {
    return new TextDecoder().decode(decodeRecord(path, (await repo.readBlob(`main:${path}`))!).content!);
  } finally {
    repo.close();
  }
};

/** A machine whose OpenCode writes Windows paths: its home as OpenCode sees it is C:\Users\ana; its folders are real ones here. */
function windowsHome(name: string): TestHome {
  const h = world.home(name);
  const home = "C:\\Users\\ana";
  return { ...h, env: { ...h.env, HOME: home, XDG_CONFIG_HOME: join(h.home, ".config"), XDG_DATA_HOME: join(h.home, ".local", "share"), XDG_STATE_HOME: join(h.home, ".local", "state") } };
}

describe("a session from Windows on Linux, and back", () => {
  const winDir = "C:\\Users\\ana\\code\\demo";
  it("is stored with portable paths, lands in the Linux checkout, and a message added on Linux reaches Windows in Windows form", async () => {
    const W = windowsHome("win-desk");
    const L = world.home("linux-box");
    const wdb = createDatabase(W);
    addProject(wdb, { ...W, repo: winDir });
    const session = addSession(wdb, { ...W, repo: winDir }, { messages: 2 });
    wdb.close();
    const ldb = createDatabase(L);
    addProject(ldb, L);
    ldb.close();

    await sync(W);
    const stored = JSON.parse(await repoRecord(`db/sessions/${session.id}/session.json`)) as { directory: string };
    expect(stored.directory).toBe("~/code/demo");

    await sync(L);
    const onL = openDb(L);
    expect(onL.prepare("SELECT directory FROM session WHERE id = ?").get(session.id)).toEqual({ directory: L.repo });
    const cwd = (db: ReturnType<typeof openDb>, id: string) => (JSON.parse(String((db.prepare("SELECT data FROM message WHERE id = ?").get(id) as { data: string }).data)) as { path: { cwd: string; root: string } }).path;
    expect(cwd(onL, session.messages[0]!)).toEqual({ cwd: L.repo, root: L.repo });
    const reply = addMessage(onL, L, session, "continued on Linux");
    onL.close();
    await sync(L);
    // Scanning the mapped rows back keeps the repo's path (the new message changed the session's time only).
    expect(JSON.parse(await repoRecord(`db/sessions/${session.id}/session.json`))).toMatchObject({ directory: "~/code/demo" });
    const replyStored = JSON.parse(await repoRecord(`db/sessions/${session.id}/messages/${reply}.json`)) as { data: string };
    expect(JSON.stringify(replyStored)).toContain("~/work/demo-repo");

    await sync(W);
    const onW = openDb(W);
    try {
      expect(cwd(onW, reply)).toEqual({ cwd: winDir, root: winDir });
      expect(onW.prepare("SELECT directory FROM session WHERE id = ?").get(session.id)).toEqual({ directory: winDir });
      expect(onW.prepare("SELECT id FROM project").all()).toEqual([{ id: DEMO_PROJECT }]);
    } finally {
      onW.close();
    }
    const head = await mainHead();
    await sync(W);
    await sync(L);
    expect(await mainHead()).toBe(head);
  });
});

describe("line endings through a merge", () => {
  const doc = "# Review\n\nBe thorough.\nCheck tests.\nBe kind.\n";
  it("a CRLF file edited on Windows and its LF copy edited on macOS merge; each machine keeps its endings and nothing ping-pongs", async () => {
    const W = world.home("crlf-win");
    const M = world.home("lf-mac");
    const file = (h: TestHome) => join(h.config, "agent", "review.md");
    mkdirSync(join(W.config, "agent"), { recursive: true });
    writeFileSync(file(W), crlf(doc));
    await sync(W);
    await sync(M);
    expect(readFileSync(file(M), "utf8")).toBe(crlf(doc));

    writeFileSync(file(W), crlf(doc.replace("Be thorough.", "Be very thorough.")));
    // An editor on macOS that writes LF: every line's ending changes, and one line's text.
    writeFileSync(file(M), doc.replace("Be kind.", "Be kind and brief."));
    await sync(W);
    const report = await sync(M);
    expect(report.conflicts).toEqual([]);
    await sync(W);

    const merged = "# Review\n\nBe very thorough.\nCheck tests.\nBe kind and brief.\n";
    expect(readFileSync(file(W), "utf8")).toBe(crlf(merged));
    expect(readFileSync(file(M), "utf8")).toBe(merged);
    const head = await mainHead();
    await sync(M);
    await sync(W);
    expect(await mainHead()).toBe(head);
  });
});

describe("names one OS cannot hold", () => {
  const record = (path: string, text: string): SyncRecord => {
    const content = new TextEncoder().encode(text);
    return { path, kind: "text", content, vector: { laptop: 1 }, hash: contentHash(content), updatedAt: Date.now(), writer: "laptop", deleted: false };
  };
  const source = (root: string, platform: NodeJS.Platform) =>
    new FileSource({ category: "config", prefix: "config", root, rule: { files: [], folders: ["agent"], ignore: [] }, writableRoots: [root], recordLimit: 1 << 20, warn: () => {}, platform });

  it("Windows refuses them by name and writes the rest; Linux writes them all", async () => {
    const records = [record("config/agent/ok.md", "fine"), record("config/agent/CON.md", "device"), record("config/agent/what?.md", "question"), record("config/agent/trailing.", "dot")];
    const win = mkdtempSync(join(world.root, "win-names-"));
    const failure = await source(win, "win32").apply(records).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplyIncomplete);
    const message = (failure as Error).message;
    for (const p of ["config/agent/CON.md", "config/agent/what?.md", "config/agent/trailing."]) expect(message).toContain(`${p} is not written here`);
    expect(message).toContain("syncs on to your other machines");
    expect((failure as ApplyIncomplete).done.applied.map((a) => a.path)).toEqual(["config/agent/ok.md"]);
    expect(readFileSync(join(win, "agent", "ok.md"), "utf8")).toBe("fine");

    const linux = mkdtempSync(join(world.root, "linux-names-"));
    const done = await source(linux, "linux").apply(records);
    expect(done.applied).toHaveLength(4);
    expect(readFileSync(join(linux, "agent", "what?.md"), "utf8")).toBe("question");
  });

  it("a text file converted to this machine's line endings keeps its byte order mark", async () => {
    const root = mkdtempSync(join(world.root, "bom-"));
    mkdirSync(join(root, "agent"));
    writeFileSync(join(root, "agent", "bom.md"), "old\r\ntext\r\n");
    await source(root, "linux").apply([record("config/agent/bom.md", "\uFEFFnew\ntext\n")]);
    expect(readFileSync(join(root, "agent", "bom.md"))).toEqual(Buffer.from("\uFEFFnew\r\ntext\r\n"));
  });

  it.each([
    ["CON", true],
    ["con.md", true],
    ["LPT9.txt", true],
    ["COM0.md", false],
    ["console.md", false],
    ["a:b.md", true],
    ["tab\there.md", true],
    ["ends-with-space ", true],
    ["review.md", false],
  ])("Windows cannot hold '%s': %s", (name, refused) => expect(windowsNameProblem(name) !== undefined).toBe(refused));

  it.each([
    // name, the filesystem found it, the folder's entries → the twin a write would replace
    ["Review.md", true, ["review.md"], "review.md"],
    ["Review.md", true, ["Review.md", "review.md"], undefined],
    ["Review.md", false, ["review.md"], undefined],
    ["new.md", false, [], undefined],
  ] as const)("writing %s (found: %s) into %j lands on %s", (name, found, entries, twin) => expect(caseTwin(name, found, entries)).toBe(twin));
});
