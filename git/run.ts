// Runs the system git with an argument array (no shell), a clean and predictable environment,
// and errors that say what went wrong without leaking the token.
import { spawn } from "node:child_process";
import { maskSecrets } from "../core/mask.js";
import { authEnv, secretForms, type GitAuth } from "./auth.js";

export type GitFailure = "auth" | "network" | "rejected" | "not-found" | "disk-full" | "failed";

export class GitError extends Error {
  constructor(
    readonly kind: GitFailure,
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

export interface RunOptions {
  readonly cwd?: string;
  readonly input?: string | Uint8Array;
  readonly auth?: GitAuth;
  readonly env?: Readonly<Record<string, string>>;
  /** Exit codes that are answers, not failures (e.g. 1 for merge-base --is-ancestor). */
  readonly okCodes?: readonly number[];
  /** Past this many bytes of output git is stopped: the result holds what came and says `truncated`. */
  readonly maxOutput?: number;
}

export interface RunResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code: number;
  readonly truncated?: boolean;
}

/**
 * What of this process's environment a git child gets: what git needs to run, reach the remote and
 * trace itself, never oc-sync's settings, a token or the passphrase (a remote's hooks run with it).
 */
const PASSED_TO_GIT = /^(PATH|HOME|USER|LOGNAME|SHELL|TMPDIR|TEMP|TMP|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|XDG_CONFIG_HOME|(HTTPS?|ALL|NO)_PROXY|(https?|all|no)_proxy|SSH_AUTH_SOCK|GIT_SSH|GIT_SSH_COMMAND|GIT_SSL_CAINFO|GIT_SSL_CAPATH|GIT_EXEC_PATH|GIT_TRACE[A-Z0-9_]*|SSL_CERT_FILE|SSL_CERT_DIR|SYSTEMROOT|SystemRoot|COMSPEC|ComSpec|WINDIR|USERPROFILE|APPDATA|LOCALAPPDATA|PROGRAMDATA|ProgramData|HOMEDRIVE|HOMEPATH|PATHEXT)$/;

export function gitEnv(auth?: GitAuth, extra?: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (PASSED_TO_GIT.test(k)) env[k] = v;
  return {
    ...env,
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GCM_INTERACTIVE: "never",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    GIT_AUTHOR_NAME: "oc-sync",
    GIT_AUTHOR_EMAIL: "oc-sync@localhost",
    GIT_COMMITTER_NAME: "oc-sync",
    GIT_COMMITTER_EMAIL: "oc-sync@localhost",
    ...authEnv(auth),
    ...extra,
  };
}

export function classify(stderr: string): GitFailure {
  if (/No space left on device|Disk quota exceeded|Out of diskspace/i.test(stderr)) return "disk-full";
  if (/Authentication failed|could not read (Username|Password)|returned error: 40[13]|terminal prompts disabled|Invalid username or password|Permission to .* denied/i.test(stderr)) return "auth";
  if (/returned error: 404|Repository not found|does not appear to be a git repository|not found/i.test(stderr)) return "not-found";
  if (/Could not resolve host|Failed to connect|Connection refused|Connection reset|Connection timed out|unable to access|Operation timed out|early EOF|RPC failed|remote end hung up|returned error: 5\d\d/i.test(stderr)) return "network";
  if (/\[rejected\]|\(stale info\)|atomic push failed|failed to push some refs|non-fast-forward|fetch first/i.test(stderr)) return "rejected";
  return "failed";
}

/** The error for a git command that failed: its kind, and a message that says what to do when the user can. */
export function gitFailure(args: readonly string[], stderr: string, exit: number): GitError {
  const kind = classify(stderr);
  const what = `git ${args.slice(0, 2).join(" ")}`;
  if (kind === "disk-full") {
    const dir = args[args.indexOf("--git-dir") + 1] ?? "oc-sync's repository";
    return new GitError(kind, `${what} failed: the disk holding ${dir} is full; nothing was changed there; free some space and sync again`, stderr);
  }
  return new GitError(kind, `${what} failed: ${gitSaid(stderr) || `exit code ${exit}`}`, stderr);
}

/** What git said last (its final lines carry the reason), on one line. */
export function gitSaid(stderr: string): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  // The first error names what failed (a lock file's path, a ref); the last lines say what to do.
  const first = lines.find((l) => /^(fatal|error): /.test(l));
  return [...new Set([first, ...lines.slice(-3)].filter((l) => l !== undefined))].join(" | ");
}

export function runGit(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const secrets = secretForms(options.auth);
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: options.cwd, env: gitEnv(options.auth, options.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let truncated = false;
    child.stdout.on("data", (d: Buffer) => {
      if (truncated) return;
      out.push(d);
      outBytes += d.length;
      if (options.maxOutput !== undefined && outBytes > options.maxOutput) {
        truncated = true;
        child.kill();
      }
    });
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => reject(new GitError("failed", `could not run git (${e.message}); install git and make sure it is on PATH`, "")));
    child.on("close", (code) => {
      const stderr = maskSecrets(Buffer.concat(err).toString("utf8"), secrets);
      if (truncated) {
        resolve({ stdout: Buffer.concat(out), stderr, code: code ?? 1, truncated });
        return;
      }
      const exit = code ?? 1;
      if (exit === 0 || options.okCodes?.includes(exit)) {
        resolve({ stdout: Buffer.concat(out), stderr, code: exit });
        return;
      }
      reject(gitFailure(args.map((a) => maskSecrets(a, secrets)), stderr, exit));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}
