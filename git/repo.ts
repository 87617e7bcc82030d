// A bare repository oc-sync owns (the client's local clone, or the Action's under RUNNER_TEMP):
// read trees and blobs, build commits without a working tree, and inspect history.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readInBackground, removeStaleReads } from "./background-read.js";
import { ObjectReader } from "./object-reader.js";
import { historyPathspec, SegmentReader, widened, type ChangedPath, type RawChange, type TreeEntry } from "./segments.js";
import { sessionFolder } from "../core/db-paths.js";
import { isSegmentPath, parseVirtualName } from "../core/segment.js";
import { BUILD_PREFIX } from "./refs.js";
import { sleep } from "./retry.js";
import { gitEnv, GitError, gitFailure, runGit, type RunOptions } from "./run.js";

export type { ChangedPath, TreeEntry } from "./segments.js";

/** New content, an existing blob by id, or null to remove the path. */
export type FileChange = readonly [path: string, content: Uint8Array | { readonly oid: string } | null];

export interface CommitSpec {
  readonly parents: readonly string[];
  readonly message: string;
  /** Path → new content, or null to remove the path. Streamed: may be generated lazily. */
  readonly changes: Iterable<FileChange> | AsyncIterable<FileChange>;
  readonly date?: Date;
}

/** Git holds a lock file for milliseconds: one this old is a killed git's. */
const KILLED_LOCK_MS = 2_000;

/** The lock files git may leave in a bare repo when it is killed holding them: config, packed refs, each ref. */
async function lockFiles(gitDir: string): Promise<string[]> {
  const refs = await readdir(join(gitDir, "refs"), { recursive: true }).catch(() => [] as string[]);
  return ["HEAD.lock", "config.lock", "packed-refs.lock", ...refs.filter((r) => r.endsWith(".lock")).map((r) => join("refs", r))].map((f) => join(gitDir, f));
}

/**
 * A sync killed while git held a lock leaves it behind (HEAD.lock or config.lock while the repo is
 * set up, a ref's lock during a fetch or update-ref), and every later git that takes it (so every sync of this
 * machine) would fail until someone removed it by hand (history seeds 2717, 2908). One younger than
 * that may be a git at work: waited for until it is gone or that old (a sync started right after
 * the kill failed on it; history seed 1058).
 */
async function removeKilledLocks(gitDir: string): Promise<void> {
  const found = await Promise.all((await lockFiles(gitDir)).map(async (lock) => ({ lock, at: (await stat(lock).catch(() => undefined))?.mtimeMs })));
  const locks = found.filter((l) => l.at !== undefined);
  if (!locks.length) return;
  const youngest = Math.max(...locks.map((l) => l.at!));
  const age = Date.now() - youngest;
  if (age <= KILLED_LOCK_MS) await sleep(KILLED_LOCK_MS - age + 50);
  for (const { lock, at } of locks) {
    const still = await stat(lock).catch(() => undefined);
    if (still && still.mtimeMs === at) await rm(lock, { force: true });
  }
}

/** From this many objects on, a read is worth a git process of its own. */
const BACKGROUND_READ_FROM = 500;
/** Bytes of one `diff-tree -z` change of a record path, with room (oc-sync's paths are ~100 bytes). */
const MAX_DIFF_LINE = 512;

/** `diff-tree -z` output, each change ":<mode> <mode> <oid> <oid> <status>\0<path>\0", as changed paths. */
function changedPaths(out: Buffer): RawChange[] {
  const fields = out.toString("utf8").split("\0");
  const changes: RawChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i]!.split(" ");
    changes.push({ path: fields[i + 1]!, oid: meta[4] === "D" ? null : meta[3]!, before: meta[4] === "A" ? null : meta[2]! });
  }
  return changes;
}

const OID = /^[0-9a-f]{40}$/;
/** git commands that never move a ref. */
const READS = new Set(["rev-parse", "merge-base", "log", "for-each-ref", "ls-tree", "diff-tree", "cat-file", "rev-list", "ls-remote"]);

export class GitRepo {
  private reader: ObjectReader | undefined;
  private readonly ancestry = new Map<string, boolean>();
  private readonly refs = new Map<string, string | null>();
  /** Every listing, diff and read goes through it: records in segments look like blobs of their own. */
  private readonly segments = new SegmentReader({
    lookup: (name) => this.objectReader().lookup(name),
    readBlobs: (names) => this.rawReadBlobs(names),
    readApart: (names) => readInBackground(this.gitDir, names),
    listTree: (commit, prefixes) => this.rawListTree(commit, prefixes),
  });

  constructor(readonly gitDir: string) {}

  static async open(gitDir: string): Promise<GitRepo> {
    await removeKilledLocks(gitDir);
    // Already set up: no git process needed (each one costs more than a whole incremental scan).
    if (existsSync(join(gitDir, "HEAD")) && existsSync(join(gitDir, "oc-sync-ready"))) return new GitRepo(gitDir);
    await mkdir(gitDir, { recursive: true });
    await runGit(["init", "--bare", "-q", gitDir]);
    const repo = new GitRepo(gitDir);
    // Automatic gc would stall a sync at a random moment; oc-sync repacks when it chooses.
    await repo.git(["config", "gc.auto", "0"]);
    await repo.git(["config", "core.logAllRefUpdates", "true"]);
    await writeFile(join(gitDir, "oc-sync-ready"), "");
    return repo;
  }

  git(args: readonly string[], options: RunOptions = {}) {
    const run = runGit(["--git-dir", this.gitDir, ...args], options);
    if (READS.has(args[0] ?? "")) return run;
    // Anything but a read may move a ref (fetch, push, update-ref): the refs read so far, or while it ran, are read again.
    this.refs.clear();
    return run.finally(() => this.refs.clear());
  }

  /**
   * The commit a ref names, or null. Remembered until this repo object runs git for anything but a
   * read. A repo object lives for one command, and what it pushes is a compare-and-swap on the
   * remote: a ref another oc-sync command moves meanwhile costs a retry, not a write.
   */
  async revParse(ref: string): Promise<string | null> {
    const known = this.refs.get(ref);
    if (known !== undefined) return known;
    const r = await this.git(["rev-parse", "-q", "--verify", `${ref}^{commit}`], { okCodes: [1, 128] });
    const oid = r.code === 0 ? r.stdout.toString().trim() : null;
    this.refs.set(ref, oid);
    return oid;
  }

  async updateRef(ref: string, oid: string, expected?: string | null): Promise<void> {
    const args = ["update-ref", ref, oid];
    if (expected !== undefined) args.push(expected ?? "0".repeat(40));
    await this.git(args);
  }

  /** Several refs moved in one git process (one transaction: all or none). */
  async updateRefs(moves: readonly { readonly ref: string; readonly oid: string }[]): Promise<void> {
    if (moves.length) await this.git(["update-ref", "--stdin"], { input: moves.map((m) => `update ${m.ref} ${m.oid}\n`).join("") });
  }

  async deleteRef(ref: string): Promise<void> {
    await this.git(["update-ref", "-d", ref], { okCodes: [1] });
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    if (!OID.test(ancestor) || !OID.test(descendant)) return (await this.git(["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [1] })).code === 0;
    // Between two commit ids the answer never changes, and a sync asks both ways (is main in mine, mine in
    // main?): one merge base answers both, as one of two commits descends from the other exactly when it is their base.
    const known = this.ancestry.get(`${ancestor} ${descendant}`);
    if (known !== undefined) return known;
    const base = ancestor === descendant ? ancestor : await this.mergeBase(ancestor, descendant);
    this.ancestry.set(`${ancestor} ${descendant}`, base === ancestor);
    this.ancestry.set(`${descendant} ${ancestor}`, base === descendant);
    return base === ancestor;
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const r = await this.git(["merge-base", a, b], { okCodes: [1] });
    return r.code === 0 ? r.stdout.toString().trim() : null;
  }

  /** The full message of a commit. */
  async commitMessage(commit: string): Promise<string> {
    return (await this.git(["log", "-1", "--format=%B", commit])).stdout.toString();
  }

  /** The paths changed by the commits in from..to whose message holds `text` (merges aside). */
  async pathsChangedByCommitsWith(from: string, to: string, text: string): Promise<Set<string>> {
    const out = (await this.git(["log", "--format=", "--name-only", "-z", "--no-merges", "--fixed-strings", `--grep=${text}`, `${from}..${to}`])).stdout.toString("utf8");
    return new Set(out.split("\0").map((p) => p.trim()).filter(Boolean));
  }

  /** For each path, the newest commit in from..to that changed it (merges aside). */
  async lastChangedIn(from: string, to: string, paths: readonly string[]): Promise<Map<string, string>> {
    const out = (await this.git(["log", "--no-merges", "--format=%x00%H", "--name-only", `${from}..${to}`, "--", ...paths])).stdout.toString("utf8");
    const by = new Map<string, string>();
    let commit = "";
    for (const line of out.split("\n")) {
      if (line.startsWith("\0")) commit = line.slice(1);
      else if (line && !by.has(line)) by.set(line, commit);
    }
    return by;
  }

  /** Whether any ref under the prefix points at a commit that `commit` does not contain. */
  async refsNotIn(prefix: string, commit: string): Promise<boolean> {
    return (await this.git(["for-each-ref", "--count=1", "--format=%(refname)", `--no-merged=${commit}`, prefix])).stdout.length > 0;
  }

  /** Whether any of these folders is at the commit's top (git keeps no empty folders): not a listing of everything below. */
  async hasFolders(commit: string, folders: readonly string[]): Promise<boolean> {
    return (await this.git(["ls-tree", "-d", "-z", "--name-only", commit, "--", ...folders])).stdout.length > 0;
  }

  /** Whether `<commit>:<path>` names anything (a folder too), asked of the long-running reader: no git process. */
  async has(commit: string, path: string): Promise<boolean> {
    return (await this.objectReader().lookup(`${commit}:${path}`)) !== null;
  }

  /** The commits without parents that `commit` descends from, oldest last. */
  async rootCommits(commit: string): Promise<string[]> {
    return (await this.git(["rev-list", "--max-parents=0", commit])).stdout.toString().trim().split("\n").filter(Boolean);
  }

  /** The newest commits (at most `limit`) reachable from `tips` that changed `path`. */
  async pathHistory(tips: readonly string[], path: string, limit: number): Promise<string[]> {
    // --full-history: git's default prunes the side of a merge whose result matches the other side at
    // the path, and with it the versions on that side (a row deleted on one branch hid the live version
    // another had pulled: history seed 5771).
    return (await this.git(["log", "--full-history", "--format=%H", "-n", String(limit), ...tips, "--", ...historyPathspec(path)])).stdout.toString().split("\n").filter(Boolean);
  }

  /** Refs under a prefix with their commits, by the name after the prefix, in code-unit order (never the locale's). */
  async listRefs(prefix: string): Promise<{ name: string; oid: string }[]> {
    const out = (await this.git(["for-each-ref", "--format=%(objectname) %(refname)", prefix])).stdout.toString().trim();
    if (!out) return [];
    return out
      .split("\n")
      .map((line) => ({ oid: line.slice(0, line.indexOf(" ")), name: line.slice(line.indexOf(" ") + 1 + prefix.length) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every record (and other file) under the given folders (or the whole tree) at `commit`, segments expanded. */
  async listTree(commit: string, prefixes: readonly string[] = []): Promise<TreeEntry[]> {
    return this.segments.expand(await this.rawListTree(commit, widened(prefixes)), prefixes);
  }

  /** Every blob under the given folders at `commit`, as git stores them (segment files as files). */
  async rawListTree(commit: string, prefixes: readonly string[] = []): Promise<TreeEntry[]> {
    const args = ["ls-tree", "-r", "-z", "--full-tree", commit];
    if (prefixes.length) args.push("--", ...prefixes);
    // Parsed from the bytes, entry by entry: a first pull lists a million paths, and one string of
    // the whole output plus its split would hold it three times over.
    const out = (await this.git(args)).stdout;
    const entries: TreeEntry[] = [];
    for (let at = 0; at < out.length; ) {
      const nul = out.indexOf(0, at);
      const end = nul < 0 ? out.length : nul;
      const tab = out.indexOf(9, at);
      // "<mode> <type> <oid>\t<path>"
      const [mode, , oid] = out.toString("latin1", at, tab).split(" ");
      entries.push({ mode: mode!, oid: oid!, path: out.toString("utf8", tab + 1, end) });
      at = end + 1;
    }
    return entries;
  }

  /** Paths that differ between two commits (`from` null: everything in `to`), optionally under some folders. */
  async diff(from: string | null, to: string, prefixes: readonly string[] = []): Promise<ChangedPath[]> {
    return (await this.changes(from, to, prefixes)).map((c) => ({ path: c.path, oid: c.oid }));
  }

  /** As diff, with each record's blob (or virtual name) before: null where it was added. */
  async changes(from: string | null, to: string, prefixes: readonly string[] = []): Promise<RawChange[]> {
    if (!from) return (await this.listTree(to, prefixes)).map((e) => ({ path: e.path, oid: e.oid, before: null }));
    return this.segments.diff(from, to, await this.rawDiff(from, to, widened(prefixes)), prefixes);
  }

  /** The blobs that differ between two commits as git stores them (segment files as files): what a replay of the changes writes. */
  async rawDiff(from: string | null, to: string, prefixes: readonly string[] = []): Promise<RawChange[]> {
    if (!from) return (await this.rawListTree(to, prefixes)).map((e) => ({ path: e.path, oid: e.oid, before: null }));
    const args = ["diff-tree", "-r", "-z", "--no-renames", from, to];
    if (prefixes.length) args.push("--", ...prefixes);
    return changedPaths((await this.git(args)).stdout);
  }

  /**
   * The blobs at `to` of the paths that differ from `from`, or null past `limit` paths: git is
   * stopped once its output could hold no fewer, so a diff of every record costs next to nothing.
   */
  async changedBlobs(from: string, to: string, limit: number): Promise<string[] | null> {
    const diff = await this.git(["diff-tree", "-r", "-z", "--no-renames", from, to], { maxOutput: limit * MAX_DIFF_LINE });
    const changes = diff.truncated ? [] : changedPaths(diff.stdout);
    if (diff.truncated || changes.length > limit) return null;
    return changes.flatMap((c) => (c.oid ? [c.oid] : []));
  }

  /** Each object's size as git holds it before compressing it, in order. */
  async objectSizes(oids: readonly string[]): Promise<number[]> {
    if (!oids.length) return [];
    const out = (await this.git(["cat-file", "--batch-check=%(objectsize)"], { input: oids.join("\n") + "\n" })).stdout.toString();
    return out.trim().split("\n").map(Number);
  }

  /**
   * The bytes, before compression, of the objects reachable from `tip` and from no ref matching
   * `shared` (a glob): what a push of `tip` carries to a remote that has those refs, at most.
   */
  async unsharedBytes(tip: string, shared: string): Promise<number> {
    const oids = (await this.git(["rev-list", "--objects", "--no-object-names", tip, "--not", `--glob=${shared}`])).stdout.toString().split("\n").filter(Boolean);
    return (await this.objectSizes(oids)).reduce((sum, n) => sum + n, 0);
  }

  /** Blob content by oid, `<commit>:<path>` (a record in a segment too) or a record's virtual name; null when absent. */
  async readBlob(object: string): Promise<Buffer | null> {
    return (await this.segments.read([object]))[0]!;
  }

  /** Many blobs at once, in order, named as readBlob takes them. */
  readBlobs(objects: readonly string[]): Promise<(Buffer | null)[]> {
    return this.segments.read(objects);
  }

  private objectReader(): ObjectReader {
    this.reader ??= new ObjectReader(this.gitDir);
    return this.reader;
  }

  /**
   * Blobs as git names them. A large set is read by a git of its own that does not wait for this
   * process (see background-read.ts), so a caller may start the next read before working.
   */
  private rawReadBlobs(objects: readonly string[]): Promise<(Buffer | null)[]> {
    if (objects.length >= BACKGROUND_READ_FROM) return readInBackground(this.gitDir, objects);
    return Promise.all(objects.map((o) => this.objectReader().read(o)));
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }

  /**
   * Builds a commit with `git fast-import`: it edits the parent's tree in place, so the cost is
   * proportional to the changes, and it writes one pack instead of thousands of loose objects.
   */
  async commit(spec: CommitSpec): Promise<string> {
    const ref = `${BUILD_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`;
    await pipeInto(["--git-dir", this.gitDir, "fast-import", "--quiet", "--done", "--force"], fastImportStream(ref, { ...spec, changes: this.inlineVirtual(spec.changes) })).catch(async (e: unknown) => {
      // A fast-import that died (a full disk) leaves a crash report and maybe its half-made ref: not ours to keep.
      for (const f of await readdir(this.gitDir).catch(() => [] as string[])) if (f.startsWith("fast_import_crash_")) await rm(join(this.gitDir, f), { force: true });
      const packs = join(this.gitDir, "objects", "pack");
      for (const f of await readdir(packs).catch(() => [] as string[])) if (f.startsWith("tmp_pack_")) await rm(join(packs, f), { force: true });
      await rm(join(this.gitDir, ref), { force: true });
      throw e;
    });
    // fast-import leaves the new commit in a loose ref file of our own; read and drop it directly.
    const file = join(this.gitDir, ref);
    const oid = (await readFile(file, "utf8").catch(() => "")).trim();
    await rm(file, { force: true });
    if (!OID.test(oid)) throw new GitError("failed", "git fast-import wrote no commit", "");
    return oid;
  }

  /** A record named by a virtual name (it lives in a segment) has no blob of its own to point at: its bytes are written. */
  private async *inlineVirtual(changes: CommitSpec["changes"]): AsyncIterable<FileChange> {
    for await (const c of changes) {
      const content = c[1];
      if (content && "oid" in content && parseVirtualName(content.oid)) yield [c[0], await this.virtualBytes(c[0], content.oid)];
      else yield c;
    }
  }

  /** A record's bytes by its virtual name; an unreadable one stops the commit (written empty, it would hide the segment's copy). */
  private async virtualBytes(path: string, name: string): Promise<Buffer> {
    const bytes = await this.readBlob(name);
    if (!bytes?.length) throw new GitError("failed", `${path}: its segment in the sync repo could not be read (${name})`, "");
    return bytes;
  }

  /**
   * The changes `from` made on top of `oldParent` (all of it when null), replayed as one commit on
   * `newParent` (blobs reused), leaving out `omit`. The records of the sessions in `unpack` that
   * `from` added as segments are written as blobs of their own instead (a server that refused a
   * segment for what one record in it holds then names that record).
   */
  async rebase(from: string, oldParent: string | null, newParent: string | null, message: string, omit: readonly string[] = [], unpack: readonly string[] = []): Promise<string> {
    const folders = unpack.map(sessionFolder);
    const unpacked = (path: string) => folders.some((f) => path.startsWith(f));
    const raw = (await this.rawDiff(oldParent, from)).filter((c) => !(isSegmentPath(c.path) && unpacked(c.path)));
    const records = folders.length ? (await this.listTree(from, folders)).filter((e) => parseVirtualName(e.oid)).map((e): RawChange => ({ path: e.path, oid: e.oid, before: null })) : [];
    const changes = [...raw, ...records].filter((c) => !omit.includes(c.path)).map((c): FileChange => [c.path, c.oid === null ? null : { oid: c.oid }]);
    return this.commit({ parents: newParent ? [newParent] : [], message, changes });
  }

  /** Pack loose objects and small packs once they pile up (pushes of many loose objects are slow); remove a killed read's files. */
  async maintain(): Promise<void> {
    await removeStaleReads(this.gitDir);
    const objects = join(this.gitDir, "objects");
    const packs = (await readdir(join(objects, "pack")).catch(() => [])).filter((f) => f.endsWith(".pack")).length;
    // Loose objects spread evenly over 256 folders: one folder is a fair sample.
    const sample = (await readdir(join(objects, "00")).catch(() => [])).length;
    if (sample * 256 > 1000 || packs > 30) await this.git(["repack", "-a", "-d", "-q"]);
  }
}

function quotePath(path: string): string {
  return /["\\\n]/.test(path) || path.startsWith('"') ? JSON.stringify(path) : path;
}

async function* fastImportStream(ref: string, spec: CommitSpec): AsyncIterable<Buffer> {
  const when = Math.floor((spec.date ?? new Date()).getTime() / 1000);
  const message = Buffer.from(spec.message, "utf8");
  yield Buffer.from(`commit ${ref}\ncommitter oc-sync <oc-sync@localhost> ${when} +0000\ndata ${message.length}\n`);
  yield message;
  yield Buffer.from("\n");
  const [first, ...others] = spec.parents;
  if (first) yield Buffer.from(`from ${first}\n`);
  for (const p of others) yield Buffer.from(`merge ${p}\n`);
  for await (const [path, content] of spec.changes) {
    if (content === null) {
      yield Buffer.from(`D ${quotePath(path)}\n`);
    } else if ("oid" in content) {
      yield Buffer.from(`M 100644 ${content.oid} ${quotePath(path)}\n`);
    } else {
      yield Buffer.from(`M 100644 inline ${quotePath(path)}\ndata ${content.length}\n`);
      yield Buffer.from(content);
      yield Buffer.from("\n");
    }
  }
  yield Buffer.from("\ndone\n");
}

/**
 * Streams into a git command's stdin without building one giant buffer. If the source throws,
 * the command is killed before `done`, so fast-import writes no commit.
 */
function pipeInto(args: string[], chunks: AsyncIterable<Buffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { env: gitEnv(), stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    let aborted: unknown;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(new GitError("failed", `could not run git: ${e.message}`, "")));
    child.on("close", (code) => {
      if (aborted !== undefined) reject(aborted);
      else if (code === 0) resolve();
      else reject(gitFailure(args, stderr, code ?? 1));
    });
    child.stdin.on("error", () => undefined);
    (async () => {
      try {
        for await (const c of chunks) if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once("drain", r));
        child.stdin.end();
      } catch (e) {
        aborted = e;
        child.kill("SIGKILL");
      }
    })();
  });
}
