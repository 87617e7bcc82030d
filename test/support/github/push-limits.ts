// GitHub's limits on a push, for a loopback repo, in GitHub's words:
// - a file over 100 MiB is refused (GH001), one over 50 MiB is let through with a warning
//   (https://docs.github.com/en/repositories/working-with-files/managing-large-files/about-large-files-on-github;
//   the warning as users see it: https://github.com/coderdojo-japan/coderdojo.jp/issues/1710);
// - a secret GitHub's push protection recognises is refused (GH013, here a Stripe live key)
//   (https://docs.github.com/en/code-security/secret-scanning/working-with-secret-scanning-and-push-protection);
// - a push whose pack is over 2 GiB is refused
//   (https://docs.github.com/en/get-started/using-git/troubleshooting-the-2-gb-push-limit). GitHub's
//   text, "remote: fatal: pack exceeds maximum allowed size (2.00 GiB)" then "error: remote unpack
//   failed: index-pack failed" (as quoted at https://codingkata.tardate.com/tools/git/batch_push/), is
//   git's own refusal of a pack over receive.maxInputSize, so that is what enforces it here: git
//   counts the pack's bytes as they arrive, before anything lands. (A git older than 2.40, as here,
//   leaves out the "(2.00 GiB)".) The docs say a user may instead see only "fatal: the remote end hung
//   up unexpectedly"; the stand-in always gives the message.
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MIB = 1024 * 1024;
export const GITHUB_FILE_LIMIT = 100 * MIB;
export const GITHUB_FILE_WARNING = 50 * MIB;
export const GITHUB_PUSH_LIMIT = 2048 * MIB;

export interface PushLimitOptions {
  /** The largest pack one push may send (GitHub: 2 GiB); tests set it lower. */
  readonly pushLimitBytes?: number;
}

export function installPushLimits(gitDir: string, options: PushLimitOptions = {}): void {
  const limit = spawnSync("git", ["--git-dir", gitDir, "config", "receive.maxInputSize", String(options.pushLimitBytes ?? GITHUB_PUSH_LIMIT)]);
  if (limit.status !== 0) throw new Error(`could not set receive.maxInputSize: ${limit.stderr.toString()}`);
  const hook = join(gitDir, "hooks", "pre-receive");
  writeFileSync(
    hook,
    `#!/bin/sh
zero=0000000000000000000000000000000000000000
mb() { awk "BEGIN { printf \\"%.2f\\", $1 / 1048576 }"; }
status=0
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  bad=$(git rev-list --objects "$new" --not --all | while read oid path; do
    [ -n "$path" ] && [ "$(git cat-file -t "$oid")" = blob ] || continue
    size=$(git cat-file -s "$oid")
    if [ "$size" -gt ${GITHUB_FILE_LIMIT} ]; then
      echo "error: File $path is $(mb "$size") MB; this exceeds GitHub's file size limit of 100.00 MB" >&2
      echo "error: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com." >&2
      echo x
      continue
    fi
    # Only a warning: the push lands.
    [ "$size" -gt ${GITHUB_FILE_WARNING} ] && printf '%s\\n' "warning: See https://gh.io/lfs for more information." "warning: File $path is $(mb "$size") MB; this is larger than GitHub's recommended maximum file size of 50.00 MB" "warning: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com." >&2
    if git cat-file -p "$oid" | grep -q 'sk_live_[0-9A-Za-z]\\{16,\\}'; then
      printf '%s\\n' "error: GH013: Repository rule violations found for $ref." "" "- GITHUB PUSH PROTECTION" "  Resolve the following violations before pushing again" "" "  - Push cannot contain secrets" "" "    —— Stripe API Key ——————————————————————" "     locations:" "       - commit: $new" "         path: $path:1" >&2
      echo x
    fi
  done | grep -c x)
  [ "$bad" -gt 0 ] && status=1
done
exit $status
`,
  );
  chmodSync(hook, 0o755);
}
