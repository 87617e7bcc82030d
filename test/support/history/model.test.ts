// The history check's own judgement of a key one machine writes, table-tested: a check that
// cannot fail proves nothing.
import { describe, expect, it } from "vitest";
import { ownUnaccounted, type SharedWrite } from "./model.js";

const w = (value: string, prev: string | undefined): SharedWrite => ({ machine: "m0", value, prev });

describe("a key one machine writes", () => {
  const chain = [w("a", undefined), w("b", "a"), w("c", "b")];
  // The third write saw only the first: a backup restored after the second.
  const restored = [w("a", undefined), w("b", "a"), w("c", "a")];
  it.each([
    ["each write saw the one before: the last one wins", chain, "c", "", []],
    ["each write saw the one before: an older value is wrong even when the last is a conflict", chain, "b", '"c"', ["b instead of the last write c"]],
    ["a write missed one: either may be the value when the other is a conflict", restored, "b", '"c"', []],
    ["a write missed one: the other is lost unless it is a conflict", restored, "c", "", ["write b (written on m0) is neither the value, nor replaced knowingly, nor a conflict"]],
    ["a write missed one: a value never written is wrong", restored, "z", '"b" "c"', ["z is no write that stands (never written, or replaced knowingly)"]],
    ["a write missed one: a value both later writes replaced knowingly is wrong", restored, "a", '"b" "c"', ["a is no write that stands (never written, or replaced knowingly)"]],
    ["conflicts unreadable here (encrypted): a write that stands is enough", restored, "b", null, []],
    ["conflicts unreadable here (encrypted): a value replaced knowingly is still wrong", restored, "a", null, ["a is no write that stands (never written, or replaced knowingly)"]],
  ] as const)("%s", (_, writes, final, conflicts, expected) => {
    expect(ownUnaccounted(writes, final, conflicts)).toEqual(expected);
  });
});
