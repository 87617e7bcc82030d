// Property-based checks of the merge laws and of convergence across simulated machines.
// OC_SYNC_PROPERTY_RUNS raises the run count (scripts/property-soak.sh runs it long).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Conflict, OverlapSink } from "../../core/conflict.js";
import { mergeContent } from "../../core/merge/index.js";
import { reconcile } from "../../core/reconcile.js";
import { makeRecord, type RecordKind, type RecordSet, type SyncRecord } from "../../core/record.js";
import { strategies, type Strategy } from "../../core/strategy.js";
import { compareVectors, incrementVector, type VersionVector } from "../../core/vector.js";
import { dec, enc } from "./helpers.js";

const runs = Number(process.env.OC_SYNC_PROPERTY_RUNS ?? 500);
const failOnOverlap: OverlapSink = { overlap: () => { throw new Error("no overlap expected"); } };

const jsonObject = fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.oneof(fc.integer(), fc.string(), fc.dictionary(fc.constantFrom("x", "y"), fc.integer())));
const textDoc = fc.array(fc.constantFrom("alpha\n", "beta\n", "gamma\n", "delta\n", "\n"), { maxLength: 8 }).map((l) => l.join(""));
const kinds: [RecordKind, fc.Arbitrary<string>][] = [
  ["json", jsonObject.map((o) => JSON.stringify(o))],
  ["jsonc", jsonObject.map((o) => JSON.stringify(o, null, 2))],
  ["text", textDoc],
  ["opaque", fc.string()],
];

describe("merge laws", () => {
  for (const [kind, arb] of kinds) {
    it(`${kind}: merge(b, a, a) = a, merge(b, b, x) = x, merge(b, x, b) = x`, () => {
      fc.assert(
        fc.property(arb, arb, (b, a) => {
          const m = (base: string, main: string, branch: string) => dec(mergeContent(kind, enc(base), enc(main), enc(branch), failOnOverlap));
          expect(m(b, a, a)).toBe(a);
          expect(m(b, b, a)).toBe(a);
          expect(m(b, a, b)).toBe(a);
        }),
        { numRuns: runs },
      );
    });
  }
});

// A simulated machine: the main snapshot it last integrated, and its own working records.
interface Machine {
  id: string;
  base: RecordSet;
  local: Map<string, SyncRecord>;
}

interface Write {
  machine: string;
  path: string;
  key: string | null;
  value: string | null;
  vector: VersionVector;
}

type Op = { t: "set"; m: number; path: number; key: string } | { t: "del"; m: number; path: number } | { t: "sync"; m: number };

const opArb = (machines: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant("set" as const), m: fc.nat(machines - 1), path: fc.nat(3), key: fc.constantFrom("a", "b", "c") }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("del" as const), m: fc.nat(machines - 1), path: fc.nat(3) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant("sync" as const), m: fc.nat(machines - 1) }) },
  );

function simulate(machineCount: number, ops: Op[], strategy: Strategy) {
  let main: RecordSet = new Map();
  let clock = 0;
  const machines: Machine[] = Array.from({ length: machineCount }, (_, i) => ({ id: `m${i}`, base: main, local: new Map() }));
  const writes: Write[] = [];
  const conflicts: Conflict[] = [];
  const sync = (m: Machine) => {
    const r = reconcile(m.base, main, m.local, { strategy });
    conflicts.push(...r.conflicts);
    main = r.records;
    m.base = main;
    m.local = new Map(main);
    return r;
  };
  for (const op of ops) {
    const m = machines[op.m]!;
    if (op.t === "sync") {
      sync(m);
      continue;
    }
    const path = `r${op.path}`;
    const cur = m.local.get(path);
    const vector = incrementVector(cur?.vector ?? {}, m.id);
    const updatedAt = ++clock;
    if (op.t === "del") {
      if (!cur || cur.deleted) continue;
      m.local.set(path, makeRecord({ path, kind: "json", content: null, vector, updatedAt, writer: m.id }));
      writes.push({ machine: m.id, path, key: null, value: null, vector });
    } else {
      const obj = cur && !cur.deleted ? JSON.parse(dec(cur.content)!) : {};
      const value = `${m.id}@${updatedAt}`;
      obj[op.key] = value;
      m.local.set(path, makeRecord({ path, kind: "json", content: enc(JSON.stringify(obj)), vector, updatedAt, writer: m.id }));
      writes.push({ machine: m.id, path, key: op.key, value, vector });
    }
  }
  for (let round = 0; round < 2; round++) for (const m of machines) sync(m);
  return { main, machines, writes, conflicts };
}

function accountedFor(w: Write, main: RecordSet, writes: Write[], conflicts: Conflict[]): boolean {
  const final = main.get(w.path);
  const supersededBy = (o: Write) => o.path === w.path && (o.key === null || w.key === null || o.key === w.key) && compareVectors(o.vector, w.vector) === "ahead";
  if (writes.some(supersededBy)) return true;
  const here = conflicts.filter((c) => c.path === w.path);
  if (w.key === null) return final?.deleted === true || here.some((c) => c.lost.value === null);
  if (final && !final.deleted && JSON.parse(dec(final.content)!)[w.key] === w.value) return true;
  return here.some((c) => c.lost.value !== null && c.lost.value.includes(w.value!));
}

describe("convergence of simulated machines syncing through reconcile", () => {
  it("all replicas converge and every write is kept, superseded, or a conflict record", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5 }).chain((n) => fc.tuple(fc.constant(n), fc.array(opArb(n), { maxLength: 40 }), fc.constantFrom(...strategies))),
        ([n, ops, strategy]) => {
          const { main, machines, writes, conflicts } = simulate(n, ops, strategy);
          for (const m of machines) expect([...m.local.entries()]).toEqual([...main.entries()]);
          for (const w of writes) expect(accountedFor(w, main, writes, conflicts), JSON.stringify(w)).toBe(true);
          const again = reconcile(main, main, main, { strategy });
          expect(again.changed).toEqual([]);
        },
      ),
      { numRuns: runs },
    );
  });
});
