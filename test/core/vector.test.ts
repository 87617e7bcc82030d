import { describe, expect, it } from "vitest";
import { canonicalVector, compareVectors, incrementVector, mergeVectors } from "../../core/vector.js";

describe("version vectors", () => {
  it("compares equal, ahead, behind and concurrent", () => {
    expect(compareVectors({ a: 1 }, { a: 1 })).toBe("equal");
    expect(compareVectors({}, { a: 0 })).toBe("equal");
    expect(compareVectors({ a: 2 }, { a: 1 })).toBe("ahead");
    expect(compareVectors({ a: 1, b: 1 }, { a: 1 })).toBe("ahead");
    expect(compareVectors({ a: 1 }, { a: 1, b: 1 })).toBe("behind");
    expect(compareVectors({ a: 2 }, { b: 1 })).toBe("concurrent");
    expect(compareVectors({ a: 2, b: 1 }, { a: 1, b: 2 })).toBe("concurrent");
  });

  it("merges element-wise and increments one machine", () => {
    expect(mergeVectors({ a: 2, b: 1 }, { b: 3, c: 1 })).toEqual({ a: 2, b: 3, c: 1 });
    expect(incrementVector({ a: 2 }, "b")).toEqual({ a: 2, b: 1 });
    expect(incrementVector({ a: 2 }, "a")).toEqual({ a: 3 });
  });

  it("serialises the same vector to the same bytes whatever the key order", () => {
    expect(JSON.stringify(canonicalVector({ z: 1, a: 2, m: 0 }))).toBe('{"a":2,"z":1}');
  });

  it("a merged vector dominates both inputs", () => {
    const a = { x: 3, y: 1 };
    const b = { x: 1, y: 4 };
    const m = mergeVectors(a, b);
    expect(compareVectors(m, a)).toBe("ahead");
    expect(compareVectors(m, b)).toBe("ahead");
  });
});
