// npm run demo as a user runs it: it keeps its folder when asked, and says why each conflict went
// the way it did.
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { whyKept } from "../../core/conflict.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function demo(...args: string[]): Promise<string> {
  return (await promisify(execFile)(`${ROOT}node_modules/.bin/tsx`, [`${ROOT}scripts/demo.ts`, ...args], { cwd: ROOT })).stdout;
}

describe("npm run demo", () => {
  it("--keep keeps its folder and says so; each conflict says why it went the way it did", async () => {
    const out = await demo("--keep");
    const kept = /^kept the demo folder (\S+):/m.exec(out)?.[1];
    expect(kept && existsSync(`${kept}/remote.git`)).toBe(true);
    rmSync(kept!, { recursive: true, force: true });
    expect(out).toMatch(/kept desktop's "solarized", kept aside laptop's "light"\n {3}why: newest edit wins \(auto-merge\): desktop's edit at \S+ is later than laptop's at \S+\n/);
  }, 60_000);

  it("without --keep removes its folder and says so", async () => {
    const out = await demo();
    const removed = /^removed the demo folder (\S+) /m.exec(out)?.[1];
    expect(removed && !existsSync(removed)).toBe(true);
  }, 60_000);

  it("explains a tie and each strategy in the words of its rule", () => {
    const side = (writer: string, updatedAt: number) => ({ side: "main" as const, writer, updatedAt, value: "x" });
    expect(whyKept({ strategy: "newest-wins", kept: side("zeta", 5), lost: side("alpha", 5) })).toBe("newest edit wins (newest-wins), and both edits are from 1970-01-01T00:00:00.005Z: a tie goes to the machine id later in order, zeta");
    expect(whyKept({ strategy: "local-wins", kept: side("b", 1), lost: side("a", 2) })).toBe("local-wins: b's change was the one being merged into main, so it replaced a's");
    expect(whyKept({ strategy: "ask", kept: side("a", 1), lost: side("b", 2) })).toMatch(/^ask: a's value \(main's\) stays until you choose/);
  });
});
