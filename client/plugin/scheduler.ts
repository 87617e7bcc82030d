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

  /**
   * Runs `fn` as soon as the current run (if any) has finished, ahead of pending requests and not
   * held back by `paused`: a sync the user asked for from inside a busy session must not wait for
   * that session to go idle, which it cannot do while it waits.
   */
  async now<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running) await this.running;
    const result = fn();
    this.running = result.then(
      () => undefined,
      () => undefined,
    ).finally(() => (this.running = undefined));
    return result;
  }

  /** A request not yet run, or a run not yet finished. */
  pending(): boolean {
    return this.timer !== undefined || this.running !== undefined;
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
