// A machine whose id turned out shared when it came back to a remote (a backup restored, then a
// detour to another remote before any sync: history seed 2791) made versions away from it under that
// id. Their counters for it run past those of the versions the other holder of the id made there,
// which this machine never saw, so they would replace them unmerged. Under its new id it offers them
// again as what they are: its edits over what it knew of that remote when it left.
import { readRecords } from "../../git/record-reader.js";
import type { GitRepo } from "../../git/repo.js";
import { canonicalVector } from "../../core/vector.js";
import type { IndexEntry } from "../state/index-store.js";
import type { Distrusted } from "../state/sync-state.js";

export interface HonestVersion {
  readonly known: IndexEntry;
  /** The version claimed more of the shared id than this machine knew: it is offered again as a new one. */
  readonly restamped: boolean;
}

/** `known` with the shared id's counter no higher than in this machine's own commits on that remote. */
export async function honestVersion(repo: GitRepo, d: Distrusted, known: IndexEntry): Promise<HonestVersion> {
  const claimed = known.vector[d.machine] ?? 0;
  if (claimed === 0) return { known, restamped: false };
  const there = await Promise.all(d.commits.map(async (c) => (await readRecords(repo, c, [known.path], () => {})).get(known.path)));
  const knew = Math.max(0, ...there.map((r) => r?.vector[d.machine] ?? 0));
  if (claimed <= knew) return { known, restamped: false };
  return { known: { ...known, vector: canonicalVector({ ...known.vector, [d.machine]: knew }) }, restamped: true };
}
