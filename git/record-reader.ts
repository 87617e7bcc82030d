// Records out of commits: the blobs git holds, decoded into the record model. Used by the
// merge (client and Action alike), the apply, the CLI's history and conflicts.
import { decodeRecord, RecordFormatError, type SyncRecord } from "../core/record.js";
import type { GitRepo } from "./repo.js";

/**
 * Records at `commit` for `paths` (absent paths are left out). A damaged record throws, unless
 * `onDamaged` is given: then it is reported there and left out.
 */
export async function readRecords(repo: GitRepo, commit: string | null, paths: Iterable<string>, onDamaged?: (e: RecordFormatError) => void): Promise<Map<string, SyncRecord>> {
  if (!commit) return new Map();
  return readRecordObjects(repo, [...paths].map((p) => [p, `${commit}:${p}`]), onDamaged);
}

/**
 * Records from their blobs, each given as `[path, object name]`: an oid when a diff or tree listing
 * already gave it (git then skips walking the trees from the commit to the path, which dominated a
 * first pull of 200,000 records), else `<commit>:<path>`.
 */
export async function readRecordObjects(repo: GitRepo, objects: readonly (readonly [string, string])[], onDamaged?: (e: RecordFormatError) => void): Promise<Map<string, SyncRecord>> {
  const out = new Map<string, SyncRecord>();
  const blobs = await repo.readBlobs(objects.map(([, name]) => name));
  objects.forEach(([p], j) => {
    const b = blobs[j];
    if (!b) return;
    try {
      out.set(p, decodeRecord(p, b));
    } catch (e) {
      if (!(e instanceof RecordFormatError) || !onDamaged) throw e;
      onDamaged(e);
    }
  });
  return out;
}
