// The paths a server names when it refuses a push for what a file holds: GitHub's file size limit
// (GH001) and its push protection (GH013, a secret in a file). Its words, as git relays them.

/** GH001: "File <path> is 120.00 MB; this exceeds GitHub's file size limit of 100.00 MB". */
const TOO_LARGE = /File (\S+) is [\d.]+ MB; this exceeds GitHub's file size limit/g;
/** GH013: a violation's locations, "- commit: <sha>" then "path: <path>:<line>". */
const SECRET_AT = /path: (\S+?):\d+/g;

/** The repo paths a refusal names, each once, in the order named. */
export function refusedPaths(serverText: string): string[] {
  const paths = [...serverText.matchAll(TOO_LARGE), ...serverText.matchAll(SECRET_AT)].map((m) => m[1]!);
  return [...new Set(paths)];
}
