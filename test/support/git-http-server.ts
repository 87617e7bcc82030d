// A real git smart-HTTP server on loopback: Node's http in front of `git http-backend`, with
// token checks as GitHub does them (basic auth, the password is the token, any user name).
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface PushEvent {
  readonly repo: string;
  readonly token: string;
  readonly updates: readonly { readonly ref: string; readonly before: string | null; readonly after: string | null }[];
}

export interface GitServerOptions {
  /** Folder holding the bare repositories, served as /<name>.git */
  readonly root: string;
  /** Tokens accepted for reading and writing; empty = no auth required. */
  readonly tokens: readonly string[];
  /** Tokens that may not change .github/workflows (enforced by the pre-receive hook of installWorkflowGuard). */
  readonly noWorkflowTokens?: readonly string[];
  /** Called after a push (receive-pack) that moved refs. */
  readonly onPush?: (event: PushEvent) => void;
}

export interface GitServer {
  readonly port: number;
  url(repo: string): string;
  /**
   * Makes requests fail (network outage), answer with a status, or wait until `hold` resolves, until
   * cleared: every request, or only pushes (receive-pack) or only fetches (upload-pack).
   */
  setFault(fault: Fault | null, only?: "push" | "fetch"): void;
  close(): Promise<void>;
}

export type Fault = { status: number } | "reset" | { hold: () => Promise<void> };

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  let fault: Fault | null = null;
  let faultOnly: "push" | "fetch" | undefined;
  // "push" hits the pack upload itself (after the ref advertisement): a failure mid-push.
  const service = (req: IncomingMessage) => (req.method === "POST" && /git-receive-pack$/.test(req.url ?? "") ? "push" : "fetch");
  const server: Server = createServer((req, res) => {
    const f = fault && (!faultOnly || faultOnly === service(req)) ? fault : null;
    if (f === "reset") return req.socket.destroy();
    if (f && "status" in f) return void res.writeHead(f.status).end(`injected ${f.status}\n`);
    if (f && "hold" in f) return void f.hold().then(() => serve(req, res));
    serve(req, res);
  });
  function serve(req: IncomingMessage, res: ServerResponse): void {
    const token = tokenOf(req);
    if (options.tokens.length && (token === undefined || !options.tokens.includes(token))) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="oc-sync test"' }).end("Unauthorized\n");
      return;
    }
    serveGit(req, res, options, token ?? "");
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    setFault: (f, only) => {
      fault = f;
      faultOnly = only;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function tokenOf(req: IncomingMessage): string | undefined {
  // The scheme is case-insensitive (RFC 9110); actions/checkout sends "basic".
  const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1);
}

function refsOf(gitDir: string): Map<string, string> {
  const out = spawnSync("git", ["--git-dir", gitDir, "for-each-ref", "--format=%(objectname) %(refname)"], { encoding: "utf8" }).stdout ?? "";
  return new Map(out.split("\n").filter(Boolean).map((l) => l.split(" ").reverse() as [string, string]));
}

/** Refuses pushes that change workflows when OC_TEST_WORKFLOWS=0, with GitHub's message. */
export function installWorkflowGuard(gitDir: string): void {
  const hook = join(gitDir, "hooks", "pre-receive");
  writeFileSync(
    hook,
    `#!/bin/sh
[ "$OC_TEST_WORKFLOWS" = "0" ] || exit 0
zero=0000000000000000000000000000000000000000
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  if [ "$old" = "$zero" ]; then files=$(git log --format= --name-only "$new" --not --all -- .github/workflows)
  else files=$(git log --format= --name-only "$old..$new" -- .github/workflows); fi
  if [ -n "$files" ]; then
    echo "refusing to allow a Personal Access Token to create or update workflow \\\`$(echo "$files" | head -n1)\\\` without \\\`workflow\\\` scope" >&2
    exit 1
  fi
done
`,
  );
  chmodSync(hook, 0o755);
}

function serveGit(req: IncomingMessage, res: ServerResponse, options: GitServerOptions, token: string): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const repo = /^\/(.+?\.git)(\/|$)/.exec(url.pathname)?.[1] ?? "";
  const pushing = url.pathname.endsWith("/git-receive-pack");
  const before = pushing ? refsOf(join(options.root, repo)) : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: options.root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    REMOTE_USER: "oc-sync-test",
    REMOTE_ADDR: "127.0.0.1",
    GIT_CONFIG_NOSYSTEM: "1",
    HOME: options.root,
    OC_TEST_WORKFLOWS: options.noWorkflowTokens?.includes(token) ? "0" : "1",
  };
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
  if (req.headers["git-protocol"]) env.GIT_PROTOCOL = String(req.headers["git-protocol"]);
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  req.pipe(child.stdin);
  // A receive-pack that stops reading (a pack over receive.maxInputSize) closes its stdin early: the rest of the upload is drained, not an error.
  child.stdin.on("error", () => req.unpipe(child.stdin).resume());
  child.stderr.resume();
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (d: Buffer) => {
    if (headersDone) return void res.write(d);
    head = Buffer.concat([head, d]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString().split("\r\n")) {
      const i = line.indexOf(":");
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on("close", () => {
    if (!headersDone) res.writeHead(500);
    res.end();
    if (!before) return;
    const after = refsOf(join(options.root, repo));
    const updates = [...new Set([...before.keys(), ...after.keys()])]
      .filter((ref) => before.get(ref) !== after.get(ref))
      .map((ref) => ({ ref, before: before.get(ref) ?? null, after: after.get(ref) ?? null }));
    if (updates.length) options.onPush?.({ repo, token, updates });
  });
}
