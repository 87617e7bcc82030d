// Plugin overhead: the real OpenCode (opencode-linux-x64, `opencode serve` with a directory open)
// with and without oc-sync, at its default timings (interval 300 s, remote check 60 s), measured
// once startup has settled: resident memory (the median of samples every 5 s, one sample is at the
// mercy of the garbage collector), and CPU over an idle window, the process's own plus that of the
// children it waited for (the plugin's git processes).
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGit } from "../git/run.js";
import { median } from "./median.js";
import { ensureOpenCode, prepareHome, serve, startFakeLlm, withoutPlugin } from "../test/support/opencode-real.js";

export interface Overhead {
  readonly rssMb: { with: number; without: number };
  readonly idleCpuMs: { with: number; without: number };
  readonly windowS: number;
  readonly rounds: number;
}

const TICK_MS = 1000 / 100;

function cpuMs(pid: number): number {
  // /proc/<pid>/stat fields 14-17: utime stime cutime cstime, in clock ticks (100 Hz on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return fields.slice(11, 15).reduce((s, v) => s + Number(v), 0) * TICK_MS;
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

export async function measurePluginOverhead(settleS = 20, windowS = 120, rounds = 3): Promise<Overhead> {
  const bin = await ensureOpenCode();
  const root = mkdtempSync(join(tmpdir(), "oc-sync-bench-plugin-"));
  const llm = await startFakeLlm(join(root, "llm.jsonl"));
  try {
    const remote = join(root, "remote.git");
    await runGit(["init", "--bare", "-q", "-b", "main", remote]);
    const withPlugin = await prepareHome(root, "with", llm.port, { remote });
    const without = await prepareHome(root, "without", llm.port, { remote });
    withoutPlugin(without);

    const measure = async (h: typeof withPlugin) => {
      const s = await serve(bin, h);
      try {
        await new Promise((r) => setTimeout(r, settleS * 1000));
        const c0 = cpuMs(s.pid);
        const samples: number[] = [];
        for (let t = 0; t < windowS; t += 5) {
          await new Promise((r) => setTimeout(r, 5000));
          samples.push(rssMb(s.pid));
        }
        return { rss: median(samples), cpu: cpuMs(s.pid) - c0 };
      } finally {
        await s.stop();
      }
    };
    // Alternating rounds, medians: one OpenCode process differs from the next by tens of MB anyway.
    const a: { rss: number; cpu: number }[] = [];
    const b: { rss: number; cpu: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      a.push(await measure(without));
      b.push(await measure(withPlugin));
    }
    return {
      rssMb: { with: median(b.map((x) => x.rss)), without: median(a.map((x) => x.rss)) },
      idleCpuMs: { with: median(b.map((x) => x.cpu)), without: median(a.map((x) => x.cpu)) },
      windowS,
      rounds,
    };
  } finally {
    await llm.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
