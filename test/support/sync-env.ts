// A loopback git server with one sync repo, and a helper to run a full sync as a given home.
import { join } from "node:path";
import { afterAll } from "vitest";
import { loadContext } from "../../client/sync/context.js";
import { runSync, type SyncOptions, type SyncReport } from "../../client/sync/cycle.js";
import type { Env } from "../../client/platform/paths.js";
import { runGit } from "../../git/run.js";
import { startGitServer, type GitServer } from "./git-http-server.js";
import { makeHome, makeUsedHome, type TestHome } from "./opencode-home.js";
import { tempDir } from "./tmp.js";

export const TOKEN = "tok_test_5d41402abc4b2a76b9719d911017c592";
export const PASSPHRASE = "correct horse battery staple";

export interface SyncWorld {
  readonly root: string;
  readonly server: GitServer;
  readonly remoteDir: string;
  readonly url: string;
  home(name: string, env?: Env): TestHome;
  /** A home as OpenCode leaves it after one run (database and project row); `withDb: false` for a machine where it never ran. */
  machine(name: string, withDb?: boolean): TestHome;
}

export async function syncWorld(): Promise<SyncWorld> {
  const root = await tempDir();
  const remoteDir = join(root, "srv", "sync.git");
  await runGit(["init", "--bare", "-q", "-b", "main", remoteDir]);
  const server = await startGitServer({ root: join(root, "srv"), tokens: [TOKEN] });
  afterAll(() => server.close());
  const url = server.url("sync.git");
  const env = { OC_SYNC_REMOTE: url, OC_SYNC_TOKEN: TOKEN, OC_SYNC_PASSPHRASE: PASSPHRASE };
  return {
    root,
    server,
    remoteDir,
    url,
    home: (name, extra = {}) => makeHome(root, name, { ...env, ...extra }),
    machine: (name, withDb = true) => (withDb ? makeUsedHome : makeHome)(root, name, env),
  };
}

export async function sync(h: TestHome, options: SyncOptions = {}): Promise<SyncReport> {
  const ctx = await loadContext({ env: h.env });
  return runSync(ctx, options);
}

/** Runs a sync of `h` and calls `meanwhile` while its push is held: after its scan, before its apply. */
export async function syncWithEditDuringPush(w: SyncWorld, h: TestHome, meanwhile: () => void): Promise<SyncReport> {
  let arrived!: () => void;
  let release!: () => void;
  const atPush = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((r) => (release = r));
  w.server.setFault({ hold: () => (arrived(), released) }, "push");
  const running = sync(h);
  await atPush;
  w.server.setFault(null);
  meanwhile();
  release();
  return running;
}
