// Every version of every record is in git: list them, and bring an old one back.
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { decodeRecord } from "../../../core/record.js";
import { readRecords } from "../../../git/record-reader.js";
import { historyPathspec } from "../../../git/segments.js";
import type { GitRepo } from "../../../git/repo.js";
import { resolveKey } from "../../crypto/key-store.js";
import { runSync } from "../../sync/cycle.js";
import { withState } from "../../state/open-state.js";
import type { SyncContext } from "../../sync/context.js";
import { writeLocally } from "../../sync/local-edit.js";
import { parseRecordPath, recordPath, sessionFolder } from "../../../core/db-paths.js";
import { CREDENTIAL_FILES, CREDENTIALS_PREFIX } from "../../sources/credentials.js";
import type { OpenCodePaths } from "../../platform/paths.js";
import { buildSources } from "../../sync/sources.js";
import { TRACKED_MAIN } from "../../../git/refs.js";
import { EXIT, UsageError, type Output } from "../output.js";
import { exitFor, printReport, telling } from "./sync.js";

const SESSION_ID = /^ses_[A-Za-z0-9]+$/;

/**
 * What the user named, as a repo path: a session id stands for all of its records; a file's own
 * path (absolute, `~/…` or `./…`) for its record; anything else is a repo path (or a folder of them).
 */
export function targetPaths(target: string, opencode: OpenCodePaths): string {
  if (SESSION_ID.test(target)) return sessionFolder(target).slice(0, -1);
  if (!isAbsolute(target) && !/^~(\/|$)|^\.{1,2}(\/|$)/.test(target)) return target.replace(/^\/+|\/+$/g, "");
  const file = resolve(target.replace(/^~(?=\/|$)/, opencode.home));
  for (const [root, prefix] of [[opencode.config, "config"], [opencode.state, "state"]] as const) {
    const rel = relative(root, file);
    if (!rel.startsWith("..") && !isAbsolute(rel)) return rel ? `${prefix}/${rel.split(sep).join("/")}` : prefix;
  }
  if (dirname(file) === opencode.data && (CREDENTIAL_FILES as readonly string[]).includes(basename(file))) return CREDENTIALS_PREFIX + basename(file);
  throw new UsageError(`${target} is not a file oc-sync syncs: it syncs OpenCode's config folder ${opencode.config}, its state folder ${opencode.state} and the credentials in ${opencode.data}; give a file there, a record path (see 'oc-sync status') or a session id`);
}

/** The record whose versions stand for a path: a session's own row for a session's folder. */
function versionedRecord(path: string): string {
  const session = parseRecordPath(`${path}/session.json`);
  return session?.table === "session" && sessionFolder(session.id) === `${path}/` ? recordPath(session) : path;
}

async function tip(repo: GitRepo, ctx: { base: string | null }): Promise<string> {
  const t = (await repo.revParse(TRACKED_MAIN)) ?? ctx.base;
  if (!t) throw new UsageError("nothing synced yet: run 'oc-sync sync' first");
  return t;
}

export async function historyCommand(ctx: SyncContext, out: Output, target: string, limit: number): Promise<number> {
  return withState(ctx, async ({ repo, index }) => {
    const head = await tip(repo, { base: index.state.base });
    const path = targetPaths(target, ctx.opencode);
    const log = (await repo.git(["log", `-n${limit}`, "--format=%H%x09%cI%x09%s", head, "--", ...historyPathspec(path)])).stdout.toString().trim();
    const versions = [];
    for (const line of log ? log.split("\n") : []) {
      const [commit, date, subject] = line.split("\t");
      const file = versionedRecord(path);
      const blob = await repo.readBlob(`${commit}:${file}`);
      const rec = blob ? decodeRecord(file, blob) : undefined;
      versions.push({ commit: commit!, date: date!, subject: subject!, writer: rec?.writer ?? null, deleted: rec?.deleted ?? null, vector: rec?.vector ?? null });
      out.line(`${commit!.slice(0, 12)}  ${date}  ${rec ? `${rec.deleted ? "deleted" : "version"} by ${rec.writer}` : ""}  ${subject}`);
    }
    if (!versions.length) out.line(`no history for ${path}`);
    out.result({ path, versions });
    return EXIT.ok;
  });
}

export async function restoreCommand(ctx: SyncContext, out: Output, target: string, at: string): Promise<number> {
  const restored = await withState(ctx, async ({ repo, index }) => {
    const head = await tip(repo, { base: index.state.base });
    const commit = /^[0-9a-f]{7,40}$/.test(at) ? await repo.revParse(at) : (await repo.git(["rev-list", "-1", `--before=${at}`, head])).stdout.toString().trim() || null;
    if (!commit) throw new UsageError(`--at ${at}: no such commit, or nothing synced before that date`);
    const path = targetPaths(target, ctx.opencode);
    const paths = (await repo.listTree(commit, [path])).map((e) => e.path);
    if (!paths.length) throw new UsageError(`${path} did not exist at ${commit.slice(0, 12)}; see 'oc-sync history ${target}'`);
    const restored = [...(await readRecords(repo, commit, paths)).values()].filter((r) => !r.deleted);
    const key = (await resolveKey(repo, head, ctx.paths.dataKey, ctx.settings.passphrase)).key;
    const written = await writeLocally(index, buildSources(ctx.settings, ctx.opencode, key, (m) => ctx.log.log("warn", m)), restored);
    out.line(`restored ${written} record(s) of ${path} as of ${commit.slice(0, 12)}; syncing them as a new version`);
    return restored;
  });
  const report = await runSync(ctx, telling(out));
  printReport(out, report);
  out.result({ target, at, restored: restored.map((r) => r.path), sync: report });
  return exitFor(report);
}
