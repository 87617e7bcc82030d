// Each plugin sync runs as the bundled CLI in a child process (`oc-sync sync --json`), never on
// OpenCode's own event loop: a first pull or an initial push parses, hashes and writes for seconds,
// which inside OpenCode's process froze its server and TUI that long, and held its memory. Under
// the compiled OpenCode, process.execPath is the opencode binary, which runs a script as Bun itself
// when BUN_BE_BUN=1; under Node it is node. The child gets OpenCode's own environment, nothing added
// but that switch.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Env } from "../platform/paths.js";
import type { SyncReport } from "../sync/cycle.js";
import type { FailureKind } from "../sync/failure.js";

/** The bundled CLI, beside the bundled plugin that loads this. */
const CLI = fileURLToPath(new URL("./cli.js", import.meta.url));
const childEnv = (env: Env) => ({ ...env, BUN_BE_BUN: "1" }) as NodeJS.ProcessEnv;

/** A sync that ended in an error, with the CLI's kind of it. */
export class SyncFailed extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
    this.name = "SyncFailed";
  }
}

type CliResult<T> = T | { readonly error: { readonly message: string; readonly kind: FailureKind } };

/** One sync; `lockWaitSeconds` 0 skips it (a lock-busy failure) when another process is syncing. */
export function syncInChild(env: Env, lockWaitSeconds: number): Promise<SyncReport> {
  return cliInChild<SyncReport>(env, ["sync", "--lock-wait", String(lockWaitSeconds)]);
}

/** What `oc-sync init --github [repo] --json` reports: the repository, then the first sync with it. */
export interface SetupResult {
  readonly github: string;
  readonly sync: SyncReport;
}

/** Connects this machine to a private GitHub repository (the default one when `repo` is undefined), as `init --github` does. */
export function setupInChild(env: Env, repo: string | undefined): Promise<SetupResult> {
  return cliInChild<SetupResult>(env, ["init", "--github", ...(repo ? [repo] : [])]);
}

/** The bundled CLI with `--json` and no stdin (so it never prompts): its JSON result, or its error as a SyncFailed. */
function cliInChild<T extends object>(env: Env, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, "--json"], { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err = (err + d).slice(-2000)));
    child.on("error", (e) => reject(new SyncFailed(`could not start oc-sync (${process.execPath}): ${e.message}`, "failed")));
    child.on("close", (code, signal) => {
      let result: CliResult<T>;
      try {
        result = JSON.parse(out) as CliResult<T>;
      } catch {
        return reject(new SyncFailed(`oc-sync stopped (${signal ?? `exit code ${code}`}) without a report${err.trim() ? `: ${err.trim()}` : ""}`, "failed"));
      }
      if ("error" in result) reject(new SyncFailed(result.error.message, result.error.kind));
      else resolve(result);
    });
  });
}

/**
 * OpenCode is exiting with changes not synced yet (the last messages of an `opencode run`): a
 * detached sync that outlives it, waiting for a sync still running; OpenCode's exit is not held.
 */
export function syncAfterExit(env: Env): number | undefined {
  try {
    const child = spawn(process.execPath, [CLI, "sync"], { detached: true, stdio: "ignore", env: childEnv(env) });
    child.on("error", () => undefined);
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}
