// The sync repo's format marker, as git holds it: read by the client before it syncs and by every
// merge (the Action's too), so no oc-sync writes into, or merges, a layout it does not know.
import { FORMAT_PATH, FORMAT_VERSION } from "../core/layout.js";
import { SEGMENTS_FORMAT } from "../core/segment.js";
import type { GitRepo } from "./repo.js";

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormatError";
  }
}

/** The format at `commit`: its number, or what is wrong with the marker. */
export async function readFormat(repo: GitRepo, commit: string): Promise<number | "missing" | "not JSON" | "no number"> {
  const blob = await repo.readBlob(`${commit}:${FORMAT_PATH}`);
  if (!blob) return "missing";
  let format: unknown;
  try {
    format = (JSON.parse(blob.toString("utf8")) as { format?: unknown }).format;
  } catch {
    return "not JSON";
  }
  return typeof format === "number" ? format : "no number";
}

/** Refuses a repo whose format is newer than this oc-sync's: what it would write or merge there, newer ones could not read. */
export function refuseNewer(format: number): void {
  if (format > FORMAT_VERSION) throw new FormatError(`the sync repo uses format ${format}; this oc-sync understands up to ${FORMAT_VERSION}. Upgrade oc-sync on this machine`);
}

/** Whether sessions new to the repo at `commit` are written as segments there. */
export async function writesSegments(repo: GitRepo, commit: string): Promise<boolean> {
  const format = await readFormat(repo, commit);
  return typeof format === "number" && format >= SEGMENTS_FORMAT;
}
