// Reads many objects through one long-running `git cat-file --batch`, instead of a process per blob.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { gitEnv } from "./run.js";

interface Pending {
  resolve: (v: Buffer | null) => void;
  reject: (e: Error) => void;
}

export class ObjectReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
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
  read(object: string): Promise<Buffer | null> {
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
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const header = batchHeader(this.buf.subarray(0, nl));
      if (!header) {
        this.buf = this.buf.subarray(nl + 1);
        this.queue.shift()?.resolve(null);
        continue;
      }
      const { size, blob } = header;
      if (this.buf.length < nl + 1 + size + 1) return;
      const body = Buffer.from(this.buf.subarray(nl + 1, nl + 1 + size));
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      this.queue.shift()?.resolve(blob ? body : null);
    }
  }
}

/** A `git cat-file --batch` header: "<oid> <type> <size>", or undefined for "<name> missing". */
export function batchHeader(line: Buffer): { readonly size: number; readonly blob: boolean } | undefined {
  const text = line.toString("utf8");
  if (text.endsWith(" missing") || text.endsWith(" ambiguous")) return undefined;
  const [, type, size] = text.split(" ");
  return { size: Number(size), blob: type === "blob" };
}
