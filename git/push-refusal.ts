// What a server says when it refuses a push for what it carries: the paths it names for what a file
// holds (GitHub's file size limit GH001, its push protection GH013: a secret in a file), and a pack
// too large as a whole (GitHub's 2 GiB). Its words, as git relays them.

/** GH001: "File <path> is 120.00 MB; this exceeds GitHub's file size limit of 100.00 MB". */
const TOO_LARGE = /File (\S+) is [\d.]+ MB; this exceeds GitHub's file size limit/g;
/** GH013: a violation's locations, "- commit: <sha>" then "path: <path>:<line>". */
const SECRET_AT = /path: (\S+?):\d+/g;

/** The repo paths a refusal names, each once, in the order named. */
export function refusedPaths(serverText: string): string[] {
  const paths = [...serverText.matchAll(TOO_LARGE), ...serverText.matchAll(SECRET_AT)].map((m) => m[1]!);
  return [...new Set(paths)];
}

/**
 * git's own refusal of a pack over receive.maxInputSize, which is GitHub's for a push over 2 GiB:
 * "fatal: pack exceeds maximum allowed size (2.00 GiB)" (older gits leave out the size).
 */
const PACK_TOO_LARGE = /pack exceeds maximum allowed size/;

/** The server refused the push for the size of its pack, not for anything in it. */
export function pushTooLarge(serverText: string): boolean {
  return PACK_TOO_LARGE.test(serverText);
}
