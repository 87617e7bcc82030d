// The paths GitHub names when it refuses a push for a file's content, from its own words.
import { describe, expect, it } from "vitest";
import { pushTooLarge, refusedPaths } from "../../git/push-refusal.js";

describe("refusedPaths", () => {
  it.each([
    ["GH001, a file over 100 MB", "remote: error: File db/sessions/ses_1/parts/msg_1/prt_1.json is 120.00 MB; this exceeds GitHub's file size limit of 100.00 MB | remote: error: GH001: Large files detected.", ["db/sessions/ses_1/parts/msg_1/prt_1.json"]],
    [
      "GH013, secrets at two places in one file and one in another",
      "remote: error: GH013: Repository rule violations found for refs/heads/main. | remote: - GITHUB PUSH PROTECTION | remote:     —— Stripe API Key —— | remote:      locations: | remote:        - commit: 8728dbe67 | remote:          path: config/AGENTS.md:4 | remote:        - commit: 8728dbe67 | remote:          path: config/AGENTS.md:9 | remote:        - commit: 8728dbe67 | remote:          path: state/prompt-history.jsonl:120",
      ["config/AGENTS.md", "state/prompt-history.jsonl"],
    ],
    ["a hook's own words, no path", "remote: refusing: file too large | ! [remote rejected] main -> main (pre-receive hook declined)", []],
    ["a workflow permission refusal", "refusing to allow a Personal Access Token to create or update workflow `.github/workflows/x.yml` without `workflow` scope", []],
  ])("%s", (_, text, paths) => {
    expect(refusedPaths(text)).toEqual(paths);
  });
});

describe("pushTooLarge", () => {
  it.each([
    ["GitHub's 2 GiB limit, as git relays it", "remote: fatal: pack exceeds maximum allowed size (2.00 GiB) | error: remote unpack failed: index-pack failed", true],
    ["an older git on the server, without the size", "remote: fatal: pack exceeds maximum allowed size | error: remote unpack failed: unpack-objects abnormal exit", true],
    ["GH001 names a file, not the push", "remote: error: File a.json is 120.00 MB; this exceeds GitHub's file size limit of 100.00 MB", false],
    ["the 50 MB warning is no refusal", "remote: warning: File a.json is 55.00 MB; this is larger than GitHub's recommended maximum file size of 50.00 MB", false],
  ])("%s", (_, text, tooLarge) => {
    expect(pushTooLarge(text)).toBe(tooLarge);
  });
});
