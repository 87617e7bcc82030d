// Races: ten clients pushing their machine branches for twenty rounds while two reconcilers race
// for main. Main must only ever move forward, and no client's record may be lost.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRecord, makeRecord } from "../../core/record.js";
import { mergeAllBranches } from "../../git/merge-all.js";
import { fetchRefs, pushAtomic, type Remote } from "../../git/remote.js";
import { GitRepo } from "../../git/repo.js";
import { runGit } from "../../git/run.js";
import { startGitServer, type GitServer } from "../support/git-http-server.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "race_token_0123456789abcdef";
const CLIENTS = 10;
const ROUNDS = 20;
let root: string;
let server: GitServer;
let remote: Remote;
let remoteDir: string;

beforeAll(async () => {
  root = await tempDir();
  remoteDir = join(root, "srv", "sync.git");
  await runGit(["init", "--bare", "-q", "-b", "main", remoteDir]);
  await runGit(["--git-dir", remoteDir, "config", "core.logAllRefUpdates", "always"]);
  server = await startGitServer({ root: join(root, "srv"), tokens: [TOKEN] });
  remote = { url: server.url("sync.git"), auth: { token: TOKEN } };
  const seed = await GitRepo.open(join(root, "seed.git"));
  const first = await seed.commit({ parents: [], message: "set up", changes: [[".oc-sync/format.json", Buffer.from('{"format":1}\n')]] });
  expect(await pushAtomic(seed, remote, [{ ref: "main", oid: first, expected: null }])).toEqual({ ok: true });
});
afterAll(() => server.close());

const path = (c: number, r: number) => `db/sessions/ses_c${c}/messages/msg_r${r}.json`;

async function client(c: number): Promise<void> {
  const repo = await GitRepo.open(join(root, `client-${c}.git`));
  let head: string | null = null;
  let pushed: string | null = null;
  for (let r = 0; r < ROUNDS; r++) {
    await fetchRefs(repo, remote);
    const main = (await repo.revParse("refs/remotes/sync/main"))!;
    // Build on main when our earlier work is already in it, else continue our own branch.
    const parent = head && !(await repo.isAncestor(head, main)) ? head : main;
    const record = makeRecord({ path: path(c, r), kind: "json", content: Buffer.from(JSON.stringify({ c, r })), vector: { [`c${c}`]: r + 1 }, updatedAt: Date.now(), writer: `c${c}` });
    head = await repo.commit({ parents: [parent], message: `c${c} round ${r}`, changes: [[record.path, encodeRecord(record)]] });
    const result = await pushAtomic(repo, remote, [{ ref: `machines/c${c}`, oid: head, expected: pushed }]);
    expect(result).toEqual({ ok: true });
    pushed = head;
  }
  repo.close();
}

async function reconciler(name: string, done: () => boolean): Promise<number> {
  const repo = await GitRepo.open(join(root, `${name}.git`));
  let moves = 0;
  while (!done()) {
    const r = await mergeAllBranches(repo, remote, { strategy: "auto-merge", who: name, attempts: 50 });
    if (r.pushed) moves++;
  }
  // Quiesce: fold whatever is left.
  while ((await mergeAllBranches(repo, remote, { strategy: "auto-merge", who: name, attempts: 50 })).pushed) moves++;
  repo.close();
  return moves;
}

describe("races", () => {
  it(`${CLIENTS} clients × ${ROUNDS} rounds against two racing reconcilers: main only moves forward, nothing is lost`, async () => {
    let finished = false;
    const reconcilers = Promise.all([reconciler("r1", () => finished), reconciler("r2", () => finished)]);
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    finished = true;
    const moves = await reconcilers;
    expect(moves[0]! + moves[1]!).toBeGreaterThan(1);

    // Every update of main in the server's reflog went forward.
    const reflog = (await runGit(["--git-dir", remoteDir, "reflog", "show", "--format=%H", "refs/heads/main"])).stdout.toString().trim().split("\n").reverse();
    expect(reflog.length).toBeGreaterThan(2);
    for (let i = 1; i < reflog.length; i++) {
      const forward = await runGit(["--git-dir", remoteDir, "merge-base", "--is-ancestor", reflog[i - 1]!, reflog[i]!], { okCodes: [1] });
      expect(forward.code, `main moved from ${reflog[i - 1]} to ${reflog[i]}, not a descendant`).toBe(0);
    }
    // Every record every client wrote is in main.
    const tree = new Set((await runGit(["--git-dir", remoteDir, "ls-tree", "-r", "--name-only", "main"])).stdout.toString().trim().split("\n"));
    const missing = [];
    for (let c = 0; c < CLIENTS; c++) for (let r = 0; r < ROUNDS; r++) if (!tree.has(path(c, r))) missing.push(path(c, r));
    expect(missing).toEqual([]);
  }, 600_000);
});
