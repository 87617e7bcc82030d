// GitHub's refusals of what a pushed file holds, as a pre-receive hook for a loopback repo: a file
// over 100 MB (GH001) and a secret GitHub's push protection recognises (GH013, here a Stripe live
// key), in GitHub's words (https://docs.github.com/en/repositories/working-with-files/managing-large-files/about-large-files-on-github,
// https://docs.github.com/en/code-security/secret-scanning/working-with-secret-scanning-and-push-protection).
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const GITHUB_FILE_LIMIT = 100 * 1024 * 1024;

export function installPushLimits(gitDir: string): void {
  const hook = join(gitDir, "hooks", "pre-receive");
  writeFileSync(
    hook,
    `#!/bin/sh
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  bad=$(git rev-list --objects "$new" --not --all | while read oid path; do
    [ -n "$path" ] && [ "$(git cat-file -t "$oid")" = blob ] || continue
    size=$(git cat-file -s "$oid")
    if [ "$size" -gt ${GITHUB_FILE_LIMIT} ]; then
      echo "error: File $path is $(awk "BEGIN { printf \\"%.2f\\", $size / 1048576 }") MB; this exceeds GitHub's file size limit of 100.00 MB" >&2
      echo "error: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com." >&2
      echo x
    elif git cat-file -p "$oid" | grep -q 'sk_live_[0-9A-Za-z]\\{16,\\}'; then
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
