import { describe, expect, it } from "vitest";
import type { OverlapSink } from "../../core/conflict.js";
import { mergedLineEnding } from "../../core/line-endings.js";
import { mergeContent } from "../../core/merge/index.js";
import type { RecordKind } from "../../core/record.js";
import type { Side } from "../../core/strategy.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function merge(kind: RecordKind, base: string | null, main: string, branch: string, winner: Side = "main") {
  const overlaps: { at: string; main: string | null; branch: string | null }[] = [];
  const sink: OverlapSink = { overlap: (at, m, b) => (overlaps.push({ at, main: m, branch: b }), winner) };
  const out = dec(mergeContent(kind, base === null ? null : enc(base), enc(main), enc(branch), sink));
  return { out, overlaps };
}

describe("JSONC merge", () => {
  const base = `{
  // the model everyone uses
  "model": "a/b",
  "theme": "dark",
  /* keep these sorted */
  "agent": { "build": { "temperature": 0.1 } }
}
`;
  it("merges edits of different keys and keeps every comment", () => {
    const main = base.replace('"dark"', '"light"');
    const branch = base.replace("0.1", "0.3").replace('"a/b"', '"c/d"');
    const { out, overlaps } = merge("jsonc", base, main, branch);
    expect(overlaps).toEqual([]);
    expect(out).toContain("// the model everyone uses");
    expect(out).toContain("/* keep these sorted */");
    expect(out).toContain('"theme": "light"');
    expect(out).toContain('"model": "c/d"');
    expect(out).toContain('"temperature": 0.3');
  });

  it("keeps comments when the line merge would conflict but keys do not", () => {
    const b = `{\n  "a": 1,\n  "b": 2\n}\n`;
    const main = `{\n  // main's note\n  "a": 10,\n  "b": 2\n}\n`;
    const branch = `{\n  "a": 1,\n  "b": 20\n}\n`;
    const { out, overlaps } = merge("jsonc", b, main, branch);
    expect(overlaps).toEqual([]);
    expect(out).toContain("// main's note");
    expect(JSON.parse(out.replace(/\/\/.*\n/, "\n"))).toEqual({ a: 10, b: 20 });
  });

  it("reports the same key changed on both sides as one overlap at its JSON pointer", () => {
    const main = base.replace('"dark"', '"light"');
    const branch = base.replace('"dark"', '"solarized"');
    const { out, overlaps } = merge("jsonc", base, main, branch, "branch");
    expect(overlaps).toEqual([{ at: "/theme", main: '"light"', branch: '"solarized"' }]);
    expect(out).toContain('"theme": "solarized"');
    expect(out).toContain("// the model everyone uses");
  });

  it("treats identical concurrent edits as no conflict", () => {
    const edited = base.replace('"dark"', '"light"');
    expect(merge("jsonc", base, edited, edited).overlaps).toEqual([]);
  });
});

describe("JSON merge", () => {
  it("merges arrays of objects with an id as maps and reports conflicting element edits", () => {
    const base = JSON.stringify({ todos: [{ id: "1", s: "open" }, { id: "2", s: "open" }] });
    const main = JSON.stringify({ todos: [{ id: "1", s: "done" }, { id: "2", s: "open" }, { id: "3", s: "open" }] });
    const branch = JSON.stringify({ todos: [{ id: "1", s: "wontfix" }, { id: "4", s: "open" }] });
    const { out, overlaps } = merge("json", base, main, branch);
    expect(JSON.parse(out)).toEqual({ todos: [{ id: "1", s: "done" }, { id: "3", s: "open" }, { id: "4", s: "open" }] });
    expect(overlaps).toEqual([{ at: "/todos[id=1]/s", main: '"done"', branch: '"wontfix"' }]);
  });

  it("treats deleting a key against editing it as an overlap", () => {
    const { overlaps } = merge("json", '{"a":1,"b":1}', '{"b":1}', '{"a":2,"b":1}');
    expect(overlaps).toEqual([{ at: "/a", main: null, branch: "2" }]);
  });

  it("falls back to a whole-value decision for corrupt JSON, keeping the loser", () => {
    const { out, overlaps } = merge("json", "{}", "{ broken", '{"a":1}', "branch");
    expect(out).toBe('{"a":1}');
    expect(overlaps).toEqual([{ at: "", main: "{ broken", branch: '{"a":1}' }]);
  });
});

describe("text merge (diff3)", () => {
  const base = "# Agents\n\nline one\nline two\nline three\n";
  it("merges non-overlapping line edits", () => {
    const { out, overlaps } = merge("text", base, base.replace("one", "ONE"), base.replace("three", "THREE"));
    expect(out).toBe("# Agents\n\nline ONE\nline two\nline THREE\n");
    expect(overlaps).toEqual([]);
  });

  it("decides an overlapping hunk and keeps the losing lines", () => {
    const { out, overlaps } = merge("text", base, base.replace("two", "2 (main)"), base.replace("two", "2 (branch)"), "branch");
    expect(out).toContain("line 2 (branch)");
    expect(overlaps).toHaveLength(1);
    expect(overlaps[0]!.main).toBe("line 2 (main)\n");
  });
});

describe("JSONL merge", () => {
  it("keeps both sides' appended entries in order without duplicates", () => {
    const base = '{"input":"a"}\n{"input":"b"}\n';
    const main = base + '{"input":"c"}\n';
    const branch = base + '{"input":"d"}\n{"input":"c"}\n';
    const { out, overlaps } = merge("jsonl", base, main, branch);
    expect(out).toBe('{"input":"a"}\n{"input":"b"}\n{"input":"c"}\n{"input":"d"}\n');
    expect(overlaps).toEqual([]);
  });

  it("keeps an entry trimmed on one side trimmed", () => {
    const base = "1\n2\n3\n";
    expect(merge("jsonl", base, "2\n3\n", "1\n2\n3\n4\n").out).toBe("2\n3\n4\n");
  });
});

describe("encrypted entries", () => {
  it("merges entry by entry on ciphertext", () => {
    const base = JSON.stringify({ openai: "c1", anthropic: "c2" });
    const main = JSON.stringify({ openai: "c1x", anthropic: "c2" });
    const branch = JSON.stringify({ openai: "c1", anthropic: "c2", groq: "c3" });
    const { out, overlaps } = merge("encrypted-entries", base, main, branch);
    expect(JSON.parse(out)).toEqual({ openai: "c1x", anthropic: "c2", groq: "c3" });
    expect(overlaps).toEqual([]);
  });
});

describe("opaque", () => {
  it("decides the whole value", () => {
    const { out, overlaps } = merge("opaque", "x", "y", "z", "branch");
    expect(out).toBe("z");
    expect(overlaps).toHaveLength(1);
  });
});

describe("encrypted entries compared by fingerprint", () => {
  // "v2:<fingerprint>:<ciphertext>": the same value encrypted twice has one fingerprint, two ciphertexts.
  const v = (fp: string, nonce: string) => `v2:${fp}:${nonce}`;
  it("a value re-encrypted unchanged on one side is not an edit: the other side's change wins without a conflict", () => {
    const base = JSON.stringify({ mine: v("key3", "n1"), shared: v("s1", "n2") });
    const main = JSON.stringify({ mine: v("key3", "n9"), shared: v("s2", "n3") });
    const branch = JSON.stringify({ mine: v("key7", "n4"), shared: v("s1", "n2") });
    const { out, overlaps } = merge("encrypted-entries", base, main, branch);
    expect(JSON.parse(out)).toEqual({ mine: v("key7", "n4"), shared: v("s2", "n3") });
    expect(overlaps).toEqual([]);
  });

  it("two real edits of one entry are an overlap, with both ciphertexts kept for the conflict", () => {
    const base = JSON.stringify({ openai: v("a", "n1") });
    const { out, overlaps } = merge("encrypted-entries", base, JSON.stringify({ openai: v("b", "n2") }), JSON.stringify({ openai: v("c", "n3") }), "branch");
    expect(JSON.parse(out)).toEqual({ openai: v("c", "n3") });
    expect(overlaps).toEqual([{ at: "/openai", main: JSON.stringify(v("b", "n2")), branch: JSON.stringify(v("c", "n3")) }]);
  });
});

describe("content that is not what its kind says", () => {
  it("merges a record that is not valid UTF-8 as one whole value, shown as base64", () => {
    const sink: OverlapSink & { seen: (string | null)[] } = { seen: [], overlap: (_at, m, b) => (sink.seen.push(m, b), "branch") };
    const out = mergeContent("jsonc", enc("{}"), Uint8Array.from([0x7b, 0xff, 0x7d]), enc('{"a":1}'), sink);
    expect(dec(out)).toBe('{"a":1}');
    expect(sink.seen).toEqual([`base64:${Buffer.from([0x7b, 0xff, 0x7d]).toString("base64")}`, '{"a":1}']);
  });

  it("merges encrypted entries that do not parse as one whole value instead of failing the merge", () => {
    const { out, overlaps } = merge("encrypted-entries", '{"a":"v1:x"}', "{ not json", '{"a":"v1:y"}', "branch");
    expect(out).toBe('{"a":"v1:y"}');
    expect(overlaps).toHaveLength(1);
  });

  it("lets an error inside a merge through instead of passing it off as a whole-record conflict", () => {
    // It fails once: were the error swallowed, the whole-record fallback would ask it again and carry on.
    let calls = 0;
    const failing: OverlapSink = {
      overlap: () => {
        if (calls++ === 0) throw new TypeError("a bug in the sink");
        return "main";
      },
    };
    expect(() => mergeContent("jsonc", enc('{"a":0}'), enc('{"a":1}'), enc('{"a":2}'), failing)).toThrow("a bug in the sink");
  });
});

describe("line endings", () => {
  const crlf = (s: string) => s.replace(/\n/g, "\r\n");
  const doc = "# Review\n\nBe thorough.\nCheck tests.\nBe kind.\n";

  it("a CRLF edit and an LF edit of other lines merge cleanly; the side that kept the base's endings does not decide them", () => {
    const base = crlf(doc);
    const windows = crlf(doc.replace("Be thorough.", "Be very thorough."));
    const mac = doc.replace("Be kind.", "Be kind and brief.");
    const { out, overlaps } = merge("text", base, windows, mac);
    expect(overlaps).toEqual([]);
    expect(out).toBe("# Review\n\nBe very thorough.\nCheck tests.\nBe kind and brief.\n");
    // Both sides in CRLF: the result too.
    expect(merge("text", base, windows, crlf(mac)).out).toBe(crlf("# Review\n\nBe very thorough.\nCheck tests.\nBe kind and brief.\n"));
  });

  it("JSONC with CRLF merges by key with an LF edit and keeps its comments", () => {
    const base = crlf(`{\n  // models\n  "model": "a/b",\n  "theme": "dark"\n}\n`);
    const main = base.replace('"dark"', '"light"');
    const branch = `{\n  // models\n  "model": "c/d",\n  "theme": "dark"\n}\n`;
    const { out, overlaps } = merge("jsonc", base, main, branch);
    expect(overlaps).toEqual([]);
    expect(out.replace(/\r\n/g, "\n")).toBe(`{\n  // models\n  "model": "c/d",\n  "theme": "light"\n}\n`);
  });

  it("a file that mixes endings is merged as it is", () => {
    const base = "a\r\nb\nc\n";
    const { out } = merge("text", base, "a\r\nb\nc\nd\n", "z\na\r\nb\nc\n");
    expect(out).toBe("z\na\r\nb\nc\nd\n");
  });

  it.each([
    ["crlf", "crlf", "lf", "lf"],
    ["crlf", "lf", "crlf", "lf"],
    ["lf", "crlf", "crlf", "crlf"],
    [undefined, "crlf", "lf", "crlf"],
  ] as const)("base %s, main %s, branch %s: the merge ends lines with %s", (base, main, branch, expected) => {
    expect(mergedLineEnding(base, main, branch)).toBe(expected);
  });
});
