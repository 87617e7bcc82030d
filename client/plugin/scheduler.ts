// When to sync inside OpenCode: soon after a change (debounced, with a maximum wait), on a fixed
// interval, and never two at once. Pure timing; what a sync does is the caller's.

export interface SchedulerOptions {
  readonly debounceMs: number;
  readonly maxWaitMs: number;
  readonly run: (reasons: readonly string[]) => Promise<void>;
  /** Holds a run back (e.g. while a session is streaming); re-checked every second. */
  readonly paused?: () => boolean;
}

export class SyncScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstRequest = 0;
  private reasons = new Set<string>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: SchedulerOptions) {}

  /** Asks for a sync; requests in a burst become one run. */
  request(reason: string, immediately = false): void {
    if (this.stopped) return;
    this.reasons.add(reason);
    const now = Date.now();
    if (!this.timer) this.firstRequest = now;
    const wait = immediately ? 0 : Math.max(0, Math.min(this.o.debounceMs, this.firstRequest + this.o.maxWaitMs - now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fire(), wait);
    this.timer.unref?.();
  }

  /** Resolves when the current run (if any) has finished. */
  async settled(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    if (this.running || this.o.paused?.()) {
      // One at a time; and never while OpenCode is mid-response: try again shortly.
      this.timer = setTimeout(() => void this.fire(), 1000);
      this.timer.unref?.();
      return;
    }
    const reasons = [...this.reasons];
    this.reasons.clear();
    this.running = this.o.run(reasons).finally(() => (this.running = undefined));
    await this.running;
  }
}
