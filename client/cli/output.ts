// How commands talk: plain lines for people, one JSON document with --json for scripts, and
// exit codes that mean the same thing everywhere.
export const EXIT = {
  ok: 0,
  /** Something failed; the message says what to do. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** It worked, but something needs the user (conflicts to decide, a halted mass delete). */
  attention: 3,
} as const;

export interface Output {
  readonly json: boolean;
  /** A line for people (suppressed with --json). */
  line(text: string): void;
  /** Progress for long operations, on stderr so stdout stays clean. */
  progress(text: string): void;
  /** A line for people about what the command is doing meanwhile, on stderr, terminal or not (suppressed with --json). */
  note(text: string): void;
  /** The machine-readable result (printed only with --json). */
  result(value: unknown): void;
}

/** `write` receives each finished line (stdout by default; the plugin's tool collects them instead). */
export function createOutput(json: boolean, mask: (s: string) => string = (s) => s, write: (line: string) => void = (l) => process.stdout.write(l + "\n")): Output {
  // A progress line is redrawn in place (\r); what is printed next first clears it, or would run on after it.
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) process.stderr.write("\r\x1b[K");
    progressShown = false;
  };
  return {
    json,
    line: (text) => {
      if (json) return;
      clearProgress();
      write(mask(text));
    },
    progress: (text) => {
      if (json || !process.stderr.isTTY) return;
      process.stderr.write(`\r\x1b[K${mask(text)}`);
      progressShown = true;
    },
    note: (text) => {
      if (json) return;
      clearProgress();
      process.stderr.write(`${mask(text)}\n`);
    },
    result: (value) => {
      if (json) write(mask(JSON.stringify(value, null, 2)));
    },
  };
}

export class UsageError extends Error {}
