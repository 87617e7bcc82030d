// Plain files in OpenCode's folders (config, state). A stat cache means unchanged files are not
// read; writes are atomic; repo paths are checked so a hostile repo cannot write elsewhere.
import { lstatSync, readFileSync, rmSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { contentHash, isSafeRepoPath, type SyncRecord } from "../../core/record.js";
import { TEMP_FILE, writeFileAtomic } from "../platform/atomic-file.js";
import { jsonSyntaxError, kindOf } from "./file-kinds.js";
import { ApplyIncomplete, unchangedSinceScan, type Applied, type ApplyResult, type KnownLocal, type LocalChange, type ScanContext, type Source } from "./source.js";

export interface FileRule {
  /** Top-level names: a file, or a folder synced recursively. */
  readonly files: readonly string[];
  readonly folders: readonly string[];
  /** Names never synced at any depth (what OpenCode generates). */
  readonly ignore: readonly string[];
}

export const MAX_FILE_BYTES = 5 * 1024 * 1024;

export interface FileSourceOptions {
  readonly category: string;
  readonly prefix: string;
  readonly root: string;
  readonly rule: FileRule;
  readonly mode?: number;
  readonly warn: (message: string) => void;
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

  groupOf(): { name: string; glob: string } {
    return { name: this.category, glob: `${this.o.prefix}/*` };
  }

  /** Local file for a repo path, or undefined when the path is not one this source may write. */
  localPath(path: string): string | undefined {
    if (!this.owns(path) || !isSafeRepoPath(path)) return undefined;
    const rel = path.slice(this.o.prefix.length + 1);
    const segs = rel.split("/");
    if (segs.some((s) => this.o.rule.ignore.includes(s))) return undefined;
    const top = segs[0]!;
    const allowed = segs.length === 1 ? this.o.rule.files.includes(top) : this.o.rule.folders.includes(top);
    return allowed ? join(this.o.root, ...segs) : undefined;
  }

  async *scan(ctx: ScanContext): AsyncIterable<LocalChange> {
    const seen = new Set<string>();
    for await (const file of this.walk()) {
      const path = `${this.o.prefix}/${file.rel}`;
      seen.add(path);
      const known = ctx.index(path);
      if (known && !known.deleted && known.stat === file.stat) continue;
      let content: Buffer;
      try {
        content = await readFile(file.abs);
      } catch (e) {
        this.o.warn(`skipped ${file.abs}: ${(e as Error).message}`);
        continue;
      }
      const localHash = contentHash(content);
      if (known && !known.deleted && known.localHash === localHash) {
        yield { type: "touch", path, localHash, stat: file.stat };
        continue;
      }
      const kind = kindOf(path, content);
      // A config file mid-edit must not break OpenCode on every other machine: it waits until it parses.
      const invalid = kind === "jsonc" ? jsonSyntaxError(content) : undefined;
      if (invalid) {
        this.o.warn(`skipped ${file.abs}: not valid JSON (${invalid}); fix it and it syncs on the next run`);
        continue;
      }
      yield { type: "put", path, kind, content, localHash, stat: file.stat };
    }
    for (const path of ctx.livePaths(this.o.prefix + "/")) {
      if (!seen.has(path) && this.localPath(path)) yield { type: "delete", path, kind: ctx.index(path)!.kind };
    }
  }

  async apply(records: readonly SyncRecord[], known?: KnownLocal): Promise<ApplyResult> {
    const applied: Applied[] = [];
    const editedHere: string[] = [];
    const failures: string[] = [];
    for (const r of records) {
      const file = this.localPath(r.path);
      if (!file) {
        this.o.warn(`refused to write ${r.path}: not a file oc-sync syncs in ${this.o.root}`);
        continue;
      }
      const invalid = !r.deleted && r.kind === "jsonc" ? jsonSyntaxError(r.content!) : undefined;
      if (invalid) {
        failures.push(`${r.path} in the sync repo is not valid JSON (${invalid}): left ${file} as it is; fix the file on the machine that wrote it (${r.writer})`);
        continue;
      }
      try {
        const done = await replaceUnlessEdited(r.path, file, r.deleted ? null : r.content!, this.o.mode, known);
        if (done === "edited") editedHere.push(r.path);
        else applied.push(done);
      } catch (e) {
        failures.push(`could not write ${r.path} to ${file}: ${(e as Error).message}; it is tried again on the next sync`);
      }
    }
    if (failures.length) throw new ApplyIncomplete(failures, applied);
    return { applied, waiting: [], editedHere };
  }

  private async *walk(): AsyncIterable<{ rel: string; abs: string; stat: string }> {
    const { root, rule } = this.o;
    const visit = async function* (this: FileSource, dir: string, rel: string, depth: number): AsyncIterable<{ rel: string; abs: string; stat: string }> {
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.o.warn(`cannot read ${dir}: ${(e as Error).message}`);
        return;
      }
      for (const name of names) {
        if (rule.ignore.includes(name) || TEMP_FILE.test(name)) continue;
        if (depth === 0 && !rule.files.includes(name) && !rule.folders.includes(name)) continue;
        const abs = join(dir, name);
        const childRel = rel ? `${rel}/${name}` : name;
        const s = await lstat(abs).catch(() => undefined);
        if (!s) continue;
        if (s.isSymbolicLink()) {
          this.o.warn(`skipped symlink ${abs}: oc-sync does not follow links`);
        } else if (s.isDirectory()) {
          if (depth > 0 || rule.folders.includes(name)) yield* visit.call(this, abs, childRel, depth + 1);
        } else if (s.isFile() && (depth > 0 || rule.files.includes(name))) {
          if (s.size > MAX_FILE_BYTES) this.o.warn(`skipped ${abs}: ${s.size} bytes is over the ${MAX_FILE_BYTES}-byte limit`);
          else if (!childRel.split("/").every(isPortableName)) this.o.warn(`skipped ${abs}: its name cannot be stored portably`);
          else yield { rel: childRel, abs, stat: statKey(s) };
        }
      }
    };
    yield* visit.call(this, root, "", 0);
  }
}

/**
 * The hash of a local file as the scan would see it; null when there is none. Something that is
 * not a plain file (a folder in the way) counts as none: writing there fails with a clear message.
 */
function localFileHash(file: string): string | null {
  let s;
  try {
    s = lstatSync(file);
  } catch {
    return null;
  }
  return s.isFile() ? contentHash(readFileSync(file)) : null;
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
