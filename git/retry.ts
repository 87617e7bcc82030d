// Retry with exponential backoff and jitter, for races (lost CAS) and flaky networks.

export interface RetryOptions {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs?: number;
  readonly retryable: (error: unknown) => boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function backoffMs(attempt: number, baseMs: number, maxMs = 30_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt + 1 >= options.attempts || !options.retryable(e)) throw e;
      await sleep(backoffMs(attempt, options.baseMs, options.maxMs));
    }
  }
}
