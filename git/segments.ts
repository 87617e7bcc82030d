// Reading through segments (core/segment.ts): what a tree listing, a diff or a read by path sees is
// each session's records as if every one were a blob of its own. A record in a segment goes by a
// virtual name (its data blob and range) wherever a blob id would go; a loose blob at the same path
// hides it. Used by GitRepo for every listing, diff and read, so callers never meet a segment file.
import { sessionFolder } from "../core/db-paths.js";
import { isSegmentIndexPath, isSegmentPath, parseSegmentIndex, parseVirtualName, sessionFolderOf, virtualName } from "../core/segment.js";
import type { FoundObject } from "./object-reader.js";

export interface TreeEntry {
  readonly mode: string;
  readonly oid: string;
  readonly path: string;
}

export interface ChangedPath {
  readonly path: string;
  /** The blob at the newer commit; null when the path was removed. */
  readonly oid: string | null;
}

/** A change as git sees it, with the blob before (null: the path was added). */
export interface RawChange extends ChangedPath {
  readonly before: string | null;
}

/** What reading through segments needs of git. */
export interface RawReads {
  lookup(name: string): Promise<FoundObject | null>;
  readBlobs(names: readonly string[]): Promise<(Buffer | null)[]>;
  /** Read by a git of its own that does not wait for this process (a first pull's segments, while SQLite writes). */
  readApart(names: readonly string[]): Promise<(Buffer | null)[]>;
  listTree(commit: string, prefixes: readonly string[]): Promise<TreeEntry[]>;
}

/** Whether git's pathspec `prefix` (a folder, with or without its slash, or a file) covers `path`. */
export function covers(prefixes: readonly string[], path: string): boolean {
  return !prefixes.length || prefixes.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

/** Prefixes to hand git so that the segments of any session they reach into are listed too. */
export function widened(prefixes: readonly string[]): string[] {
  return [...new Set(prefixes.map((p) => {
    const s = sessionFolderOf(p);
    return s !== undefined && p.length > sessionFolder(s).length ? sessionFolder(s) : p;
  }))];
}

/** A path as a pathspec for `git log`, its session's segment indexes beside it: the commits that changed its record. */
export function historyPathspec(path: string): string[] {
  const session = sessionFolderOf(path);
  return session === undefined ? [path] : [path, `${sessionFolder(session)}segment-*.idx`];
}

const FILE = "100644";
/** From this many data blobs on (megabytes), a read is worth a git process of its own. */
const READ_APART_FROM = 4;

/** A session's segments at a commit: each record's virtual name, and any index that does not parse (reported as a damaged record). */
interface SessionSegments {
  readonly names: Map<string, string>;
  readonly damaged: TreeEntry[];
}

/** Sessions' parsed indexes remembered by their folder's tree id (a commit's unchanged folder has the same one). */
const REMEMBERED_FOLDERS = 256;
/** Data blobs remembered for reads of one record at a time (several of one session in a sync), up to this many bytes. */
const REMEMBERED_DATA_BYTES = 16 * 1024 * 1024;

export class SegmentReader {
  private readonly folders = new Map<string, SessionSegments>();
  private readonly data = new Map<string, Buffer>();
  private dataBytes = 0;

  constructor(private readonly git: RawReads) {}

  /** A raw listing with every segment's records in place of its files, restricted to `prefixes`. */
  async expand(raw: readonly TreeEntry[], prefixes: readonly string[]): Promise<TreeEntry[]> {
    const out: TreeEntry[] = [];
    const indexes: TreeEntry[] = [];
    const loose = new Set<string>();
    for (const e of raw) {
      if (isSegmentIndexPath(e.path)) indexes.push(e);
      else if (!isSegmentPath(e.path) && covers(prefixes, e.path)) {
        out.push(e);
        loose.add(e.path);
      }
    }
    if (!indexes.length) return out;
    // In number order, so that of a path two segments hold, the later one's counts (as at() reads them).
    indexes.sort((a, b) => segmentNumber(a.path.slice(a.path.lastIndexOf("/") + 1)) - segmentNumber(b.path.slice(b.path.lastIndexOf("/") + 1)));
    const bodies = await this.git.readBlobs(indexes.map((e) => e.oid));
    const virtual = new Map<string, TreeEntry>();
    indexes.forEach((e, i) => {
      const index = bodies[i] && parseSegmentIndex(sessionFolderOf(e.path)!, bodies[i]);
      // Listed whenever the prefixes reach into its session: whatever it holds is reported, not missed.
      if (!index) {
        out.push(e);
        return;
      }
      for (const r of index.entries) if (!loose.has(r.path) && covers(prefixes, r.path)) virtual.set(r.path, { mode: FILE, oid: virtualName(index.data, r), path: r.path });
    });
    out.push(...virtual.values());
    return out;
  }

  /** A raw diff (of widened prefixes) as it is for the records: a session with segments on either side is compared record by record. */
  async diff(from: string, to: string, raw: readonly RawChange[], prefixes: readonly string[]): Promise<RawChange[]> {
    const out: RawChange[] = [];
    const bySession = new Map<string, RawChange[]>();
    for (const c of raw) {
      const s = sessionFolderOf(c.path);
      if (s === undefined) {
        if (covers(prefixes, c.path)) out.push(c);
      } else if (bySession.has(s)) bySession.get(s)!.push(c);
      else bySession.set(s, [c]);
    }
    for (const [session, changes] of bySession) out.push(...(await this.sessionDiff(from, to, session, changes, prefixes)));
    return out;
  }

  private async sessionDiff(from: string, to: string, session: string, changes: readonly RawChange[], prefixes: readonly string[]): Promise<RawChange[]> {
    const [before, after] = await Promise.all([this.at(from, session), this.at(to, session)]);
    const segmentsMoved = changes.some((c) => isSegmentPath(c.path));
    if (!segmentsMoved && !before.names.size && !after.names.size) return changes.filter((c) => covers(prefixes, c.path));
    const raws = new Map(changes.filter((c) => !isSegmentPath(c.path)).map((c) => [c.path, c]));
    const candidates = new Set(raws.keys());
    if (segmentsMoved) for (const names of [before.names, after.names]) for (const p of names.keys()) candidates.add(p);
    const unchanged = segmentsMoved ? await this.looseUnchanged(from, to, session, raws) : new Map<string, string>();
    const out: RawChange[] = after.damaged.flatMap((d) => changes.filter((c) => c.path === d.path));
    for (const path of candidates) {
      if (!covers(prefixes, path)) continue;
      const r = raws.get(path);
      const was = (r ? r.before : unchanged.get(path)) ?? before.names.get(path) ?? null;
      const now = (r ? r.oid : unchanged.get(path)) ?? after.names.get(path) ?? null;
      if (was !== now) out.push({ path, oid: now, before: was });
    }
    return out;
  }

  /** The session's loose blobs that the diff does not show (the same at both commits): none when the session is new at `to`. */
  private async looseUnchanged(from: string, to: string, session: string, raws: ReadonlyMap<string, RawChange>): Promise<Map<string, string>> {
    if (!(await this.git.lookup(`${from}:${sessionFolder(session).slice(0, -1)}`))) return new Map();
    const listed = await this.git.listTree(to, [sessionFolder(session)]);
    return new Map(listed.filter((e) => !isSegmentPath(e.path) && !raws.has(e.path)).map((e) => [e.path, e.oid]));
  }

  /** The segments of one session at a commit (every index in its folder, in number order). */
  private async at(commit: string, session: string): Promise<SessionSegments> {
    const names = new Map<string, string>();
    const damaged: TreeEntry[] = [];
    const folder = await this.git.lookup(`${commit}:${sessionFolder(session).slice(0, -1)}`);
    if (folder?.type !== "tree") return { names, damaged };
    const known = this.folders.get(folder.oid);
    if (known) return known;
    const indexes = treeNames(folder.body).filter((n) => isSegmentIndexPath(sessionFolder(session) + n)).sort((a, b) => segmentNumber(a) - segmentNumber(b));
    for (const name of indexes) {
      const path = sessionFolder(session) + name;
      const found = await this.git.lookup(`${commit}:${path}`);
      const index = found?.type === "blob" ? parseSegmentIndex(session, found.body) : undefined;
      if (!index) damaged.push({ mode: FILE, oid: found?.oid ?? "", path });
      else for (const e of index.entries) names.set(e.path, virtualName(index.data, e));
    }
    if (this.folders.size >= REMEMBERED_FOLDERS) this.folders.clear();
    this.folders.set(folder.oid, { names, damaged });
    return { names, damaged };
  }

  /**
   * Blobs by name, where names may be virtual and `<commit>:<path>` may name a record in a
   * segment. A range outside its data blob, or a data blob that is missing, reads as empty bytes:
   * the record then fails to decode and is named as damaged, never taken as absent.
   */
  async read(names: readonly string[]): Promise<(Buffer | null)[]> {
    const real = names.map((n) => (parseVirtualName(n) ? null : n));
    const got = await this.git.readBlobs(real.filter((n): n is string => n !== null));
    let k = 0;
    const out = real.map((n) => (n === null ? null : got[k++]!));
    // Reads by path that git did not find: a record in a segment, if its session has one.
    const resolved = [...names];
    const bySession = new Map<string, SessionSegments>();
    const unreadable = new Set<number>();
    for (const [i, name] of names.entries()) {
      if (out[i] !== null || real[i] === null) continue;
      const colon = name.indexOf(":");
      const session = colon > 0 ? sessionFolderOf(name.slice(colon + 1)) : undefined;
      if (session === undefined) continue;
      const key = `${name.slice(0, colon)} ${session}`;
      if (!bySession.has(key)) bySession.set(key, await this.at(name.slice(0, colon), session));
      const segments = bySession.get(key)!;
      const virtual = segments.names.get(name.slice(colon + 1));
      if (virtual) resolved[i] = virtual;
      // Its session's index is damaged: the record may be in it, so it reads as damaged, not as absent.
      else if (segments.damaged.length) unreadable.add(i);
    }
    const slices = await this.slices(resolved.filter((n) => parseVirtualName(n)));
    return resolved.map((n, i) => (unreadable.has(i) ? Buffer.alloc(0) : (slices.get(n) ?? out[i] ?? null)));
  }

  /** The bytes of records named virtually, each data blob read once (or remembered from a read before). */
  private async slices(names: readonly string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (!names.length) return out;
    const parsed = names.map((n) => [n, parseVirtualName(n)!] as const);
    const datas = [...new Set(parsed.map(([, v]) => v.data))];
    const blobs = new Map<string, Buffer | null>(datas.flatMap((d) => (this.data.has(d) ? [[d, this.data.get(d)!] as const] : [])));
    const wanted = datas.filter((d) => !blobs.has(d));
    const read = wanted.length >= READ_APART_FROM ? this.git.readApart(wanted) : this.git.readBlobs(wanted);
    (await read).forEach((b, i) => blobs.set(wanted[i]!, b));
    // A few at a time (reads of single records) are remembered; a first pull's batches are not.
    if (wanted.length < READ_APART_FROM) for (const d of wanted) this.remember(d, blobs.get(d) ?? null);
    for (const [name, v] of parsed) {
      const blob = blobs.get(v.data);
      out.set(name, blob && v.offset + v.length <= blob.length ? blob.subarray(v.offset, v.offset + v.length) : Buffer.alloc(0));
    }
    return out;
  }

  private remember(data: string, blob: Buffer | null): void {
    if (!blob || blob.length > REMEMBERED_DATA_BYTES) return;
    if (this.dataBytes + blob.length > REMEMBERED_DATA_BYTES) {
      this.data.clear();
      this.dataBytes = 0;
    }
    this.data.set(data, blob);
    this.dataBytes += blob.length;
  }

}

/** The names in a git tree object ("<mode> <name>\0<20-byte id>" each). */
function treeNames(body: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < body.length; ) {
    const space = body.indexOf(32, at);
    const nul = body.indexOf(0, space);
    if (space < 0 || nul < 0) break;
    out.push(body.toString("utf8", space + 1, nul));
    at = nul + 21;
  }
  return out;
}

const segmentNumber = (name: string): number => Number(/^segment-(\d+)/.exec(name)?.[1] ?? 0);
