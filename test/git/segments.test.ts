import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeRecord, gitBlobId, makeRecord, RecordFormatError } from "../../core/record.js";
import { encodeSegment, SEGMENT_MAX_BYTES } from "../../core/segment.js";
import { readDigest } from "../../git/main-moves.js";
import { readRecords } from "../../git/record-reader.js";
import { GitRepo, type FileChange } from "../../git/repo.js";
import { segmentNewSessions } from "../../git/segment-writer.js";
import { tempDir } from "../support/tmp.js";

const S = "ses_segmented";
const row = (path: string, text: string, deleted = false) =>
  encodeRecord(makeRecord({ path, kind: "json", content: deleted ? null : new TextEncoder().encode(text), vector: { a: 1 }, updatedAt: 1, writer: "a" }));
const msg = (session: string, i: number) => `db/sessions/${session}/messages/msg_${i}.json`;
const part = (session: string, i: number, j: number) => `db/sessions/${session}/parts/msg_${i}/prt_${j}.json`;

/** A session's rows as the scan yields them: its row, then messages with two parts each. */
function sessionRows(session: string, messages: number): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [[`db/sessions/${session}/session.json`, row("", `{"id":"${session}"}`)]];
  for (let i = 0; i < messages; i++) {
    out.push([msg(session, i), row("", `{"id":"msg_${i}","text":"message ${i} of ${session}"}`)]);
    for (let j = 0; j < 2; j++) out.push([part(session, i, j), row("", `{"id":"prt_${j}","text":"part ${j} of ${i}"}`)]);
  }
  return out;
}

async function* stream(changes: readonly FileChange[]): AsyncIterable<FileChange> {
  yield* changes;
}

async function written(changes: readonly FileChange[], isNew: (s: string) => boolean = () => true): Promise<FileChange[]> {
  const out: FileChange[] = [];
  for await (const c of segmentNewSessions(stream(changes), async (s) => isNew(s))) out.push(c);
  return out;
}

let repo: GitRepo;
beforeAll(async () => {
  repo = await GitRepo.open(join(await tempDir(), "r.git"));
});

describe("segments: a new session's records as two blobs", () => {
  it("writes a new session's live records as one segment, and everything else as it came", async () => {
    const rows = sessionRows(S, 3);
    const tomb = row("", "", true);
    const out = await written([["config/opencode.json", row("", "{}")], ...rows, [msg(S, 9), tomb], ["db/projects/p.json", row("", "{}")]]);
    expect(out.map(([p]) => p)).toEqual(["config/opencode.json", msg(S, 9), `db/sessions/${S}/segment-0.seg`, `db/sessions/${S}/segment-0.idx`, "db/projects/p.json"]);
    const data = out[2]![1] as Uint8Array;
    expect(Buffer.from(data)).toEqual(Buffer.concat(rows.map(([, b]) => b)));
    const index = JSON.parse(new TextDecoder().decode(out[3]![1] as Uint8Array));
    expect(index.data).toBe(gitBlobId(data));
    expect(index.records[1]).toEqual(["messages/msg_0.json", rows[0]![1].length, rows[1]![1].length]);
  });

  it("leaves loose: a session the parent has, a session of two records, a record too large to share, a session met again", async () => {
    expect((await written(sessionRows("ses_old", 2), (s) => s !== "ses_old")).map(([p]) => p)).toEqual(sessionRows("ses_old", 2).map(([p]) => p));
    const two = sessionRows("ses_two", 0).concat([[msg("ses_two", 0), row("", "{}")]]);
    expect((await written(two)).map(([p]) => p)).toEqual(two.map(([p]) => p));
    const big: FileChange = [msg(S, 7), row("", "x".repeat(SEGMENT_MAX_BYTES / 4))];
    const again: FileChange = [msg(S, 8), row("", "{}")];
    const out = await written([...sessionRows(S, 1), big, ["config/x.json", row("", "{}")], again]);
    expect(out.map(([p]) => p)).toEqual([big[0], `db/sessions/${S}/segment-0.seg`, `db/sessions/${S}/segment-0.idx`, "config/x.json", again[0]]);
  });

  it("closes a segment at its size limit and goes on in the next", async () => {
    const mb = (i: number): FileChange => [msg(S, i), row("", "y".repeat(1024 * 1024 + i))];
    const out = await written(Array.from({ length: 12 }, (_, i) => mb(i)));
    expect(out.map(([p]) => p)).toEqual([0, 1].flatMap((n) => [`db/sessions/${S}/segment-${n}.seg`, `db/sessions/${S}/segment-${n}.idx`]));
    for (const [, data] of out.filter(([p]) => p.endsWith(".seg"))) expect((data as Uint8Array).length).toBeLessThan(SEGMENT_MAX_BYTES + 2 * 1024 * 1024);
  });
});

describe("segments: read as if each record were its own blob", () => {
  let c1: string;
  const rows = sessionRows(S, 4);

  it("lists, diffs and reads a segmented session record by record, never its segment files", async () => {
    const other = sessionRows("ses_loose", 1);
    c1 = await repo.commit({ parents: [], message: "one", changes: segmentNewSessions(stream([...rows, ...other]), async (s) => s === S) });
    const raw = (await repo.rawListTree(c1)).map((e) => e.path);
    expect(raw.filter((p) => p.startsWith(`db/sessions/${S}/`))).toEqual([`db/sessions/${S}/segment-0.idx`, `db/sessions/${S}/segment-0.seg`]);
    const listed = await repo.listTree(c1);
    expect(listed.map((e) => e.path).sort()).toEqual([...rows, ...other].map(([p]) => p).sort());
    // A deeper folder of the session: only what is under it.
    expect((await repo.listTree(c1, [`db/sessions/${S}/messages/`])).map((e) => e.path).sort()).toEqual([0, 1, 2, 3].map((i) => msg(S, i)).sort());
    expect((await repo.listTree(c1, [`db/sessions/${S}`])).length).toBe(rows.length);
    // By the name the listing gives, by path, and many at once: the bytes as written.
    const byName = await repo.readBlobs(listed.map((e) => e.oid));
    const written = new Map([...rows, ...other]);
    listed.forEach((e, i) => expect(byName[i]).toEqual(Buffer.from(written.get(e.path)!)));
    expect(await repo.readBlob(`${c1}:${part(S, 2, 1)}`)).toEqual(Buffer.from(written.get(part(S, 2, 1))!));
    expect(await repo.readBlob(`${c1}:${msg(S, 99)}`)).toBeNull();
    expect((await repo.diff(null, c1)).length).toBe(listed.length);
    const records = await readRecords(repo, c1, rows.map(([p]) => p));
    expect(records.size).toBe(rows.length);
  });

  it("reads a loose blob over the segment's copy, and the segment's again once the loose one is gone", async () => {
    const newer = row("", '{"id":"msg_1","text":"edited"}');
    const c2 = await repo.commit({ parents: [c1], message: "edit", changes: [[msg(S, 1), newer], [msg(S, 4), row("", "{}")]] });
    expect(await repo.diff(c1, c2)).toEqual([
      { path: msg(S, 1), oid: gitBlobId(newer) },
      { path: msg(S, 4), oid: expect.stringMatching(/^[0-9a-f]{40}$/) },
    ]);
    expect(await repo.readBlob(`${c2}:${msg(S, 1)}`)).toEqual(Buffer.from(newer));
    const messages = await repo.listTree(c2, [`db/sessions/${S}/messages/`]);
    expect(messages.map((e) => e.path).sort()).toEqual([0, 1, 2, 3, 4].map((i) => msg(S, i)).sort());
    expect(messages.find((e) => e.path === msg(S, 1))?.oid).toBe(gitBlobId(newer));
    expect((await repo.diff(c2, c2, [`db/sessions/${S}/`])).length).toBe(0);
    const c3 = await repo.commit({ parents: [c2], message: "drop the loose copy", changes: [[msg(S, 1), null]] });
    const [back] = await repo.diff(c2, c3);
    expect(back?.path).toBe(msg(S, 1));
    expect(back?.oid).toMatch(/^segment:/);
    expect(await repo.readBlob(back!.oid!)).toEqual(Buffer.from(rows[4]![1]));
    // A new session that arrives between two commits: each of its records, as added.
    const c4 = await repo.commit({ parents: [c3], message: "new", changes: segmentNewSessions(stream(sessionRows("ses_new", 2)), async () => true) });
    const added = await repo.diff(c3, c4);
    expect(added.map((c) => c.path).sort()).toEqual(sessionRows("ses_new", 2).map(([p]) => p).sort());
    expect(added.every((c) => c.oid?.startsWith("segment:"))).toBe(true);
    expect(await repo.pathHistory([c4], msg("ses_new", 1), 5)).toEqual([c4]);
    // Segment files removed (not something oc-sync writes): their records are gone, the loose one stays.
    const c4b = await repo.commit({ parents: [c4], message: "edit", changes: [[msg(S, 2), row("", '{"id":"msg_2","text":"edited"}')]] });
    const c5 = await repo.commit({ parents: [c4b], message: "drop", changes: [[`db/sessions/${S}/segment-0.idx`, null], [`db/sessions/${S}/segment-0.seg`, null]] });
    const gone = await repo.diff(c4b, c5);
    expect(gone.map((c) => c.path).sort()).toEqual(rows.map(([p]) => p).filter((p) => p !== msg(S, 2)).sort());
    expect(gone.every((c) => c.oid === null)).toBe(true);
    expect((await repo.listTree(c5, [`db/sessions/${S}/`])).map((e) => e.path)).toEqual([msg(S, 2), msg(S, 4)]);
  });

  it("counts a segmented session's rows in the digest, as the audit trail shows them", async () => {
    const digest = await readDigest(repo, null, c1);
    // 4 messages with 2 parts each, and the session row: not two files.
    expect(digest.entries.at(-1)!.records).toMatchObject({ sessions: { added: 2 }, messages: { added: 5 }, parts: { added: 10 } });
  });

  it("replays segment files as they are, and writes a record named virtually as its bytes", async () => {
    const moved = await repo.rebase(c1, null, null, "replayed");
    expect((await repo.listTree(moved)).map((e) => e.path).sort()).toEqual((await repo.listTree(c1)).map((e) => e.path).sort());
    const [entry] = await repo.listTree(c1, [msg(S, 2)]);
    const copy = await repo.commit({ parents: [], message: "copy", changes: [[msg("ses_copy", 2), { oid: entry!.oid }]] });
    expect(await repo.readBlob(`${copy}:${msg("ses_copy", 2)}`)).toEqual(Buffer.from(rows[7]![1]));
  });

  it("names a damaged segment as a damaged record instead of taking its records as absent", async () => {
    const good = encodeSegment("ses_bad", sessionRows("ses_bad", 1));
    const short = good.data.subarray(0, 20);
    const shortIndex = new TextEncoder().encode(new TextDecoder().decode(good.index).replace(gitBlobId(good.data), gitBlobId(short)));
    // The missing data blob first: the cases after it put that blob in the repo.
    const cases: [string, Uint8Array, Uint8Array][] = [
      ["a data blob that is not there", good.index, short],
      ["an index that is not JSON", new TextEncoder().encode("{oops"), good.data],
      ["an index naming a path of another session", new TextEncoder().encode(JSON.stringify({ segment: 1, data: gitBlobId(good.data), records: [["../ses_x/session.json", 0, 10]] })), good.data],
      ["a data blob shorter than its index says", shortIndex, short],
    ];
    for (const [what, index, data] of cases) {
      const c = await repo.commit({ parents: [], message: what, changes: [["db/sessions/ses_bad/segment-0.idx", index], ["db/sessions/ses_bad/segment-0.seg", data]] });
      const listed = await repo.listTree(c);
      const damaged: RecordFormatError[] = [];
      const read = await readRecords(repo, c, listed.map((e) => e.path), (e) => damaged.push(e));
      expect(damaged.length, what).toBeGreaterThan(0);
      expect(read.size + damaged.length, what).toBe(listed.length);
      expect(damaged[0]!.path, what).toMatch(/^db\/sessions\/ses_bad\//);
      // A listing of a folder inside the session names the damage too; a read by path is damaged, never absent.
      expect((await repo.listTree(c, ["db/sessions/ses_bad/messages/"])).length, what).toBeGreaterThan(0);
      const byPath: RecordFormatError[] = [];
      const one = await readRecords(repo, c, [msg("ses_bad", 0)], (e) => byPath.push(e));
      expect(one.size + byPath.length, what).toBe(1);
    }
  });
});
