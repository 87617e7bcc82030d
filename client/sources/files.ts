// Plain files in OpenCode's folders (config, state). A stat cache means unchanged files are not
// read; writes are atomic; repo paths are checked so a hostile repo cannot write elsewhere.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import type { JSONPath } from "jsonc-parser";
import { overRecordLimit } from "../../core/layout.js";
import { caseTwin, isGitControlName, windowsPathProblem } from "../../core/file-names.js";
import type { Admitted } from "../../core/held.js";
import { lineEndingOf, withLineEnding } from "../../core/line-endings.js";
import { transplant } from "../../core/local-keys.js";
import { contentHash, isSafeRepoPath, type SyncRecord } from "../../core/record.js";
import { removeLeftover, TEMP_FILE, writeFileAtomic } from "../platform/atomic-file.js";
import { corruptContent, kindOf } from "./file-kinds.js";
import { ApplyIncomplete, unchangedSinceScan, type Applied, type ApplyResult, type KnownLocal, type LocalChange, type RecordGroup, type ScanContext, type Source } from "./source.js";

export interface FileRule {
  /** Top-level names: a file, or a folder synced recursively. */
  readonly files: readonly string[];
  readonly folders: readonly string[];
  /** Names never synced at any depth (what OpenCode generates). */
  readonly ignore: readonly string[];
  /** Top-level files whose deletion is asked about on its own (see RecordGroup.whole). */
  readonly wholeFiles?: readonly string[];
}

export interface FileSourceOptions {
  readonly category: string;
  readonly prefix: string;
  readonly root: string;
  readonly rule: FileRule;
  readonly mode?: number;
  /** OpenCode's folders: a link that leads elsewhere (a dotfiles checkout) is read, but never written through. */
  readonly writableRoots: readonly string[];
  /** The largest file offered, in bytes: a bigger one is there, skipped and reported (never a deletion). */
  readonly recordLimit: number;
  readonly warn: (message: string) => void;
  /** The OS whose names this machine's files must have (Windows refuses some that sync elsewhere). */
  readonly platform?: NodeJS.Platform;
  /** This machine's own keys, by record path (the setting `local`): never uploaded, never overwritten here. */
  readonly localKeys?: ReadonlyMap<string, readonly JSONPath[]>;
  /** Keys held for the user's decision (`ask`), refreshed by the sync before its scan and its apply. */
  readonly undecided?: ReadonlyMap<string, readonly JSONPath[]>;
  /** What of an incoming record may be written, and what the repo keeps of a local file (executable config is held: executable-gate.ts). */
  readonly gate?: WriteGate;
}

/** Stands between the repo and this machine's files for what must not be applied unseen. */
export interface WriteGate {
  /** What of `record` to write over the local file `local` (its bytes, null: none). */
  admit(record: SyncRecord, local: Uint8Array | null): Promise<Admitted>;
  /** The repo form of the local file at `path` (null: no file): what a held change kept here is the repo's value. */
  repoForm(path: string, local: Uint8Array | null): Uint8Array | null;
}

/** A file the walk found: its content can be offered, or it is there but cannot (`skip` says why; never a deletion). */
interface Found {
  readonly rel: string;
  readonly abs: string;
  readonly stat: string;
  readonly mtimeMs: number;
  readonly skip?: string;
}

export function statKey(s: { size: number; mtimeMs: number; ino: number }): string {
  return `${s.size}:${Math.round(s.mtimeMs)}:${s.ino}`;
}

export class FileSource implements Source {
  readonly category: string;
  readonly prefixes: readonly string[];

  constructor(private readonly o: FileSourceOptions) {
    this.category = o.category;
    this.prefixes = [o.prefix + "/"];
  }

  owns(path: string): boolean {
    return path.startsWith(this.o.prefix + "/");
  }

  groupOf(path: string): RecordGroup {
    return { name: this.category, glob: `${this.o.prefix}/*`, whole: this.o.rule.wholeFiles?.includes(path.slice(this.o.prefix.length + 1)) ?? false };
  }

  /** Local file for a repo path, or undefined when the path is not one this source may write. */
  localPath(path: string): string | undefined {
    if (!this.owns(path) || !isSafeRepoPath(path)) return undefined;
    const rel = path.slice(this.o.prefix.length + 1);
    const segs = rel.split("/");
    if (segs.some((s) => this.o.rule.ignore.includes(s) || isGitControlName(s))) return undefined;
    const top = segs[0]!;
    const allowed = segs.length === 1 ? this.o.rule.files.includes(top) : this.o.rule.folders.includes(top);
    return allowed ? join(this.o.root, ...segs) : undefined;
  }

  async *scan(ctx: ScanContext): AsyncIterable<LocalChange> {
    // Every path that is still there, offered or skipped: only what is gone becomes a deletion.
    const present = new Set<string>();
    for await (const file of this.walk()) {
      const path = `${this.o.prefix}/${file.rel}`;
      present.add(path);
      if (file.skip) {
        this.o.warn(`skipped ${file.abs}: ${file.skip}; it stays as it is here and in the sync repo`);
        continue;
      }
      const known = ctx.index(path);
      if (known && !known.deleted && known.stat === file.stat) continue;
      let local: Buffer;
      try {
        local = await readFile(file.abs);
      } catch (e) {
        this.o.warn(`skipped ${file.abs}: ${(e as Error).message}`);
        continue;
      }
      const localHash = contentHash(local);
      if (known && !known.deleted && known.localHash === localHash) {
        yield { type: "touch", path, localHash, stat: file.stat };
        continue;
      }
      // A config file mid-edit, or what a power loss leaves (NULs, nothing), must not reach OpenCode on every other machine.
      const corrupt = corruptContent(path, local);
      if (corrupt) {
        this.o.warn(`skipped ${file.abs}: it ${corrupt}; the last good version stays in the sync repo and on your other machines; fix it and it syncs on the next run (or 'oc-sync restore ${path} --at <commit>')`);
        continue;
      }
      const gated = this.o.gate ? this.o.gate.repoForm(path, local) : local;
      // Null: the repo's version is a deletion held here; the file is not a change of this machine's.
      if (gated === null) continue;
      const shared = await this.sharedPart(path, Buffer.from(gated), ctx);
      if (shared.unchanged) yield { type: "touch", path, localHash, stat: file.stat };
      else yield { type: "put", path, kind: kindOf(path, shared.content), content: shared.content, localHash, stat: file.stat, editedAt: Math.round(file.mtimeMs) };
    }
    for (const path of ctx.livePaths(this.o.prefix + "/")) {
      if (present.has(path) || !this.localPath(path)) continue;
      // A file held back (never written here) is not a deletion.
      if ((this.o.gate?.repoForm(path, null) ?? null) === null) yield { type: "delete", path, kind: ctx.index(path)!.kind };
    }
  }

  /** Keys of `path` whose value stays this machine's: its own (the setting `local`) and those awaiting a decision. */
  private ownKeys(path: string): readonly JSONPath[] | undefined {
    const keys = [...(this.o.localKeys?.get(path) ?? []), ...(this.o.undecided?.get(path) ?? [])];
    return keys.length ? keys : undefined;
  }

  /**
   * What of a local file is offered to the other machines: with this machine's own keys as last
   * synced (none on a first upload); `unchanged` when only those keys changed here.
   */
  private async sharedPart(path: string, content: Buffer, ctx: ScanContext): Promise<{ content: Buffer; unchanged: boolean }> {
    const keys = this.ownKeys(path)?.filter((k) => k.length > 0);
    if (!keys) return { content, unchanged: false };
    const previous = await ctx.previous(path);
    const synced = previous && !previous.deleted ? Buffer.from(previous.content!) : undefined;
    const shared = Buffer.from(transplant(content.toString("utf8"), synced?.toString("utf8") ?? "{}", keys));
    return { content: shared, unchanged: synced !== undefined && synced.equals(shared) };
  }

  /** An incoming file with this machine's own keys as they are in the local file (a new file takes them as they come). */
  private withOwnKeys(path: string, local: Uint8Array | null, content: Uint8Array): Uint8Array {
    const keys = this.ownKeys(path);
    if (!keys || local === null) return content;
    return new TextEncoder().encode(transplant(new TextDecoder().decode(content), new TextDecoder().decode(local), keys));
  }

  async apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult> {
    const applied: Applied[] = [];
    const editedHere: string[] = [];
    const failures: string[] = [];
    let writeFailed = false;
    // Deletions first: a rename that changes only case must not find its old name in the way.
    for (const r of [...records.filter((x) => x.deleted), ...records.filter((x) => !x.deleted)]) {
      const file = this.localPath(r.path);
      if (!file) {
        this.o.warn(`refused to write ${r.path}: ${r.path.split("/").some(isGitControlName) ? "git's control files (a .git folder's config can run commands) are never written" : `not a file oc-sync syncs in ${this.o.root}`}`);
        continue;
      }
      const refusal = this.refusal(r, file);
      if (refusal) {
        failures.push(refusal);
        continue;
      }
      try {
        const target = writeTarget(file);
        const local = localBytes(target);
        // A whole file awaiting the user's decision stays as it is here until then.
        const content = this.ownKeys(r.path)?.some((k) => k.length === 0) ? "leave" : await this.admitted(r, local);
        const done = content === "leave" ? leftAsIs(r.path, target, known) : await replaceUnlessEdited(r.path, target, content && inLocalLineEndings(r.path, local, this.withOwnKeys(r.path, local, content)), this.o.mode, known);
        if (done === "edited") editedHere.push(r.path);
        else applied.push(done);
      } catch (e) {
        failures.push(`could not write ${r.path} to ${file}: ${(e as Error).message}; it is tried again on the next sync`);
        writeFailed = true;
      }
    }
    const done = { applied, waiting: [], editedHere };
    // A write the system refused (a read-only folder, a full disk) is the user's to fix: the sync says so (exit 3).
    if (failures.length) throw new ApplyIncomplete(failures, done, writeFailed);
    return done;
  }

  /** What of the record to write at `target`: all of it, unless the gate holds some back. */
  private async admitted(r: SyncRecord, local: Uint8Array | null): Promise<Admitted> {
    if (!this.o.gate) return r.deleted ? null : r.content!;
    return this.o.gate.admit(r, local);
  }

  /** Why a record must not be written at `file`: content that cannot be that file, or a link that leads out of OpenCode's folders. */
  private refusal(r: SyncRecord, file: string): string | undefined {
    const corrupt = r.deleted ? undefined : corruptContent(r.path, r.content!);
    if (corrupt) return `${r.path} in the sync repo ${corrupt}: left ${file} as it is; fix the file on the machine that wrote it (${r.writer})`;
    const unfit = this.unfitName(r.path, file);
    if (unfit) return `${r.path} is not written here: ${unfit}. It stays in the sync repo and syncs on to your other machines ('oc-sync history ${r.path}'); rename it on ${r.writer} to have it here`;
    const target = writeTarget(file);
    if (target === file || this.o.writableRoots.some((root) => isInside(target, root))) return undefined;
    return `${file} leads to ${target}, outside OpenCode's folders: oc-sync reads through such a link but does not write there. ${r.writer}'s version is held in the sync repo ('oc-sync history ${r.path}'); copy it over yourself or replace the link with a file`;
  }

  /** Why this filesystem cannot hold the record's file as a file of its own: a name Windows refuses, or a case twin. */
  private unfitName(path: string, file: string): string | undefined {
    if ((this.o.platform ?? process.platform) === "win32") {
      const problem = windowsPathProblem(path.slice(this.o.prefix.length + 1));
      if (problem) return problem;
    }
    if (!existsSync(file)) return undefined;
    const folder = dirname(file);
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      return undefined;
    }
    const twin = caseTwin(basename(file), true, entries);
    return twin && `this filesystem does not tell case apart and ${join(folder, twin)} (another synced file, its name differs only in case) is there; writing would replace it`;
  }

  private async *walk(): AsyncIterable<Found> {
    const { root, rule } = this.o;
    const visit = async function* (this: FileSource, dir: string, rel: string, depth: number, above: ReadonlySet<string>): AsyncIterable<Found> {
      let names: string[];
      let inside: ReadonlySet<string>;
      try {
        names = (await readdir(dir)).sort();
        // A link back to a folder above ends the walk (a loop); two links to one folder are both walked,
        // or the files under the second would count as gone.
        const real = await realpath(dir);
        if (above.has(real)) return;
        inside = new Set([...above, real]);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.o.warn(`cannot read ${dir}: ${(e as Error).message}`);
        return;
      }
      for (const name of names) {
        if (TEMP_FILE.test(name)) await removeLeftover(join(dir, name));
        if (rule.ignore.includes(name) || isGitControlName(name) || TEMP_FILE.test(name)) continue;
        if (depth === 0 && !rule.files.includes(name) && !rule.folders.includes(name)) continue;
        const abs = join(dir, name);
        const childRel = rel ? `${rel}/${name}` : name;
        const link = (await lstat(abs).catch(() => undefined))?.isSymbolicLink() ?? false;
        // Links are followed (GNU stow, home-manager, chezmoi keep config as links into a dotfiles folder).
        const s = await stat(abs).catch(() => undefined);
        if (!s) {
          if (link) yield { rel: childRel, abs, stat: "", mtimeMs: 0, skip: "it is a link to nothing" };
        } else if (s.isDirectory()) {
          if (depth > 0 || rule.folders.includes(name)) yield* visit.call(this, abs, childRel, depth + 1, inside);
        } else if (s.isFile() && (depth > 0 || rule.files.includes(name))) {
          const found = { rel: childRel, abs, stat: statKey(s), mtimeMs: s.mtimeMs };
          if (s.size > this.o.recordLimit) yield { ...found, skip: overRecordLimit(s.size, this.o.recordLimit) };
          else if (!childRel.split("/").every(isPortableName)) this.o.warn(`skipped ${abs}: its name cannot be stored portably`);
          else yield found;
        }
      }
    };
    yield* visit.call(this, root, "", 0, new Set());
  }
}

/**
 * `content` with the line endings the local file has (a CRLF file on Windows stays CRLF when an
 * LF edit from macOS arrives). The index keeps the hash of what was written, so the next scan
 * does not see the converted file as a change of its own.
 */
function inLocalLineEndings(path: string, local: Uint8Array | null, content: Uint8Array): Uint8Array {
  if (kindOf(path, content) === "opaque" || local === null) return content;
  const here = lineEndingOf(new TextDecoder().decode(local));
  const incoming = new TextDecoder("utf-8", { ignoreBOM: true }).decode(content);
  const there = lineEndingOf(incoming);
  return here && there && here !== there ? new TextEncoder().encode(withLineEnding(incoming, here)) : content;
}

/** Where a write to `file` lands: through a link at the file or at a folder above it. */
function writeTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    try {
      return join(realpathSync(dirname(file)), basename(file));
    } catch {
      return file;
    }
  }
}

function isInside(path: string, root: string): boolean {
  let real = root;
  try {
    real = realpathSync(root);
  } catch {
    // A root that does not exist yet holds nothing.
  }
  return path === real || path.startsWith(real + sep);
}

/** A local file's bytes; null when there is none (or not a plain file). A file that cannot be read throws: nothing is written over it. */
function localBytes(file: string): Buffer | null {
  let s;
  try {
    s = lstatSync(file);
  } catch {
    return null;
  }
  return s.isFile() ? readFileSync(file) : null;
}

/**
 * A record the gate held back entirely: the index takes its version with the file as it is here, so
 * the scan does not offer the file as a change; "edited" when the user changed it since the scan
 * (that edit is committed on the next sync).
 */
function leftAsIs(path: string, file: string, known: KnownLocal | undefined): Applied | "edited" {
  const localHash = localFileHash(file);
  if (known && !unchangedSinceScan(known, path, localHash)) return "edited";
  return { path, localHash, stat: localHash === null ? null : statKey(statSync(file)) };
}

/**
 * The hash of a local file as the scan would see it; null when there is none. Something that is
 * not a plain file (a folder in the way) counts as none: writing there fails with a clear message.
 */
function localFileHash(file: string): string | null {
  const bytes = localBytes(file);
  return bytes === null ? null : contentHash(bytes);
}

/**
 * Writes `content` to `file` (null: removes it) unless the file changed since the scan (with
 * `known`); returns what the index keeps, or "edited" when the user's edit was left alone. The
 * check runs synchronously just before the rename or unlink (see writeFileAtomic): checked before
 * writing the temp file, an edit landing during the fsync was overwritten.
 */
export async function replaceUnlessEdited(path: string, file: string, content: Uint8Array | null, mode: number | undefined, known: KnownLocal | undefined): Promise<Applied | "edited"> {
  const asScanned = () => !known || unchangedSinceScan(known, path, localFileHash(file));
  if (content === null) {
    if (!asScanned()) return "edited";
    rmSync(file, { force: true });
    return { path, localHash: null, stat: null };
  }
  const written = await writeFileAtomic(file, content, mode, asScanned);
  return written ? { path, localHash: contentHash(content), stat: statKey(written) } : "edited";
}

function isPortableName(name: string): boolean {
  return name !== "" && !name.includes(sep) && !name.includes("\\") && !/[\n\r\0]/.test(name);
}
