// Where OpenCode keeps things, resolved as OpenCode does: XDG folders on every platform
// (Linux, macOS and Windows alike), with its own overrides. And where oc-sync keeps its own state,
// which is never inside OpenCode's folders.
import { homedir } from "node:os";
import { join } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

export interface OpenCodePaths {
  readonly home: string;
  readonly config: string;
  /** OPENCODE_CONFIG_DIR: one more config folder OpenCode reads. */
  readonly extraConfig: string | undefined;
  readonly data: string;
  readonly state: string;
  readonly database: string;
}

export interface OcSyncPaths {
  /** Settings file folder (the user edits it beside opencode.json, but it is never synced). */
  readonly settingsDir: string;
  readonly data: string;
  readonly repo: string;
  readonly stateDb: string;
  readonly lock: string;
  readonly dataKey: string;
  readonly log: string;
  readonly defaultRemote: string;
}

const xdg = (env: Env, name: string, home: string, fallback: string) => env[name] || join(home, fallback);

export function homeOf(env: Env): string {
  return env.HOME || env.USERPROFILE || homedir();
}

export function openCodePaths(env: Env = process.env): OpenCodePaths {
  const home = homeOf(env);
  const data = join(xdg(env, "XDG_DATA_HOME", home, ".local/share"), "opencode");
  return {
    home,
    config: join(xdg(env, "XDG_CONFIG_HOME", home, ".config"), "opencode"),
    extraConfig: env.OPENCODE_CONFIG_DIR || undefined,
    data,
    state: join(xdg(env, "XDG_STATE_HOME", home, ".local/state"), "opencode"),
    database: env.OPENCODE_DB || join(data, "opencode.db"),
  };
}

export function ocSyncPaths(env: Env = process.env): OcSyncPaths {
  const home = homeOf(env);
  const data = join(xdg(env, "XDG_DATA_HOME", home, ".local/share"), "oc-sync");
  return {
    settingsDir: join(xdg(env, "XDG_CONFIG_HOME", home, ".config"), "opencode"),
    data,
    repo: join(data, "repo.git"),
    stateDb: join(data, "state.db"),
    lock: join(data, "sync.lock"),
    dataKey: join(data, "data-key"),
    log: join(data, "log", "oc-sync.log"),
    defaultRemote: join(data, "default-remote.git"),
  };
}
