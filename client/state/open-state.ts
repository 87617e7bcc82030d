// This machine's sync state on disk: oc-sync's own bare repo (what it fetched and committed) and
// the index (state.db), opened together and closed together.
import { GitRepo } from "../../git/repo.js";
import type { OcSyncPaths } from "../platform/paths.js";
import { ensurePrivateDir, makePrivate } from "../platform/private-dir.js";
import { openDatabase } from "../platform/sqlite.js";
import { IndexStore } from "./index-store.js";

export interface LocalState {
  readonly repo: GitRepo;
  readonly index: IndexStore;
}

export async function openState(paths: OcSyncPaths): Promise<LocalState> {
  await ensurePrivateDir(paths.data);
  const repo = await GitRepo.open(paths.repo);
  await ensurePrivateDir(paths.repo);
  const index = new IndexStore(await openDatabase(paths.stateDb, { busyTimeoutMs: 10_000 }));
  for (const f of ["", "-wal", "-shm"]) await makePrivate(paths.stateDb + f);
  return { repo, index };
}

export function closeState(state: LocalState): void {
  state.repo.close();
  state.index.close();
}

/** Runs `fn` with the local repo and index open, and closes both however it ends. */
export async function withState<T>(ctx: { readonly paths: OcSyncPaths }, fn: (state: LocalState) => Promise<T>): Promise<T> {
  const state = await openState(ctx.paths);
  try {
    return await fn(state);
  } finally {
    closeState(state);
  }
}
