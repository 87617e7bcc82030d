// Everything one sync needs, resolved once: folders, settings, machine id, remote, merge mode.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { Remote } from "../../git/remote.js";
import { loadSettings, type Settings } from "../config/settings.js";
import { writeFileAtomic } from "../platform/atomic-file.js";
import { createLogger, type Level, type Logger } from "../platform/log.js";
import { ocSyncPaths, openCodePaths, type Env, type OcSyncPaths, type OpenCodePaths } from "../platform/paths.js";
import { join } from "node:path";
import { githubGitUrl } from "../github/api.js";
import { githubToken } from "../github/token.js";

export type MergeMode = "action" | "local";

export interface SyncContext {
  readonly env: Env;
  readonly opencode: OpenCodePaths;
  readonly paths: OcSyncPaths;
  readonly settings: Settings;
  readonly machine: string;
  readonly remote: Remote;
  /** True when no remote is configured: the embedded default bare repo is used. */
  readonly embedded: boolean;
  readonly mode: MergeMode;
  readonly log: Logger;
}

export interface ContextOptions {
  readonly env?: Env;
  readonly echo?: (level: Level, line: string) => void;
}

export async function loadContext(options: ContextOptions = {}): Promise<SyncContext> {
  const env = options.env ?? process.env;
  const opencode = openCodePaths(env);
  const paths = ocSyncPaths(env);
  const settings = await loadSettings(paths.settingsDir, env);
  const log = createLogger(paths.log, options.echo);
  log.addSecret(settings.token);
  log.addSecret(settings.passphrase);
  const machine = settings.machine ?? (await machineId(paths));
  const url = settings.remote ?? (settings.github ? `${githubGitUrl(env)}/${settings.github}.git` : undefined);
  const inUrl = url ? withoutCredentials(url) : undefined;
  const token = inUrl?.secret ?? settings.token ?? (settings.github ? githubToken(env) : undefined);
  log.addSecret(token);
  const clean = inUrl?.url;
  const remote: Remote = { url: clean ?? paths.defaultRemote, ...(token && clean && /^https?:/.test(clean) ? { auth: { token } } : {}) };
  const mode: MergeMode = settings.merge ?? (settings.github || /github\.com/.test(url ?? "") ? "action" : "local");
  return { env, opencode, paths, settings, machine, remote, embedded: url === undefined, mode, log };
}

/**
 * A remote URL with a secret in it (`https://user:TOKEN@host/…`, `https://TOKEN@host/…`): the URL
 * git is given has none, and the secret goes to git as the token does (never an argument, a log line
 * or printed).
 */
export function withoutCredentials(url: string): { url: string; secret?: string } {
  if (!/^https?:\/\//i.test(url)) return { url };
  const u = new URL(url);
  const secret = decodeURIComponent(u.password || u.username);
  if (!secret) return { url };
  u.username = "";
  u.password = "";
  return { url: u.toString(), secret };
}

/** A stable id for this machine, made once from the host name plus a random suffix. */
async function machineId(paths: OcSyncPaths): Promise<string> {
  const file = join(paths.data, "machine-id");
  const existing = (await readFile(file, "utf8").catch(() => "")).trim();
  if (existing) return existing;
  const host = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "machine";
  const id = `${host}-${randomBytes(3).toString("hex")}`;
  await writeFileAtomic(file, id + "\n");
  return id;
}
