// A version vector: one counter per machine that ever wrote a record.
// Absent entries count as zero, so vectors of different width compare cleanly.

export type VersionVector = Readonly<Record<string, number>>;

export type Ordering = "equal" | "ahead" | "behind" | "concurrent";

export const emptyVector: VersionVector = Object.freeze({});

/** How `a` relates to `b`: ahead means `a` has seen everything `b` has, and more. */
export function compareVectors(a: VersionVector, b: VersionVector): Ordering {
  let aGreater = false;
  let bGreater = false;
  for (const id of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[id] ?? 0;
    const y = b[id] ?? 0;
    if (x > y) aGreater = true;
    else if (y > x) bGreater = true;
    if (aGreater && bGreater) return "concurrent";
  }
  if (aGreater) return "ahead";
  if (bGreater) return "behind";
  return "equal";
}

/** Element-wise maximum: the least vector that has seen both. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = { ...a };
  for (const [id, n] of Object.entries(b)) out[id] = Math.max(out[id] ?? 0, n);
  return canonicalVector(out);
}

/**
 * The next version by `machine`. Its counter moves past its last one and, given the time, past the
 * clock (as Syncthing does, here in milliseconds, so quick edits do not run the counter ahead of the
 * clock): a machine whose own state was lost or restored from a backup starts from an older counter,
 * and a plain +1 would make its new edit look older than what it wrote before, to be overwritten by it.
 */
export function incrementVector(v: VersionVector, machine: string, nowMs = 0): VersionVector {
  return canonicalVector({ ...v, [machine]: Math.max((v[machine] ?? 0) + 1, Math.floor(nowMs)) });
}

/** Sorted keys, zeros dropped: equal vectors always serialise to the same bytes. */
export function canonicalVector(v: VersionVector): VersionVector {
  const out: Record<string, number> = {};
  for (const id of Object.keys(v).sort()) {
    const n = v[id] ?? 0;
    if (n > 0) out[id] = n;
  }
  return out;
}

/** `a` is `b` or an ancestor of it: everything `a` has seen, `b` has seen too. */
export function atMost(a: VersionVector, b: VersionVector): boolean {
  const o = compareVectors(a, b);
  return o === "behind" || o === "equal";
}

/** Element-wise minimum: the greatest vector both have seen. No common version can be newer. */
export function meetVectors(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = {};
  for (const [id, n] of Object.entries(a)) out[id] = Math.min(n, b[id] ?? 0);
  return canonicalVector(out);
}

/** Total of all counters: among versions ordered by descent, the later one weighs more. */
export function vectorWeight(v: VersionVector): number {
  return Object.values(v).reduce((s, n) => s + n, 0);
}
