// Jepsen-style history check: many random histories of 3–5 machines against one loopback git
// remote, with killed syncs and merges, then quiesce and check the model (see support/history/).
// OC_SYNC_HISTORIES sets how many (CI: 50; `npm run test:histories`: 1,000), OC_SYNC_HISTORY_SEED
// the first seed ("random" for a new one); a failure names its seed, which replays the same operations.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { startGitServer, type GitServer } from "../support/git-http-server.js";
import { FAULTS, runHistory } from "../support/history/run-history.js";
import { PASSPHRASE, TOKEN } from "../support/sync-env.js";
import { tempDir } from "../support/tmp.js";

const COUNT = Number(process.env.OC_SYNC_HISTORIES ?? 50);
const FIRST = process.env.OC_SYNC_HISTORY_SEED === "random" ? Math.floor(Math.random() * 1e9) : Number(process.env.OC_SYNC_HISTORY_SEED ?? 1);
let root: string;
let server: GitServer;

beforeAll(async () => {
  root = await tempDir("oc-sync-history-");
  server = await startGitServer({ root: join(root, "srv"), tokens: [TOKEN] });
});
afterAll(() => server.close());

describe(`${COUNT} random histories from seed ${FIRST}`, () => {
  const met = new Map<string, number>();
  const seeds = Array.from({ length: COUNT }, (_, i) => FIRST + i);
  it.for(seeds)("history seed %i: no acknowledged write lost, machines identical, no deleted session back", { timeout: 240_000 }, async (seed) => {
    const dir = join(root, `h${seed}`);
    mkdirSync(join(root, "srv"), { recursive: true });
    const remoteDir = join(root, "srv", `h${seed}.git`);
    await runGit(["init", "--bare", "-q", "-b", "main", remoteDir]);
    const url = server.url(`h${seed}.git`);
    const result = await runHistory(seed, { root: dir, url, remoteDir, env: { OC_SYNC_REMOTE: url, OC_SYNC_TOKEN: TOKEN, OC_SYNC_PASSPHRASE: PASSPHRASE } });
    const replay = `replay with OC_SYNC_HISTORY_SEED=${seed} OC_SYNC_HISTORIES=1 npx vitest run test/reliability/history.test.ts`;
    for (const f of result.faults) met.set(f, (met.get(f) ?? 0) + 1);
    expect(result.violations, `seed ${seed} (${result.machines} machines, ${result.mode} merge, ${result.kills} kills): ${replay}\n${result.log.join("\n")}`).toEqual([]);
  });

  // Tests of a file run in order: this one sees every history above. Each fault must have taken effect.
  it.runIf(COUNT >= 2 * FAULTS.length)("the histories met every fault of DESIGN.md §7 they model", () => {
    expect(Object.fromEntries(FAULTS.map((f) => [f, (met.get(f) ?? 0) > 0]))).toEqual(Object.fromEntries(FAULTS.map((f) => [f, true])));
    console.log(`faults met: ${JSON.stringify(Object.fromEntries(met))}`);
  });
});
