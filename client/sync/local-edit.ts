// Edits made on the user's behalf (restore an old version, pick a conflict's other side): the
// chosen content is written into OpenCode's data like any applied record, and the next scan
// then sees it as an ordinary local change — a new version that wins over what it replaces.
import { encodeRecord, makeRecord, type SyncRecord } from "../../core/record.js";
import { incrementVector } from "../../core/vector.js";
import { commitMessage } from "../../core/trailers.js";
import type { GitRepo } from "../../git/repo.js";
import { sessionOf } from "../../core/db-paths.js";
import type { Source } from "../sources/source.js";
import { entryFor, type IndexStore } from "../state/index-store.js";

export async function writeLocally(index: IndexStore, sources: readonly Source[], records: readonly SyncRecord[]): Promise<number> {
  let written = 0;
  for (const source of sources) {
    const mine = records.filter((r) => source.owns(r.path));
    if (!mine.length) continue;
    written += (await source.apply(mine)).applied.length;
  }
  // Session rows are scanned by time window; a restored row may be older than the window.
  const sessions = new Set(records.map((r) => sessionOf(r.path)).filter((s) => s !== undefined));
  index.update({ seen: Object.fromEntries([...sessions].map((s) => [s, null])) });
  return written;
}


/** Commits records that live only in the repo (conflict copies) as new versions on this machine's head. */
export async function commitRepoOnly(repo: GitRepo, index: IndexStore, machine: string, records: readonly SyncRecord[], message: string): Promise<string> {
  const parent = index.state.head;
  const next = records.map((r) => {
    const known = index.get(r.path);
    return makeRecord({ path: r.path, kind: r.kind, content: r.content, vector: incrementVector(known?.vector ?? r.vector, machine, Date.now()), updatedAt: Date.now(), writer: machine });
  });
  const commit = await repo.commit({ parents: parent ? [parent] : [], message: commitMessage(message, { machine }), changes: next.map((r) => [r.path, encodeRecord(r)] as const) });
  index.save(
    next.map((r) => entryFor(r, null, null)),
    { head: commit },
  );
  return commit;
}
