// Fault injection for the crash-safety tests: with OC_SYNC_CRASH_AT=<point> the process dies at
// that point of the cycle as if killed (exit 137, no cleanup). Unset, this does nothing.
export type CrashPoint = "after-fetch" | "after-commit" | "before-push" | "between-pushes" | "mid-apply";

export function crashPoint(point: CrashPoint): void {
  if (process.env.OC_SYNC_CRASH_AT === point) process.exit(137);
}
