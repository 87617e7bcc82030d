// One sync in a worker thread (bundled as dist/sync-worker.js beside dist/plugin.js): parsing,
// hashing, SQLite reads and writes of a first pull or an initial push take seconds of CPU, and on
// OpenCode's own event loop they would freeze its server and TUI for that long.
import { parentPort, workerData } from "node:worker_threads";
import type { Env } from "../platform/paths.js";
import { loadContext, type SyncContext } from "../sync/context.js";
import { runSync, type SyncOptions } from "../sync/cycle.js";
import { describeFailure } from "./sync-failure.js";
import type { WorkerReply } from "./worker-sync.js";

const { env, options } = workerData as { env: Env; options: SyncOptions };
let ctx: SyncContext | undefined;
let reply: WorkerReply;
try {
  ctx = await loadContext({ env });
  reply = { ok: true, report: await runSync(ctx, options) };
} catch (e) {
  reply = { ok: false, failure: describeFailure(e, ctx?.log.mask) };
}
parentPort!.postMessage(reply);
