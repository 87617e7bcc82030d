// Reads many objects through one long-running `git cat-file --batch`, instead of a process per blob.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { gitEnv } from "./run.js";

/** An object as `cat-file --batch` gives it. */
export interface FoundObject {
  readonly oid: string;
  readonly type: string;
  readonly body: Buffer;
}

interface Pending {
  resolve: (v: FoundObject | null) => void;
  reject: (e: Error) => void;
}

export class ObjectReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  /** Output not yet parsed, as it came, and its length. */
  private chunks: Buffer[] = [];
  private length = 0;
  /** Bytes the object being received needs in all (0: not known yet). */
  private need = 0;
  private failed: Error | undefined;

  constructor(gitDir: string) {
    this.child = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { env: gitEnv(), stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (d: Buffer) => this.onData(d));
    this.child.stderr.resume();
    const fail = (e: Error) => {
      this.failed = e;
      for (const p of this.queue.splice(0)) p.reject(e);
    };
    this.child.on("error", (e) => fail(new Error(`git cat-file could not start: ${e.message}`)));
    this.child.on("close", () => fail(new Error("git cat-file exited")));
    this.child.stdin.on("error", () => undefined);
  }

  /** Content of a blob named by oid or `<commit>:<path>`; null when it does not exist. */
  async read(object: string): Promise<Buffer | null> {
    const found = await this.lookup(object);
    return found?.type === "blob" ? found.body : null;
  }

  /** Any object (a tree too) with its id and type; null when it does not exist. */
  lookup(object: string): Promise<FoundObject | null> {
    if (this.failed) return Promise.reject(this.failed);
    if (/[\n\r]/.test(object)) return Promise.reject(new Error(`object name with a line break: ${JSON.stringify(object)}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.child.stdin.write(object + "\n");
    });
  }

  close(): void {
    this.child.stdin.end();
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.length += d.length;
    // A large object arrives in many chunks: they are joined once it is all here, not at every chunk
    // (joining at every chunk made a 60 MB record take 14 s).
    if (this.length < this.need) return;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.need = 0;
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const header = batchHeader(buf.subarray(0, nl));
      if (!header) {
        buf = buf.subarray(nl + 1);
        this.queue.shift()?.resolve(null);
        continue;
      }
      const end = nl + 1 + header.size + 1;
      if (buf.length < end) {
        this.need = end;
        break;
      }
      const body = Buffer.from(buf.subarray(nl + 1, end - 1));
      buf = buf.subarray(end);
      this.queue.shift()?.resolve({ oid: header.oid, type: header.type, body });
    }
    this.chunks = buf.length ? [buf] : [];
    this.length = buf.length;
  }
}

/** A `git cat-file --batch` header: "<oid> <type> <size>", or undefined for "<name> missing". */
export function batchHeader(line: Buffer): { readonly oid: string; readonly type: string; readonly size: number; readonly blob: boolean } | undefined {
  const text = line.toString("utf8");
  if (text.endsWith(" missing") || text.endsWith(" ambiguous")) return undefined;
  const [oid, type, size] = text.split(" ");
  return { oid: oid!, type: type!, size: Number(size), blob: type === "blob" };
}
