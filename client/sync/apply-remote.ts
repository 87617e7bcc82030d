// fetch → reconcile → apply: writes the records of a main commit into OpenCode's data, source by
// source. A record whose local version is ahead of or concurrent with it is left alone (it is
// pending a push or a merge). Each source remembers the commit it last applied, so one that could
// not write (no database yet, a newer schema, a busy database) catches up on a later run.
import type { SyncRecord } from "../../core/record.js";
import { compareVectors } from "../../core/vector.js";
import { readRecords } from "../../git/merge-branch.js";
import type { GitRepo } from "../../git/repo.js";
import { SourceError, type Source } from "../sources/source.js";
import { crashPoint } from "./crash-points.js";
import { entryFor, type IndexEntry, type IndexStore } from "../state/index-store.js";

export interface ApplyReport {
  readonly applied: number;
  /** Records applied per source category (e.g. config: changes that need an OpenCode restart). */
  readonly bySource: Readonly<Record<string, number>>;
  readonly skippedPending: number;
  readonly problems: readonly string[];
}

const BATCH = 5000;

export const appliedKey = (source: Source) => `applied:${source.category}`;

export async function applyCommit(repo: GitRepo, index: IndexStore, sources: readonly Source[], to: string): Promise<ApplyReport> {
  let applied = 0;
  let skippedPending = 0;
  const bySource: Record<string, number> = {};
  const problems: string[] = [];
  for (const source of sources) {
    const from = index.getMeta(appliedKey(source)) ?? null;
    if (from === to) continue;
    const changed = (await repo.diff(from, to, source.prefixes)).filter((c) => c.oid !== null).map((c) => c.path);
    try {
      for (let i = 0; i < changed.length; i += BATCH) {
        const records = await readRecords(repo, to, changed.slice(i, i + BATCH));
        const wanted: SyncRecord[] = [];
        for (const r of records.values()) {
          const decision = needsApply(r, index.get(r.path));
          if (decision === "pending") skippedPending++;
          if (decision === "apply") wanted.push(r);
        }
        const done = await source.apply(wanted);
        if (done.length) crashPoint("mid-apply");
        const byPath = new Map(wanted.map((r) => [r.path, r]));
        const entries: IndexEntry[] = done.map((a) => entryFor(byPath.get(a.path)!, a.localHash, a.stat));
        index.save(entries);
        applied += done.length;
        bySource[source.category] = (bySource[source.category] ?? 0) + done.length;
      }
      index.setMeta({ [appliedKey(source)]: to });
    } catch (e) {
      if (!(e instanceof SourceError)) throw e;
      problems.push(e.message);
    }
  }
  return { applied, bySource, skippedPending, problems };
}

function needsApply(remote: SyncRecord, local: IndexEntry | undefined): "apply" | "skip" | "pending" {
  if (!local) return remote.deleted ? "skip" : "apply";
  switch (compareVectors(remote.vector, local.vector)) {
    case "ahead":
      return "apply";
    case "equal":
      // Known version, but never written here (e.g. the database did not exist yet).
      return local.localHash === null && !remote.deleted ? "apply" : "skip";
    default:
      return "pending";
  }
}
