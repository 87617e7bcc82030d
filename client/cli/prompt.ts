// Reads a passphrase from the terminal without echoing it.
import { createInterface } from "node:readline";

export async function promptSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new Error(`${question.trim()} needed, but there is no terminal to ask on; set OC_SYNC_PASSPHRASE`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(question);
  out._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question("", resolve));
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}
