// Secrets never reach a log line or an error: every known spelling of one is replaced.

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("***");
  return out;
}
