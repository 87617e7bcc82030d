// The real OpenCode binary (npm package opencode-linux-x64, pinned) with isolated homes and the
// fake OpenAI-compatible model on loopback from ../shared/opencode-real.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createServer, type AddressInfo } from "node:net";
import { afterAll } from "vitest";
// First, so that its cleanup (registered first) runs after the wait below: after hooks run in reverse.
import "./tmp.js";

export const OPENCODE_VERSION = "1.18.33";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHARED = join(ROOT, "..", "shared", "opencode-real");
const INSTALL_DIR = join(process.env.TMPDIR ?? tmpdir(), "opencode-real");
const run = promisify(execFile);

/** Installs the pinned binary once (from the npm registry) and returns its path. */
export async function ensureOpenCode(): Promise<string> {
  const bin = join(INSTALL_DIR, "node_modules", "opencode-linux-x64", "bin", "opencode");
  if (existsSync(bin) && (await run(bin, ["--version"])).stdout.trim() === OPENCODE_VERSION) return bin;
  if (!existsSync(join(SHARED, "install-opencode.sh"))) throw new Error(`${SHARED} is missing: the real-OpenCode tests need ../shared/opencode-real beside the project`);
  await run("bash", [join(SHARED, "install-opencode.sh"), OPENCODE_VERSION], { env: { ...process.env, OC_INSTALL_DIR: INSTALL_DIR }, timeout: 600_000 });
  return bin;
}

export interface Background {
  readonly port: number;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startFakeLlm(logFile: string): Promise<Background> {
  const child = spawn(process.execPath, [join(SHARED, "fake-llm.mjs"), "--port", "0", "--log", logFile], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (c) => reject(new Error(`fake-llm exited with ${c}`)));
  });
  return { port, stop: () => stopChild(child, 2000) };
}

export interface OcHome {
  readonly name: string;
  readonly home: string;
  readonly repo: string;
  readonly config: string;
  readonly db: string;
  readonly log: string;
  readonly env: NodeJS.ProcessEnv;
}

const prepared: OcHome[] = [];
if (process.env.VITEST) afterAll(async () => Promise.all(prepared.splice(0).map(handedOverDone)));

/**
 * Waits for the syncs the plugin handed over at OpenCode's exit (detached `oc-sync sync`, named in
 * its log) to end: one still running would write into a home the test is removing.
 */
export async function handedOverDone(h: OcHome): Promise<void> {
  const log = existsSync(h.log) ? readFileSync(h.log, "utf8") : "";
  const pids = [...log.matchAll(/oc-sync pid (\d+) syncs them/g)].map((m) => Number(m[1]));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(`the syncs handed over in ${h.home} to end`, () => !pids.some(alive) || undefined, 60_000);
}

/** The plugin as this checkout's bundle: OpenCode imports a `file://` spec as it is, with no install. */
export const CHECKOUT_PLUGIN = `file://${join(ROOT, "dist", "plugin.js")}`;

/**
 * An isolated home with OpenCode's config pointing at the fake model, the plugin enabled (`plugin`:
 * its spec in opencode.json), oc-sync settings, and `env` added to OpenCode's environment.
 */
export async function prepareHome(root: string, name: string, llmPort: number, settings: Record<string, unknown>, o: { plugin?: string; env?: Record<string, string> } = {}): Promise<OcHome> {
  const home = join(root, name);
  mkdirSync(home, { recursive: true });
  await run("bash", [join(SHARED, "make-sessions.sh"), home, "0"], { env: { ...process.env, FAKE_LLM_PORT: String(llmPort) } });
  const config = join(home, ".config", "opencode");
  const file = join(config, "opencode.json");
  const cfg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  cfg.plugin = [o.plugin ?? CHECKOUT_PLUGIN];
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  writeFileSync(join(config, "opencode-sync.json"), JSON.stringify({ machine: name, ...settings }, null, 2));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_SHARE: "1",
    ...o.env,
  };
  const h: OcHome = { name, home, repo: join(home, "work", "demo-repo"), config, db: join(home, ".local", "share", "opencode", "opencode.db"), log: join(home, ".local", "share", "oc-sync", "log", "oc-sync.log"), env };
  prepared.push(h);
  return h;
}

/** The same home with the plugin taken out of OpenCode's config. */
export function withoutPlugin(h: OcHome): void {
  const file = join(h.config, "opencode.json");
  const cfg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  delete cfg.plugin;
  writeFileSync(file, JSON.stringify(cfg, null, 2));
}

/** Runs an opencode command in the home's demo repo; stdin is closed (`run` would wait on a pipe). */
export function opencode(bin: string, h: OcHome, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: h.repo, env: h.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`opencode ${args.join(" ")} exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

export interface Server extends Background {
  readonly url: string;
  readonly pid: number;
  /** Creates a session in the demo repo and sends one prompt; resolves when the answer is complete. */
  prompt(text: string, sessionId?: string): Promise<string>;
  /** Runs a slash command (`/name arguments`) in a new session, as the TUI does; resolves when the answer is complete. */
  command(name: string, args: string): Promise<string>;
  get(path: string): Promise<unknown>;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function serve(bin: string, h: OcHome): Promise<Server> {
  const port = await freePort();
  const child = spawn(bin, ["serve", "--port", String(port), "--hostname", "127.0.0.1"], { cwd: h.repo, env: h.env, stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  // A request that arrives while serve is still booting can hang: give each probe 2 s.
  await waitFor("opencode serve to answer", async () => ((await fetch(`${url}/global/health`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok ? true : undefined), 60_000);
  const q = `directory=${encodeURIComponent(h.repo)}`;
  // OpenCode starts a directory's instance (and its plugins) on the first request for it, as the TUI makes at once.
  await fetch(`${url}/session?${q}`, { signal: AbortSignal.timeout(60_000) });
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${url}${path}?${q}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(180_000) });
    if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<{ id: string }>;
  };
  return {
    port,
    url,
    pid: child.pid!,
    async prompt(text, sessionId) {
      const id = sessionId ?? (await post("/session", {})).id;
      await post(`/session/${id}/message`, { parts: [{ type: "text", text }], model: { providerID: "fakellm", modelID: "fake-model" } });
      return id;
    },
    async command(name, args) {
      const { id } = await post("/session", {});
      await post(`/session/${id}/command`, { command: name, arguments: args, model: "fakellm/fake-model" });
      return id;
    },
    async get(path) {
      return (await fetch(`${url}${path}${path.includes("?") ? "&" : "?"}${q}`, { signal: AbortSignal.timeout(30_000) })).json();
    },
    stop: () => stopChild(child),
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
