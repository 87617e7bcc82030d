// Writes what a broken tool or an attacker could put in the sync repo, straight into the remote's
// main: any tree entry (a `..` name, a symlink), any bytes, a record signed by nobody.
import { decodeRecord, encodeRecord, makeRecord, type RecordKind, type SyncRecord } from "../../core/record.js";
import { incrementVector } from "../../core/vector.js";
import { runGit } from "../../git/run.js";

export interface RawEntry {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** 100644 (file) unless given: 120000 is a symlink whose target is `bytes`. */
  readonly mode?: "100644" | "120000";
  /** A well-formed record: planted as a successor of main's version of it, so every machine takes it. */
  readonly record?: SyncRecord;
}

/** A well-formed record from a machine called "attacker". */
export function foreignRecord(path: string, content: string | Uint8Array, kind: RecordKind = "text"): RawEntry {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const record = makeRecord({ path, kind, content: bytes, vector: {}, updatedAt: Date.now(), writer: "attacker" });
  return { path, bytes: encodeRecord(record), record };
}

/** Commits `entries` on top of the remote's main (replacing what is at those paths) and moves main. */
export async function plantOnMain(remoteDir: string, entries: readonly RawEntry[], message = "planted"): Promise<string> {
  const git = async (args: string[], input?: string) => (await runGit(["--git-dir", remoteDir, ...args], input === undefined ? {} : { input: Buffer.from(input) })).stdout.toString().trim();
  const main = await git(["rev-parse", "main"]);
  const files = new Map<string, { mode: string; oid: string }>();
  for (const line of (await git(["ls-tree", "-r", "-z", "main"])).split("\0").filter(Boolean)) {
    const [meta, path] = line.split("\t") as [string, string];
    const [mode, , oid] = meta.split(" ") as [string, string, string];
    files.set(path, { mode, oid });
  }
  for (const e of entries) {
    const bytes = e.record ? encodeRecord(await successor(remoteDir, e.record, files.get(e.path)?.oid)) : e.bytes;
    const oid = (await runGit(["--git-dir", remoteDir, "hash-object", "-w", "--stdin"], { input: Buffer.from(bytes) })).stdout.toString().trim();
    files.set(e.path, { mode: e.mode ?? "100644", oid });
  }
  const tree = await writeTree(files, "", git);
  const commit = await git(["commit-tree", tree, "-p", main, "-m", message]);
  await git(["update-ref", "refs/heads/main", commit, main]);
  return commit;
}

async function successor(remoteDir: string, record: SyncRecord, existing: string | undefined): Promise<SyncRecord> {
  let vector = {};
  if (existing) {
    try {
      vector = decodeRecord(record.path, (await runGit(["--git-dir", remoteDir, "cat-file", "blob", existing])).stdout).vector;
    } catch {
      // Not a record there (damaged): start afresh.
    }
  }
  return makeRecord({ ...record, vector: incrementVector(vector, "attacker") });
}

/** Builds nested trees with mktree, which (unlike the index) accepts any entry name. */
async function writeTree(files: Map<string, { mode: string; oid: string }>, prefix: string, git: (args: string[], input?: string) => Promise<string>): Promise<string> {
  const lines: string[] = [];
  const dirs = new Set<string>();
  for (const [path, f] of files) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) lines.push(`${f.mode} blob ${f.oid}\t${rest}`);
    else dirs.add(rest.slice(0, slash));
  }
  for (const d of dirs) lines.push(`040000 tree ${await writeTree(files, `${prefix}${d}/`, git)}\t${d}`);
  return git(["mktree"], lines.join("\n") + "\n");
}
