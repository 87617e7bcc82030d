// One sync loop per OpenCode process, however many directories OpenCode opens (it starts the
// plugin once per directory): started on first load, shared after. It never blocks OpenCode:
// each sync runs as a child process, logs go to oc-sync's own log file, and a missing or broken
// setup leaves it idle with one toast; the CLI is the recovery path.
import { watch, type FSWatcher } from "chokidar";
import { MAIN_BRANCH } from "../../git/refs.js";
import { listRemoteHeads } from "../../git/remote.js";
import { loadContext, type SyncContext } from "../sync/context.js";
import type { SyncReport } from "../sync/cycle.js";
import { withState } from "../state/open-state.js";
import { neverSynced } from "../sync/sources.js";
import { SyncScheduler } from "./scheduler.js";
import { failureKind, type FailureKind } from "../sync/failure.js";
import { setupInChild, syncAfterExit, syncInChild, SyncFailed, type SetupResult } from "./sync-process.js";

export type ToastVariant = "info" | "success" | "warning" | "error";
export type Toast = (message: string, variant: ToastVariant) => void;

export interface RuntimeOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly toast: Toast;
}

/** What the plugin says, once per process, while this machine syncs only into the embedded repository. */
export const EMBEDDED_ONLY = "oc-sync: syncing only into a local repository on this machine; nothing leaves it. Run /sync-setup to connect a private GitHub repository";

/**
 * How long a sync the user asked for (/sync, the oc_sync tool) waits for one another process is
 * running (another OpenCode window, the hand-over of one that exited): they asked, so it waits.
 */
const ASKED_LOCK_WAIT_SECONDS = 60;

export class SyncRuntime {
  ready: Promise<SyncContext | null>;
  lastReport: SyncReport | undefined;
  lastError: string | undefined;
  private readonly busy = new Set<string>();
  private readonly told = new Set<string>();
  private scheduler: SyncScheduler | undefined;
  private watcher: FSWatcher | undefined;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private failures = 0;
  private stopped = false;
  private ctx: SyncContext | undefined;
  private readonly env: NodeJS.ProcessEnv;
  toast: Toast;

  constructor(options: RuntimeOptions) {
    this.toast = options.toast;
    this.env = options.env ?? process.env;
    this.ready = this.start();
    process.once("exit", () => this.handOver());
  }

  /** Session activity from OpenCode's bus: track who is streaming, ask for a sync once idle. */
  onEvent(type: string, properties: Record<string, unknown> | undefined): void {
    const session = String(properties?.sessionID ?? (properties?.info as { id?: string } | undefined)?.id ?? "");
    if (type === "session.status") {
      const status = (properties?.status as { type?: string } | undefined)?.type;
      if (status === "busy" || status === "retry") this.busy.add(session);
      else this.busy.delete(session);
    }
    if (type === "session.idle") this.busy.delete(session);
    if (type === "session.idle" || type === "session.updated" || type === "message.updated" || type === "session.deleted") this.scheduler?.request(`event:${type}`);
  }

  requestSync(reason: string, immediately = false): void {
    this.scheduler?.request(reason, immediately);
  }

  async syncNow(): Promise<SyncReport> {
    const ctx = await this.ready;
    if (!ctx) throw new Error(this.lastError ?? "oc-sync is not set up");
    const sync = () => this.sync(ctx, ["tool"], ASKED_LOCK_WAIT_SECONDS);
    return this.scheduler ? this.scheduler.now(sync) : sync();
  }

  /**
   * /sync-setup: connects this machine to a private GitHub repository as `oc-sync init --github`
   * does (in a child, never between two syncs), then restarts the loop on the new settings.
   */
  async setup(repo: string | undefined): Promise<SetupResult> {
    const connect = () => setupInChild(this.env, repo);
    try {
      return await (this.scheduler ? this.scheduler.now(connect) : connect());
    } finally {
      // A failed init may still have kept its settings (the first sync failed after they were checked).
      await this.stop();
      this.stopped = false;
      this.ready = this.start();
      await this.ready;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler?.stop();
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.watcher?.close();
  }

  private async start(): Promise<SyncContext | null> {
    let ctx: SyncContext;
    this.ctx = undefined;
    try {
      ctx = await loadContext({ env: this.env });
      this.ctx = ctx;
      this.lastError = undefined;
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e), failureKind(e));
      return null;
    }
    const s = ctx.settings;
    this.scheduler = new SyncScheduler({
      debounceMs: s.debounceMs,
      maxWaitMs: s.maxWaitMs,
      paused: () => this.busy.size > 0,
      run: async (reasons) => {
        await this.sync(ctx, reasons).catch(() => undefined);
      },
    });
    this.scheduler.request("startup", true);
    this.watcher = watch([ctx.opencode.config, ctx.opencode.state], { ignoreInitial: true, ignored: neverSynced, depth: 6 });
    this.watcher.on("all", () => this.scheduler?.request("file"));
    this.watcher.on("error", (e) => ctx.log.log("warn", `file watcher: ${(e as Error).message}`));
    this.every(s.interval * 1000, () => this.scheduler?.request("interval"));
    this.every(s.remoteCheck * 1000, () => void this.checkRemote(ctx));
    return ctx;
  }

  /** OpenCode is exiting: what is not synced yet goes to a detached oc-sync (exit handlers cannot wait). */
  private handOver(): void {
    const ctx = this.ctx;
    if (this.stopped || !ctx || !this.scheduler?.pending()) return;
    const pid = syncAfterExit(ctx.env);
    ctx.log.log("info", pid ? `OpenCode exits with changes not synced yet: oc-sync pid ${pid} syncs them` : "OpenCode exits with changes not synced yet; could not start oc-sync, they sync on the next start");
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.timers.push(t);
  }

  /** A cheap look at the remote's main (ls-remote: one request, no API quota). */
  private async checkRemote(ctx: SyncContext): Promise<void> {
    try {
      await withState(ctx, async ({ repo, index }) => {
        const heads = await listRemoteHeads(repo, ctx.remote);
        const main = heads.get(MAIN_BRANCH);
        if (main && main !== index.state.base) this.scheduler?.request("remote", true);
      });
    } catch (e) {
      ctx.log.log("info", `remote check failed: ${(e as Error).message}`);
    }
  }

  /** `lockWaitSeconds` 0 (a background sync): skipped when another process is syncing this machine. */
  private async sync(ctx: SyncContext, reasons: readonly string[], lockWaitSeconds = 0): Promise<SyncReport> {
    const firstEver = !(await this.hasSyncedBefore(ctx));
    try {
      ctx.log.log("info", `plugin sync (${reasons.join(", ")}) in pid ${process.pid}`);
      const report = await syncInChild(ctx.env, lockWaitSeconds);
      ctx.log.log("info", `plugin sync done in pid ${process.pid}: ${report.outcome}`);
      this.lastReport = report;
      this.lastError = undefined;
      this.failures = 0;
      if (ctx.embedded) this.once("embedded", EMBEDDED_ONLY, "warning");
      else if (firstEver) this.once("first", `oc-sync: first sync done (${report.committed} record(s) sent, ${report.applied} received)`, "success");
      if (report.appliedConfig > 0) this.once(`config:${report.main}`, "oc-sync: config changed on another machine; restart OpenCode to use it", "info");
      const waiting = report.conflicts.filter((c) => c.needsDecision).length;
      if (waiting) this.once(`ask:${waiting}`, `oc-sync: ${waiting} conflict(s) need your decision: /sync-conflicts, or 'oc-sync conflicts' in a terminal`, "warning");
      for (const p of report.needsUser) this.once(p, `oc-sync: ${p}`, "error");
      return report;
    } catch (e) {
      const kind = e instanceof SyncFailed ? e.kind : failureKind(e);
      if (kind === "lock-busy") {
        ctx.log.log("info", `another process is syncing this machine; skipped in pid ${process.pid}`);
        throw e;
      }
      this.fail(ctx.log.mask(e instanceof Error ? e.message : String(e)), kind, ctx);
      this.failures++;
      // Offline or flaky: try again with backoff, well before the next interval.
      if (kind === "network") setTimeout(() => this.scheduler?.request("retry"), Math.min(300_000, 15_000 * 2 ** this.failures)).unref?.();
      throw e;
    }
  }

  private async hasSyncedBefore(ctx: SyncContext): Promise<boolean> {
    return withState(ctx, async ({ index }) => {
      return index.state.lastSync !== null;
    });
  }

  private fail(message: string, kind: FailureKind, ctx?: SyncContext): void {
    this.lastError = message;
    ctx?.log.log("error", message);
    if (kind === "needs-user") this.once(message, `oc-sync: ${message}`, "error");
  }

  private once(key: string, message: string, variant: ToastVariant): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    this.toast(message, variant);
  }
}
