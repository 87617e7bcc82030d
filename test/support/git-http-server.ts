// A real git smart-HTTP server on loopback: Node's http in front of `git http-backend`, with
// token checks as GitHub does them (basic auth, the password is the token, any user name).
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitServerOptions {
  /** Folder holding the bare repositories, served as /<name>.git */
  readonly root: string;
  /** Tokens accepted for reading and writing; empty = no auth required. */
  readonly tokens: readonly string[];
  /** Called after a successful push (receive-pack) to a repository. */
  readonly onPush?: (repo: string) => void;
}

export interface GitServer {
  readonly port: number;
  url(repo: string): string;
  /** Makes every request fail (network outage) or answer with a status, until cleared. */
  setFault(fault: { status: number } | "reset" | null): void;
  close(): Promise<void>;
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  let fault: { status: number } | "reset" | null = null;
  const server: Server = createServer((req, res) => {
    if (fault === "reset") return req.socket.destroy();
    if (fault) return void res.writeHead(fault.status).end(`injected ${fault.status}\n`);
    if (options.tokens.length && !authorized(req, options.tokens)) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="oc-sync test"' }).end("Unauthorized\n");
      return;
    }
    serveGit(req, res, options);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    setFault: (f) => void (fault = f),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function authorized(req: IncomingMessage, tokens: readonly string[]): boolean {
  const header = req.headers.authorization ?? "";
  const m = /^Basic (.+)$/.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  return tokens.includes(decoded.slice(decoded.indexOf(":") + 1));
}

function serveGit(req: IncomingMessage, res: ServerResponse, options: GitServerOptions): void {
  const url = new URL(req.url ?? "/", "http://localhost");
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
  };
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
  if (req.headers["git-protocol"]) env.GIT_PROTOCOL = String(req.headers["git-protocol"]);
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  req.pipe(child.stdin);
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
  child.on("close", (code) => {
    if (!headersDone) res.writeHead(500);
    res.end();
    if (code === 0 && url.pathname.endsWith("/git-receive-pack")) options.onPush?.(url.pathname.split("/")[1] ?? "");
  });
}
