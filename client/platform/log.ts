// oc-sync's own log file (never stdout/stderr inside OpenCode, which would smear the TUI),
// rotated at 1 MiB, with every known secret masked before it is written.
import { appendFileSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { maskSecrets } from "../../core/mask.js";

export type Level = "info" | "warn" | "error";

export interface Logger {
  log(level: Level, message: string): void;
  /** A warning the user is shown in a report (a sync's problems): to the log file, not echoed as well. */
  reported(message: string): void;
  /** Adds values that must never appear in a log line or message. */
  addSecret(secret: string | undefined): void;
  mask(text: string): string;
}

const MAX_BYTES = 1024 * 1024;

export function createLogger(file: string, echo?: (level: Level, line: string) => void): Logger {
  const secrets: string[] = [];
  const mask = (text: string) => maskSecrets(text, secrets);
  return {
    addSecret(secret) {
      if (secret && secret.length >= 4 && !secrets.includes(secret)) secrets.push(secret);
    },
    mask,
    log(level, message) {
      const line = mask(message);
      echo?.(level, line);
      append(file, level, line);
    },
    reported(message) {
      append(file, "warn", mask(message));
    },
  };
}

function append(file: string, level: Level, line: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > MAX_BYTES) renameSync(file, file + ".1");
    appendFileSync(file, `${new Date().toISOString()} ${level} ${line}\n`, { mode: 0o600 });
  } catch {
    // Logging must never break a sync.
  }
}
