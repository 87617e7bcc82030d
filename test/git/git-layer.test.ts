import { chmodSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchRefs, listRemoteHeads, pushAtomic, type Remote } from "../../git/remote.js";
import { decodeRecord, encodeRecord, makeRecord } from "../../core/record.js";
import { compareAndSwap, PushError } from "../../git/cas.js";
import { mergeAllBranches } from "../../git/merge-all.js";
import { mergeBranch } from "../../git/merge-branch.js";
import { GitRepo } from "../../git/repo.js";
import { GitError, runGit } from "../../git/run.js";
import { startGitServer, type GitServer } from "../support/git-http-server.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "tok_live_9f8e7d6c5b4a39281706";
const bytes = (s: string) => new TextEncoder().encode(s);
let root: string;
let server: GitServer;
let remote: Remote;

beforeAll(async () => {
  root = await tempDir();
  await runGit(["init", "--bare", "-q", "-b", "main", join(root, "srv", "sync.git")]);
  server = await startGitServer({ root: join(root, "srv"), tokens: [TOKEN] });
  remote = { url: server.url("sync.git"), auth: { token: TOKEN } };
});
afterAll(() => server.close());

async function clone(name: string): Promise<GitRepo> {
  const repo = await GitRepo.open(join(root, name));
  return repo;
}

describe("git layer against a loopback smart-HTTP server", () => {
  let first: string;

  it("builds a commit without a working tree, pushes it, and another clone reads it back", async () => {
    const a = await clone("a.git");
    first = await a.commit({ parents: [], message: "first", changes: new Map([["config/opencode.jsonc", bytes("{ // c\n}\n")], ["sessions/s1/session.json", bytes("{}")]]) });
    expect(await pushAtomic(a, remote, [{ ref: "main", oid: first, expected: null }])).toEqual({ ok: true });

    const b = await clone("b.git");
    await fetchRefs(b, remote);
    expect(await b.revParse("refs/remotes/sync/main")).toBe(first);
    expect((await b.listTree(first)).map((e) => e.path)).toEqual(["config/opencode.jsonc", "sessions/s1/session.json"]);
    expect((await b.readBlob(`${first}:config/opencode.jsonc`))?.toString()).toBe("{ // c\n}\n");
    expect(await b.readBlob(`${first}:missing`)).toBeNull();

    const second = await b.commit({ parents: [first], message: "second", changes: new Map([["sessions/s1/session.json", null], ["a b/c\"d.json", bytes("x")]]) });
    expect(await b.diff(first, second)).toEqual([
      { path: 'a b/c"d.json', oid: expect.stringMatching(/^[0-9a-f]{40}$/) },
      { path: "sessions/s1/session.json", oid: null },
    ]);
    // The blobs a push of `second` adds over `first` (the removed path has none), or null past the limit.
    const added = (await b.diff(first, second)).flatMap((c) => (c.oid ? [c.oid] : []));
    expect(await b.changedBlobs(first, second, 2)).toEqual(added);
    expect(await b.changedBlobs(first, second, 1)).toBeNull();
    expect(await b.changedBlobs(second, second, 0)).toEqual([]);
    // Far past the limit, git is stopped early (its output cut short), and the answer is the same.
    const many = await b.commit({ parents: [second], message: "many", changes: Array.from({ length: 200 }, (_, i) => [`sessions/s${i}/session.json`, bytes(`${i}`)] as const) });
    expect(await b.changedBlobs(second, many, 1)).toBeNull();
    expect(await b.changedBlobs(second, many, 200)).toHaveLength(200);
    expect(await b.isAncestor(first, second)).toBe(true);
    expect(await b.isAncestor(second, first)).toBe(false);
    expect(await b.isAncestor(second, second)).toBe(true);
    const side = await b.commit({ parents: [first], message: "side", changes: [["x.json", bytes("x")]] });
    const unrelated = await b.commit({ parents: [], message: "unrelated", changes: [["x.json", bytes("y")]] });
    for (const [x, y] of [[side, second], [second, side], [unrelated, first], [first, unrelated]]) expect(await b.isAncestor(x!, y!), `${x} in ${y}`).toBe(false);
    expect(await b.isAncestor(first, side)).toBe(true);
    expect(await listRemoteHeads(b, remote)).toEqual(new Map([["main", first]]));
    a.close();
    b.close();
  });

  it("lets exactly one of two racing pushers move main (compare-and-swap)", async () => {
    const racers = await Promise.all(["r1.git", "r2.git", "r3.git"].map(clone));
    for (const r of racers) await fetchRefs(r, remote);
    const commits = await Promise.all(racers.map((r, i) => r.commit({ parents: [first], message: `racer ${i}`, changes: new Map([[`m${i}`, bytes(`${i}`)]]) })));
    const results = await Promise.all(racers.map((r, i) => pushAtomic(r, remote, [
      { ref: "main", oid: commits[i]!, expected: first },
      { ref: `machines/r${i}`, oid: commits[i]!, expected: null },
    ])));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok)) expect(r).toMatchObject({ ok: false, reason: "rejected" });
    const heads = await listRemoteHeads(racers[0]!, remote);
    const winner = results.findIndex((r) => r.ok);
    expect(heads.get("main")).toBe(commits[winner]);
    // Atomic: the losers' machine branches did not move either.
    expect([...heads.keys()].filter((k) => k.startsWith("machines/"))).toEqual([`machines/r${winner}`]);
  });

  it("reports a wrong token as a typed auth failure that never shows the token", async () => {
    const wrong = "tok_wrong_1234567890abcdef";
    const r = await clone("w.git");
    const oid = await r.commit({ parents: [], message: "x", changes: new Map([["f", bytes("1")]]) });
    const result = await pushAtomic(r, { url: remote.url, auth: { token: wrong } }, [{ ref: "main", oid, expected: null }]);
    expect(result).toMatchObject({ ok: false, reason: "auth" });
    expect(JSON.stringify(result)).not.toContain(wrong);
    const err = await fetchRefs(r, { url: remote.url, auth: { token: wrong } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).kind).toBe("auth");
    expect(`${(err as GitError).message}${(err as GitError).stderr}`).not.toContain(wrong);
    expect(`${(err as GitError).message}`).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString("base64"));
  });

  it("reports an unreachable server as a network failure", async () => {
    server.setFault("reset");
    try {
      const r = await clone("n.git");
      const err = await fetchRefs(r, remote).catch((e: unknown) => e);
      expect((err as GitError).kind).toBe("network");
    } finally {
      server.setFault(null);
    }
  });

  it("keeps the token out of .git/config", async () => {
    const r = await clone("c.git");
    await fetchRefs(r, remote);
    const config = (await runGit(["--git-dir", r.gitDir, "config", "--list"])).stdout.toString();
    expect(config).not.toContain(TOKEN);
    expect(config).not.toContain("extraheader");
  });
});

describe("git layer against a bare repository on disk", () => {
  it("enforces compare-and-swap there too", async () => {
    const dir = join(root, "disk-remote.git");
    await runGit(["init", "--bare", "-q", dir]);
    const disk: Remote = { url: dir };
    const a = await clone("da.git");
    const c1 = await a.commit({ parents: [], message: "1", changes: new Map([["f", bytes("1")]]) });
    expect(await pushAtomic(a, disk, [{ ref: "main", oid: c1, expected: null }])).toEqual({ ok: true });
    const c2 = await a.commit({ parents: [c1], message: "2", changes: new Map([["f", bytes("2")]]) });
    expect(await pushAtomic(a, disk, [{ ref: "main", oid: c2, expected: "0".repeat(40).replace(/0$/, "1") }])).toMatchObject({ ok: false, reason: "rejected" });
    expect(await pushAtomic(a, disk, [{ ref: "main", oid: c2, expected: c1 }])).toEqual({ ok: true });
  });

  it("reports a push the server refuses (a hook, a permission) as a refusal after one attempt, not as a lost race", async () => {
    const dir = join(root, "hooked.git");
    await runGit(["init", "--bare", "-q", dir]);
    writeFileSync(join(dir, "hooks", "pre-receive"), "#!/bin/sh\necho 'refusing: file too large' >&2\nexit 1\n");
    chmodSync(join(dir, "hooks", "pre-receive"), 0o755);
    const a = await clone("hooked-client.git");
    const c1 = await a.commit({ parents: [], message: "1", changes: new Map([["f", bytes("1")]]) });
    let attempts = 0;
    const moving = compareAndSwap(a, { url: dir }, async () => (attempts++, { moves: [{ branch: "main", to: c1 }], value: c1 }), { what: "could not push" });
    await expect(moving).rejects.toThrow(PushError);
    await expect(moving).rejects.toMatchObject({ reason: "refused", message: expect.stringMatching(/^could not push: .*refusing: file too large/) });
    expect(attempts).toBe(1);
  });

  it("decides again from a fresh fetch when another writer moved the ref first, and moves the local view on success", async () => {
    const dir = join(root, "cas-race.git");
    await runGit(["init", "--bare", "-q", dir]);
    const disk: Remote = { url: dir };
    const [a, b] = [await clone("cas-a.git"), await clone("cas-b.git")];
    const seed = await a.commit({ parents: [], message: "seed", changes: new Map([["f", bytes("0")]]) });
    await compareAndSwap(a, disk, async () => ({ moves: [{ branch: "main", to: seed }], value: null }), { what: "seed" });
    await fetchRefs(b, disk);
    const theirs = await a.commit({ parents: [seed], message: "a", changes: new Map([["a", bytes("a")]]) });
    await compareAndSwap(a, disk, async () => ({ moves: [{ branch: "main", to: theirs }], value: null }), { what: "a" });
    // b still believes main is at seed: its first attempt loses, the second builds on what it fetched.
    const seen: (string | null)[] = [];
    const mine = await compareAndSwap(b, disk, async () => {
      const main = await b.revParse("refs/remotes/sync/main");
      seen.push(main);
      const c = await b.commit({ parents: [main!], message: "b", changes: new Map([["b", bytes("b")]]) });
      return { moves: [{ branch: "main", to: c }], value: c };
    }, { what: "b" });
    expect(seen).toEqual([seed, theirs]);
    expect(await b.revParse("refs/remotes/sync/main")).toBe(mine);
    expect((await listRemoteHeads(b, disk)).get("main")).toBe(mine);
  });

  it("folds machine branches in code-unit order of their ids, whatever the locale says", async () => {
    const dir = join(root, "order.git");
    await runGit(["init", "--bare", "-q", dir]);
    const disk: Remote = { url: dir };
    const a = await clone("order-client.git");
    const seed = await a.commit({ parents: [], message: "seed", changes: new Map([[".oc-sync/format.json", bytes('{"format":1}\n')]]) });
    const refs = [`${seed}:refs/heads/main`];
    for (const machine of ["beta", "Zed", "alpha", "Alpha"]) {
      const path = `config/${machine}.md`;
      const rec = makeRecord({ path, kind: "text", content: bytes(machine), vector: { [machine]: 1 }, updatedAt: 1, writer: machine });
      refs.push(`${await a.commit({ parents: [seed], message: machine, changes: [[path, encodeRecord(rec)]] })}:refs/heads/machines/${machine}`);
    }
    await runGit(["--git-dir", a.gitDir, "push", "-q", dir, ...refs]);
    const result = await mergeAllBranches(a, disk, { strategy: "auto-merge", who: "test" });
    expect(result.machines.map((m) => m.machine)).toEqual(["Alpha", "Zed", "alpha", "beta"]);
  });

  it("reads a record of many megabytes, and the small ones queued behind it, byte for byte", async () => {
    const a = await clone("big-blob.git");
    const big = Buffer.alloc(12 * 1024 * 1024 + 7, 0x61);
    big.write("\nline breaks and a header-like line\nabc blob 3\n", 1000);
    const commit = await a.commit({ parents: [], message: "big", changes: [["big", big], ["small", bytes("s")]] });
    const [got, small, missing, again] = await Promise.all([a.readBlob(`${commit}:big`), a.readBlob(`${commit}:small`), a.readBlob(`${commit}:absent`), a.readBlob(`${commit}:small`)]);
    expect(got!.equals(big)).toBe(true);
    expect([small!.toString(), missing, again!.toString()]).toEqual(["s", null, "s"]);
    a.close();
  });

  it("writes a bulk commit as one pack, not thousands of loose objects", async () => {
    const a = await clone("bulk.git");
    const changes = new Map<string, Uint8Array>();
    for (let i = 0; i < 10_000; i++) changes.set(`sessions/s${i % 50}/messages/m${i}.json`, bytes(`{"i":${i}}`));
    const oid = await a.commit({ parents: [], message: "bulk", changes });
    expect((await a.listTree(oid)).length).toBe(10_000);
    const counts = (await a.git(["count-objects", "-v"])).stdout.toString();
    expect(counts).toMatch(/^count: 0$/m);
    expect(counts).toMatch(/^packs: 1$/m);
  });

  it("counts what a push would carry: the objects no ref of the remote reaches, at their size before compression", async () => {
    const a = await clone("sizes.git");
    const landed = await a.commit({ parents: [], message: "landed", changes: [["db/a.json", bytes("a".repeat(1000))]] });
    await a.updateRef("refs/remotes/sync/machines/x", landed);
    const next = await a.commit({ parents: [landed], message: "next", changes: [["db/b.json", bytes("b".repeat(5000))]] });
    const objects = (await a.git(["rev-list", "--objects", "--no-object-names", next, `^${landed}`])).stdout.toString().trim().split("\n");
    expect(objects).toHaveLength(4); // the commit, its two trees (top and db/), the new blob
    const sizes = await a.objectSizes(objects);
    expect(sizes).toContain(5000);
    expect(await a.unsharedBytes(next, "refs/remotes/sync/*")).toBe(sizes.reduce((x, y) => x + y, 0));
    expect(await a.unsharedBytes(landed, "refs/remotes/sync/*")).toBe(0);
  });

  it("reads a large set of blobs in the background exactly as one by one, and leaves no file behind", async () => {
    const a = await clone("many.git");
    const changes = new Map<string, Uint8Array>();
    // Content with line breaks and a byte that is not UTF-8, so sizes (not lines) must frame each object.
    for (let i = 0; i < 1200; i++) changes.set(`db/m${i}.json`, Uint8Array.from([...bytes(`{"i":${i},\n"t":"${"x".repeat(i % 97)}"}\n`), 0xff]));
    const commit = await a.commit({ parents: [], message: "many", changes });
    const tree = await a.listTree(commit);
    const names = [...tree.map((e) => e.oid), "0".repeat(40), `${commit}:db/m7.json`, `${commit}:db/absent.json`, commit];
    const all = await a.readBlobs(names);
    expect(all).toHaveLength(names.length);
    for (const [i, e] of tree.entries()) expect(Buffer.compare(all[i]!, Buffer.from(changes.get(e.path)!))).toBe(0);
    expect(all.slice(-4)).toEqual([null, Buffer.from(changes.get("db/m7.json")!), null, null]);
    expect((await a.readBlobs(names.slice(0, 20))).map(String)).toEqual(all.slice(0, 20).map(String));
    expect(readdirSync(a.gitDir).filter((f) => f.startsWith("oc-sync-read-"))).toEqual([]);
    await expect(a.readBlobs([...names, "bad\nname"])).rejects.toThrow(/line break/);

    // A read killed midway leaves its folder; maintenance removes it once it is an hour old, not before.
    for (const [name, hoursAgo] of [["oc-sync-read-killed", 2], ["oc-sync-read-running", 0]] as const) {
      mkdirSync(join(a.gitDir, name));
      writeFileSync(join(a.gitDir, name, "objects"), "x");
      const t = new Date(Date.now() - hoursAgo * 3_600_000);
      utimesSync(join(a.gitDir, name), t, t);
    }
    await a.maintain();
    expect(readdirSync(a.gitDir).filter((f) => f.startsWith("oc-sync-read-"))).toEqual(["oc-sync-read-running"]);
  });
});

describe("a path's history", () => {
  it("lists the versions on both sides of a merge, also the side the merge's result does not match at the path", async () => {
    const repo = await GitRepo.open(join(await tempDir("oc-sync-history-path-"), "r.git"));
    const put = (parents: string[], message: string, value: string | null) => repo.commit({ parents, message, changes: [["db/x.json", value === null ? null : bytes(value)]] });
    const root = await repo.commit({ parents: [], message: "root", changes: [["other", bytes("o")]] });
    const live = await put([root], "live", "{}");
    const deleted = await put([root], "deleted elsewhere", "tomb");
    // The merge takes the second parent's value: git's default history would walk that side only.
    const merge = await repo.commit({ parents: [live, deleted], message: "merge", changes: [["db/x.json", bytes("tomb")]] });
    const listed = await repo.pathHistory([merge], "db/x.json", 20);
    expect(listed).toContain(live);
    expect(listed).toContain(deleted);
    repo.close();
  });
});

describe("mergeBranch", () => {
  it("merges against the newest version both sides descend from, even when the branch sits on an older commit", async () => {
    const repo = await GitRepo.open(join(root, "merge-base.git"));
    const path = "config/opencode.json";
    const at = (parents: string[], vector: Record<string, number>, value: object) =>
      repo.commit({ parents, message: "x", changes: [[path, encodeRecord(makeRecord({ path, kind: "json", content: Buffer.from(JSON.stringify(value)), vector, updatedAt: 1, writer: "w" }))]] });
    // main: m1 writes, then a merge brings m3's first value, then m2 adds its own key.
    const m1 = await at([], { m1: 1 }, { shared: "s" });
    const merged = await at([m1], { m1: 1, m3: 1 }, { shared: "s", m3: "first" });
    const main = await at([merged], { m1: 1, m2: 1, m3: 1 }, { shared: "s", m3: "first", m2: "x" });
    // m3 changes its value again, but its commit sits on m1's (its base was held back by a sync).
    const branch = await at([m1], { m1: 1, m3: 2 }, { shared: "s", m3: "second" });
    const r = await mergeBranch(repo, main, branch, { strategy: "auto-merge", message: "merge" });
    expect(r.result!.conflicts).toEqual([]);
    const rec = decodeRecord(path, (await repo.readBlob(`${r.commit}:${path}`))!);
    expect(JSON.parse(Buffer.from(rec.content!).toString())).toEqual({ shared: "s", m3: "second", m2: "x" });
    repo.close();
  });

  it("deletes a part compacted on a machine that had already taken its session's delete, though its message did not change since", async () => {
    const repo = await GitRepo.open(join(root, "merge-orphan.git"));
    const S = "db/sessions/s1/session.json";
    const M = "db/sessions/s1/messages/m1.json";
    const P = "db/sessions/s1/parts/m1/p1.json";
    const row = (path: string, fields: object | null, vector: Record<string, number>, writer: string): [string, Uint8Array] => [path, encodeRecord(makeRecord({ path, kind: "json", content: fields && bytes(JSON.stringify(fields)), vector, updatedAt: 1, writer }))];
    const made = await repo.commit({ parents: [], message: "x made the session", changes: [row(S, { id: "s1", time_updated: 1 }, { x: 1 }, "x"), row(M, { id: "m1" }, { x: 1 }, "x"), row(P, { id: "p1", text: "huge" }, { x: 1 }, "x")] });
    const deleted = await repo.commit({ parents: [made], message: "y deleted it", changes: [S, M, P].map((p) => row(p, null, { x: 1, y: 1 }, "y")) });
    // x fetched that main, but compacted the part meanwhile (its session row touched): its commit sits on the delete.
    const branch = await repo.commit({ parents: [deleted], message: "x", changes: [row(S, { id: "s1", time_updated: 2 }, { x: 2 }, "x"), row(P, { id: "p1", text: "compacted" }, { x: 2 }, "x")] });
    const main = await repo.commit({ parents: [deleted], message: "z", changes: [["config/a.md", encodeRecord(makeRecord({ path: "config/a.md", kind: "text", content: bytes("a"), vector: { z: 1 }, updatedAt: 1, writer: "z" }))]] });
    const r = await mergeBranch(repo, main, branch, { strategy: "auto-merge", message: "merge" });
    for (const path of [S, M, P]) expect(decodeRecord(path, (await repo.readBlob(`${r.commit}:${path}`))!).deleted, path).toBe(true);
    expect(r.result!.conflicts.map((c) => [c.path, c.lost.value && JSON.parse(c.lost.value).text])).toEqual([[P, "compacted"]]);
    repo.close();
  });

  it("names a record it cannot read, leaves it as main has it, and merges every other record", async () => {
    const repo = await GitRepo.open(join(root, "merge-damaged.git"));
    const rec = (path: string, value: string, vector: Record<string, number>) => encodeRecord(makeRecord({ path, kind: "text", content: bytes(value), vector, updatedAt: 1, writer: "w" }));
    const base = await repo.commit({ parents: [], message: "base", changes: [["config/a.md", rec("config/a.md", "a0", { m: 1 })], ["config/b.md", rec("config/b.md", "b0", { m: 1 })]] });
    const main = await repo.commit({ parents: [base], message: "main", changes: [["config/a.md", rec("config/a.md", "a-main", { m: 2 })]] });
    const branch = await repo.commit({ parents: [base], message: "branch", changes: [["config/a.md", bytes("no header at all")], ["config/b.md", rec("config/b.md", "b-branch", { m: 1, x: 1 })]] });
    const r = await mergeBranch(repo, main, branch, { strategy: "auto-merge", message: "merge" });
    expect(r.damaged).toEqual([expect.stringMatching(/^sync repo record config\/a\.md is malformed/)]);
    expect(decodeRecord("config/a.md", (await repo.readBlob(`${r.commit}:config/a.md`))!).content).toEqual(Buffer.from("a-main"));
    expect(decodeRecord("config/b.md", (await repo.readBlob(`${r.commit}:config/b.md`))!).content).toEqual(Buffer.from("b-branch"));
    repo.close();
  });
});

describe("opening oc-sync's repository", () => {
  // History seed 6392: a merge killed inside its first `git init` left HEAD.lock, and every later merge failed on it.
  it.each(["config.lock", "HEAD.lock"])("a first sync killed while setting the repo up (%s left) does not wedge every later one", async (name) => {
    const dir = join(await tempDir(), "repo.git");
    mkdirSync(dir);
    // What a kill inside `git init` (before it wrote HEAD), or between it and the first `git config`, leaves: a lock, and no ready marker.
    if (name !== "HEAD.lock") await runGit(["init", "--bare", "-q", dir]);
    const lock = join(dir, name);
    writeFileSync(lock, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const repo = await GitRepo.open(dir);
    expect((await repo.git(["config", "gc.auto"])).stdout.toString().trim()).toBe("0");
    repo.close();
  });

  // History seed 1058: the merge run right after the killed one failed on the lock ("File exists").
  it("a sync killed while git held a ref's lock (a fetch, an update-ref): the error names the lock, and the next sync removes it", async () => {
    const dir = join(await tempDir(), "repo.git");
    const repo = await GitRepo.open(dir);
    const one = await repo.commit({ parents: [], message: "one", changes: [["a.json", bytes("1")]] });
    const two = await repo.commit({ parents: [one], message: "two", changes: [["a.json", bytes("2")]] });
    await repo.updateRef("refs/remotes/sync/main", one);
    const lock = join(dir, "refs", "remotes", "sync", "main.lock");
    writeFileSync(lock, "");
    utimesSync(lock, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    await expect(repo.updateRef("refs/remotes/sync/main", two)).rejects.toThrow(/refs\/remotes\/sync\/main\.lock/);
    repo.close();
    const next = await GitRepo.open(dir);
    await next.updateRef("refs/remotes/sync/main", two);
    expect(await next.revParse("refs/remotes/sync/main")).toBe(two);
    next.close();
  });

  it("nor one started right after the kill: a fresh lock that stays is waited for, then removed", async () => {
    const dir = join(await tempDir(), "repo.git");
    mkdirSync(dir);
    await runGit(["init", "--bare", "-q", dir]);
    writeFileSync(join(dir, "config.lock"), "");
    const repo = await GitRepo.open(dir);
    expect((await repo.git(["config", "gc.auto"])).stdout.toString().trim()).toBe("0");
    repo.close();
  });
});
