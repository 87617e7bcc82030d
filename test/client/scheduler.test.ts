// When the plugin syncs: bursts of requests become one run, never two runs at once, nothing while
// a session streams, and a sync asked for by the user (the /sync tool, from inside a busy session)
// runs at once all the same.
import { describe, expect, it } from "vitest";
import { SyncScheduler } from "../../client/plugin/scheduler.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function scheduler(paused = () => false, runMs = 0) {
  const runs: string[][] = [];
  let active = 0;
  let overlapped = false;
  const s = new SyncScheduler({
    debounceMs: 30,
    maxWaitMs: 200,
    paused,
    run: async (reasons) => {
      overlapped ||= active > 0;
      active++;
      runs.push([...reasons]);
      await sleep(runMs);
      active--;
    },
  });
  return { s, runs, overlapped: () => overlapped, active: () => active };
}

describe("the plugin's sync scheduler", () => {
  it("turns a burst of requests into one run with every reason", async () => {
    const { s, runs } = scheduler();
    s.request("file");
    s.request("event:message.updated");
    s.request("file");
    await sleep(120);
    expect(runs).toEqual([["file", "event:message.updated"]]);
    s.stop();
  });

  it("holds requests while a session is busy and runs them once it is idle", async () => {
    let busy = true;
    const { s, runs } = scheduler(() => busy);
    s.request("file");
    await sleep(300);
    expect(runs).toEqual([]);
    busy = false;
    await sleep(1200);
    expect(runs).toEqual([["file"]]);
    s.stop();
  });

  it("runs a sync asked for now while a session is busy, after the run in progress, never beside it", async () => {
    let busy = false;
    const { s, runs, overlapped, active } = scheduler(() => busy, 80);
    s.request("startup", true);
    await sleep(10);
    expect(active()).toBe(1);
    busy = true;
    s.request("file");
    let toolRanAlone = false;
    const asked = await Promise.race([s.now(async () => ((toolRanAlone = active() === 0), "tool sync")), sleep(2000).then(() => "still waiting")]);
    expect(asked).toBe("tool sync");
    expect(toolRanAlone).toBe(true);
    expect(runs).toEqual([["startup"]]);
    expect(overlapped()).toBe(false);
    s.stop();
  });

  it("lets a run asked for now finish before a pending request fires", async () => {
    const { s, runs, overlapped } = scheduler(() => false, 50);
    let inTool = false;
    const tool = s.now(async () => {
      inTool = true;
      s.request("file", true);
      await sleep(100);
      expect(runs).toEqual([]);
      inTool = false;
    });
    await tool;
    expect(inTool).toBe(false);
    await sleep(1300);
    expect(runs).toEqual([["file"]]);
    expect(overlapped()).toBe(false);
    s.stop();
  });
});
