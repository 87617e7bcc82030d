// The workflow installed in the user's sync repo, with the bundled Action vendored beside it
// (.github/actions/oc-sync), so it never depends on a tag of a public repository moving.
import { readFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MACHINES_PREFIX } from "../../git/refs.js";
import type { GitRepo } from "../../git/repo.js";

export const WORKFLOW_PATH = ".github/workflows/oc-sync.yml";
export const ACTION_DIR = ".github/actions/oc-sync";
/**
 * actions/checkout pinned by commit (a tag can be moved to other code), the same pin as this
 * project's own workflows (a test holds them equal); v5 runs on node24.
 */
export const CHECKOUT_ACTION = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0";

export const WORKFLOW = `# Installed by oc-sync. Merges machine branches into main; clients fast-forward main themselves
# (commits marked [skip ci]), so this runs only when two machines' changes need a real merge.
name: oc-sync merge
on:
  push:
    branches: ["${MACHINES_PREFIX}**"]
  workflow_dispatch:
  # The daily digest of every commit that reached main (clients' [skip ci] commits start no run),
  # and a safety net for a merge whose run failed. Once a day is 30 runs (30 billed minutes) a
  # month, 1.5% of the Free plan's 2,000 minutes; the push trigger does the merges.
  schedule:
    - cron: "17 4 * * *"
concurrency:
  group: oc-sync-merge
  cancel-in-progress: false
permissions:
  contents: write
jobs:
  merge:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      # Only the vendored Action reaches the runner's disk: one commit, no history, no record blobs
      # (partial clone), no token left in .git/config. The Action fetches what it merges itself,
      # into a bare repository of its own, so a run costs about one bare clone of the sync repo.
      - uses: ${CHECKOUT_ACTION}
        with:
          sparse-checkout: ${ACTION_DIR}
          fetch-depth: 1
          filter: blob:none
          persist-credentials: false
      - uses: ./${ACTION_DIR}
`;

/** The oc-sync package root (holds action.yml and dist/), from wherever this code was loaded. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "oc-sync") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the oc-sync package (action.yml, dist/action.js); reinstall oc-sync");
    dir = up;
  }
}

const VENDORED_ACTION = `${ACTION_DIR}/dist/action.js`;

/**
 * Whether the Action vendored at `commit` is none or the one this oc-sync installs. An older one
 * (an older oc-sync's `init --github` puts it back) cannot read segments: it would take them for
 * damaged records and leave those sessions out of main, so sessions are then written one blob per row.
 */
export async function vendoredActionIsOurs(repo: GitRepo, commit: string): Promise<boolean> {
  const there = await repo.readBlob(`${commit}:${VENDORED_ACTION}`);
  return !there || there.equals(await readFile(join(packageRoot(), "dist", "action.js")));
}

/** Files to commit into the sync repo: the workflow and the vendored, bundled Action. */
export async function workflowFiles(): Promise<Map<string, Uint8Array>> {
  const root = packageRoot();
  return new Map([
    [WORKFLOW_PATH, Buffer.from(WORKFLOW)],
    [`${ACTION_DIR}/action.yml`, await readFile(join(root, "action.yml"))],
    [VENDORED_ACTION, await readFile(join(root, "dist", "action.js"))],
  ]);
}
