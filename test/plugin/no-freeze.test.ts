// The plugin's first pull of a realistic history (503 sessions, 17.5k messages, 53k parts) does
// not freeze the real OpenCode: a client asking `opencode serve` for its session list every 100 ms
// meanwhile never waits half a second (before syncs moved into a worker thread, one waited 4-5 s).
import { describe, expect, it } from "vitest";
import { SIZES } from "../../bench/generate.js";
import { measurePluginStall } from "../support/plugin-stall.js";

describe("the plugin in real OpenCode under a first pull", () => {
  it("keeps OpenCode answering while 503 sessions arrive, and they all arrive", async () => {
    const stall = await measurePluginStall(SIZES.R!);
    expect(stall.sessions).toBe(stall.expected);
    expect(["merged", "pulled", "fast-forward"]).toContain(stall.outcome);
    expect(stall.requests).toBeGreaterThan(10);
    expect(stall.worstMs, JSON.stringify(stall)).toBeLessThan(500);
  }, 600_000);
});
