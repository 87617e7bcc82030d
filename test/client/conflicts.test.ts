// Choosing a conflict's other side gives back exactly what that side had: a binary file's bytes,
// and the lines where the overlap was, not the first lines that happen to read the same.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Conflict } from "../../core/conflict.js";
import { makeRecord } from "../../core/record.js";
import { reconcile } from "../../core/reconcile.js";
import { withLostValue } from "../../client/sync/conflicts.js";
import { runCli } from "../support/cli.js";
import { addSession, openDb, type TestHome } from "../support/opencode-home.js";
import { sync, syncWorld, type SyncWorld } from "../support/sync-env.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (s: string) => new TextEncoder().encode(s);

describe("a conflict's losing side, put back", () => {
  it("keeps the bytes of a binary record and gives them back", () => {
    const rec = (writer: string, content: Uint8Array, at: number) => makeRecord({ path: "config/themes/logo.bin", kind: "opaque", content, vector: { [writer]: 1, base: 1 }, updatedAt: at, writer });
    const base = makeRecord({ path: "config/themes/logo.bin", kind: "opaque", content: bytes(1, 2, 3), vector: { base: 1 }, updatedAt: 1, writer: "base" });
    const main = rec("a", bytes(0xff, 0x00, 0xfe, 0x80), 2);
    const branch = rec("b", bytes(0xc3, 0x28, 0x00, 0x01), 3);
    const result = reconcile(new Map([[base.path, base]]), new Map([[main.path, main]]), new Map([[branch.path, branch]]), { strategy: "auto-merge" });
    const [conflict] = result.conflicts;
    expect(conflict).toMatchObject({ at: "", kept: { writer: "b", encoding: "base64" }, lost: { writer: "a", encoding: "base64" } });
    expect(Buffer.from(withLostValue(result.records.get(main.path) ?? branch, conflict!).content!)).toEqual(Buffer.from(main.content!));
  });

  it("puts lost lines back where the overlap was, when the kept lines also stand earlier in the file", () => {
    const current = makeRecord({ path: "config/AGENTS.md", kind: "text", content: text("intro\nX\nmid\nX\nend\n"), vector: { a: 2 }, updatedAt: 2, writer: "a" });
    const conflict: Conflict = {
      id: "c1",
      path: current.path,
      at: "lines 4-4",
      strategy: "remote-wins",
      kept: { side: "main", writer: "a", updatedAt: 2, value: "X\n" },
      lost: { side: "branch", writer: "b", updatedAt: 3, value: "Z\n" },
      needsDecision: false,
    };
    expect(new TextDecoder().decode(withLostValue(current, conflict).content!)).toBe("intro\nX\nmid\nZ\nend\n");
  });

  it("puts back lines whose kept side removed them", () => {
    const current = makeRecord({ path: "config/AGENTS.md", kind: "text", content: text("a\nb\nd\n"), vector: { a: 2 }, updatedAt: 2, writer: "a" });
    const conflict: Conflict = { id: "c2", path: current.path, at: "lines 3-3", strategy: "remote-wins", kept: { side: "main", writer: "a", updatedAt: 2, value: "" }, lost: { side: "branch", writer: "b", updatedAt: 3, value: "c\n" }, needsDecision: false };
    expect(new TextDecoder().decode(withLostValue(current, conflict).content!)).toBe("a\nb\nc\nd\n");
  });
});

describe("resolve through the CLI, between two machines", () => {
  let world: SyncWorld;
  let A: TestHome;
  let B: TestHome;
  const logo = (h: TestHome) => join(h.config, "themes", "logo.bin");

  beforeAll(async () => {
    world = await syncWorld();
    A = world.machine("bin-a", false);
    B = world.machine("bin-b", false);
    mkdirSync(join(A.config, "themes"), { recursive: true });
    writeFileSync(logo(A), bytes(1, 2, 3));
    await sync(A);
    await sync(B);
  });

  it("writes the other machine's exact bytes when the user keeps its side of a binary file", async () => {
    const fromA = bytes(0xff, 0xd8, 0xff, 0x00, 0x9c, 0x80);
    const fromB = bytes(0x89, 0x50, 0x4e, 0x47, 0x00, 0xfe);
    writeFileSync(logo(A), fromA);
    writeFileSync(logo(B), fromB);
    await sync(A);
    const merged = await sync(B);
    const conflict = merged.conflicts.find((c) => c.path === "config/themes/logo.bin");
    expect(conflict, JSON.stringify(merged.conflicts)).toBeDefined();
    const keep = conflict!.kept.writer === "bin-a" ? "bin-b" : "bin-a";
    const r = await runCli(B.env, ["resolve", conflict!.id, "--keep", keep]);
    expect(r.code, r.stderr).toBe(0);
    const chosen = keep === "bin-a" ? fromA : fromB;
    expect(new Uint8Array(readFileSync(logo(B)))).toEqual(chosen);
    await sync(A);
    expect(new Uint8Array(readFileSync(logo(A)))).toEqual(chosen);
    expect((await sync(A)).conflicts.filter((c) => c.id === conflict!.id)).toEqual([]);
  });

  it("refuses to choose a value back on a machine that does not sync its category, and keeps the conflict", async () => {
    writeFileSync(logo(A), bytes(1, 1, 1));
    writeFileSync(logo(B), bytes(2, 2, 2));
    await sync(A);
    const conflict = (await sync(B)).conflicts.find((c) => c.path === "config/themes/logo.bin")!;
    const C = world.machine("bin-c", false);
    writeFileSync(join(C.config, "opencode-sync.jsonc"), '{ "categories": { "config": false } }\n');
    await sync(C);
    const r = await runCli(C.env, ["resolve", conflict.id, "--keep", conflict.lost.writer]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`conflict ${conflict.id}: config/themes/logo.bin cannot be put back: this machine does not sync it (the setting categories)`);
    await sync(C);
    expect((await sync(A)).conflicts.map((c) => c.id)).toContain(conflict.id);
  });

  it("conflicts --ack clears those the strategy decided, on every machine, and leaves the kept values", async () => {
    const settings = (h: TestHome) => join(h.config, "opencode.json");
    writeFileSync(settings(A), '{ "theme": "a1", "model": "m1" }\n');
    await sync(A);
    await sync(B);
    writeFileSync(settings(A), '{ "theme": "a2", "model": "m1" }\n');
    writeFileSync(settings(B), '{ "theme": "b2", "model": "m1" }\n');
    await sync(A);
    const merged = await sync(B);
    const decided = merged.conflicts.filter((c) => !c.needsDecision);
    expect(decided.length).toBeGreaterThan(0);
    const listed = await runCli(B.env, ["conflicts"]);
    expect(listed.stdout).toContain("oc-sync conflicts --ack");
    const before = readFileSync(settings(B), "utf8");
    const acked = await runCli(B.env, ["conflicts", "--ack"]);
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stdout).toMatch(/acknowledged \d+ conflict\(s\)/);
    expect(acked.stdout).toContain("no conflicts");
    expect(readFileSync(settings(B), "utf8")).toBe(before);
    expect((await sync(A)).conflicts).toEqual([]);
    expect(readFileSync(settings(A), "utf8")).toBe(before);
    expect((await runCli(A.env, ["conflicts", "--ack"])).stdout).toContain("no conflicts decided automatically to acknowledge");
  });
});

describe("strategy ask", () => {
  it.each([
    ["remote", "a-theme"],
    ["local", "b-theme"],
  ])("leaves this machine's live value alone until the user decides, then applies the choice (--keep %s) everywhere", async (keep, chosen) => {
    const world = await syncWorld();
    const A = world.machine("ask-a", false);
    const B = world.machine("ask-b", false);
    const file = (h: TestHome) => join(h.config, "opencode.json");
    const themeOf = (h: TestHome) => (JSON.parse(readFileSync(file(h), "utf8")) as { theme: string }).theme;
    writeFileSync(join(B.config, "opencode-sync.json"), '{ "strategy": "ask" }\n');
    writeFileSync(file(A), '{\n  "theme": "base",\n  "model": "m1"\n}\n');
    await sync(A);
    await sync(B);
    writeFileSync(file(A), '{\n  "theme": "a-theme",\n  "model": "m1"\n}\n');
    writeFileSync(file(B), '{\n  "theme": "b-theme",\n  "model": "m2"\n}\n');
    await sync(A);
    const merged = await sync(B);
    const waiting = merged.conflicts.filter((c) => c.needsDecision);
    expect(waiting.map((c) => c.at)).toEqual(["/theme"]);
    // Before the decision: B's own value is still live, the merged rest (model) is applied, and more syncs change nothing.
    expect(themeOf(B)).toBe("b-theme");
    expect((await sync(B)).committed).toBe(0);
    expect(themeOf(B)).toBe("b-theme");
    expect((await runCli(B.env, ["status"])).stdout).toContain("conflicts    1, 1 waiting for your decision");
    const resolved = await runCli(B.env, ["resolve", waiting[0]!.id, "--keep", keep]);
    expect(resolved.code, resolved.stderr).toBe(0);
    await sync(A);
    await sync(B);
    expect(themeOf(B)).toBe(chosen);
    expect(themeOf(A)).toBe(chosen);
    expect((await sync(B)).conflicts).toEqual([]);
  });

  it.each([
    ["remote", "a-title"],
    ["local", "b-title"],
  ])("leaves a session row's value here alone until the user decides, merges the rest of the row, then applies the choice (--keep %s)", async (keep, chosen) => {
    const world = await syncWorld();
    const A = world.machine("ask-row-a");
    const B = world.machine("ask-row-b");
    writeFileSync(join(B.config, "opencode-sync.json"), '{ "strategy": "ask" }\n');
    const db = openDb(A);
    const s = addSession(db, A, { title: "base title" });
    db.close();
    await sync(A);
    await sync(B);
    const row = (h: TestHome) => {
      const d = openDb(h);
      try {
        return d.prepare("SELECT title, slug FROM session WHERE id = ?").get(s.id) as { title: string; slug: string };
      } finally {
        d.close();
      }
    };
    const edit = (h: TestHome, sql: string, ...args: (string | number)[]) => {
      const d = openDb(h);
      d.prepare(sql).run(...args);
      d.close();
    };
    edit(A, "UPDATE session SET title = 'a-title', time_updated = ? WHERE id = ?", Date.now(), s.id);
    edit(B, "UPDATE session SET title = 'b-title', slug = 'b-slug', time_updated = ? WHERE id = ?", Date.now() + 1, s.id);
    await sync(A);
    const merged = await sync(B);
    const waiting = merged.conflicts.filter((c) => c.needsDecision);
    expect(waiting.map((c) => [c.path, c.at])).toEqual([[`db/sessions/${s.id}/session.json`, "/title"]]);
    // Before the decision: B's title is still live, and more syncs (and another edit of the row here) do not offer it again.
    expect(row(B)).toEqual({ title: "b-title", slug: "b-slug" });
    expect((await sync(B)).committed).toBe(0);
    edit(B, "UPDATE session SET slug = 'b-slug-2', time_updated = ? WHERE id = ?", Date.now() + 2, s.id);
    await sync(B);
    await sync(A);
    expect(row(B)).toEqual({ title: "b-title", slug: "b-slug-2" });
    expect(row(A)).toEqual({ title: "a-title", slug: "b-slug-2" });
    const resolved = await runCli(B.env, ["resolve", waiting[0]!.id, "--keep", keep]);
    expect(resolved.code, resolved.stderr).toBe(0);
    await sync(A);
    await sync(B);
    expect(row(B).title).toBe(chosen);
    expect(row(A).title).toBe(chosen);
    expect((await sync(B)).conflicts.filter((c) => c.needsDecision)).toEqual([]);
  });

  it("leaves a text file whose lines wait for a decision as it is here, then applies the choice", async () => {
    const world = await syncWorld();
    const A = world.machine("ask-text-a", false);
    const B = world.machine("ask-text-b", false);
    const file = (h: TestHome) => join(h.config, "AGENTS.md");
    writeFileSync(join(B.config, "opencode-sync.json"), '{ "strategy": "ask" }\n');
    writeFileSync(file(A), "# Rules\n\nuse tabs\n");
    await sync(A);
    await sync(B);
    writeFileSync(file(A), "# Rules\n\nuse spaces\n");
    writeFileSync(file(B), "# Rules\n\nuse two spaces\n");
    await sync(A);
    const merged = await sync(B);
    const waiting = merged.conflicts.filter((c) => c.needsDecision);
    expect(waiting.map((c) => c.path)).toEqual(["config/AGENTS.md"]);
    expect(readFileSync(file(B), "utf8")).toBe("# Rules\n\nuse two spaces\n");
    expect((await sync(B)).committed).toBe(0);
    expect(readFileSync(file(B), "utf8")).toBe("# Rules\n\nuse two spaces\n");
    expect((await runCli(B.env, ["resolve", waiting[0]!.id, "--keep", "remote"])).code).toBe(0);
    await sync(A);
    expect(readFileSync(file(B), "utf8")).toBe("# Rules\n\nuse spaces\n");
    expect(readFileSync(file(A), "utf8")).toBe("# Rules\n\nuse spaces\n");
  });
});
