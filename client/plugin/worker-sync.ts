// The plugin's side of a sync in a worker thread (sync-worker.ts): start one, await its report.
import { Worker } from "node:worker_threads";
import type { Env } from "../platform/paths.js";
import type { SyncOptions, SyncReport } from "../sync/cycle.js";
import { SyncFailed, type SyncFailure } from "./sync-failure.js";

export type WorkerReply = { readonly ok: true; readonly report: SyncReport } | { readonly ok: false; readonly failure: SyncFailure };

/** Where the bundled worker is: beside the bundled plugin that loads this. */
const WORKER_URL = new URL("./sync-worker.js", import.meta.url);

/** Options that are plain data (a progress callback cannot cross into the worker). */
export type WorkerSyncOptions = Omit<SyncOptions, "progress">;

const crashed = (message: string) => new SyncFailed({ message, lockBusy: false, fixable: false, network: false });

export function syncInWorker(env: Env, options: WorkerSyncOptions): Promise<SyncReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: { env: { ...env }, options } });
    let replied = false;
    worker.once("message", (reply: WorkerReply) => {
      replied = true;
      if (reply.ok) resolve(reply.report);
      else reject(new SyncFailed(reply.failure));
    });
    worker.once("error", (e) => reject(crashed(`the sync worker failed: ${e.message}`)));
    worker.once("exit", (code) => {
      if (!replied) reject(crashed(`the sync worker stopped (exit code ${code}) before it finished`));
    });
  });
}
