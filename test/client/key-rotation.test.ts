// passphrase change rotates the data key: what is encrypted afterwards does not open with the old
// passphrase or key; a machine that still has the old key is told, keeps its credentials, and
// catches up (both ways) once it has the new passphrase; values encrypted before stay readable.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decryptEntry } from "../../client/crypto/entries.js";
import { parseWrappedKey, unwrapKey } from "../../client/crypto/keys.js";
import { decodeRecord } from "../../core/record.js";
import { runGit } from "../../git/run.js";
import { runCli } from "../support/cli.js";
import type { TestHome } from "../support/opencode-home.js";
import { PASSPHRASE, sync, syncWorld } from "../support/sync-env.js";

const NEW_PASSPHRASE = "a brand new passphrase";
const auth = (h: TestHome) => join(h.data, "auth.json");
const setAuth = (h: TestHome, entries: Record<string, string>) =>
  writeFileSync(auth(h), JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { type: "api", key: v }]))), { mode: 0o600 });
const keysIn = (h: TestHome) => Object.fromEntries(Object.entries(JSON.parse(readFileSync(auth(h), "utf8")) as Record<string, { key: string }>).map(([k, v]) => [k, v.key]));
const withPassphrase = (h: TestHome, passphrase: string): TestHome => ({ ...h, env: { ...h.env, OC_SYNC_PASSPHRASE: passphrase } });
const show = async (remoteDir: string, path: string) => (await runGit(["--git-dir", remoteDir, "show", `main:${path}`])).stdout.toString();

describe("the data key", () => {
  it("rotates the data key; a machine with the old key is told, loses nothing, and catches up with the new passphrase", async () => {
    const world = await syncWorld();
    const A = world.machine("rot-a");
    const B = world.machine("rot-b");
    const A2 = withPassphrase(A, NEW_PASSPHRASE);
    const B2 = withPassphrase(B, NEW_PASSPHRASE);
    setAuth(A, { openai: "sk-before-change" });
    await sync(A);
    await sync(B);
    expect(keysIn(B)).toEqual({ openai: "sk-before-change" });
    const oldWrapped = parseWrappedKey(await show(world.remoteDir, ".oc-sync/key.json"));
    const oldKey = await unwrapKey(oldWrapped, PASSPHRASE);

    const changed = await runCli(A.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: NEW_PASSPHRASE });
    expect(changed.code, changed.stderr).toBe(0);
    const rotated = parseWrappedKey(await show(world.remoteDir, ".oc-sync/key.json"));
    expect(rotated.keyId).not.toBe(oldWrapped.keyId);
    await expect(unwrapKey(rotated, PASSPHRASE)).rejects.toThrow(/wrong passphrase/);

    // A adds a key after the change: the old key does not open it; the value from before still opens with the new ring.
    setAuth(A, { openai: "sk-before-change", anthropic: "sk-after-change" });
    writeFileSync(join(A.config, "opencode.json"), JSON.stringify({ theme: "after-change" }));
    await sync(A2);
    const blob = (await runGit(["--git-dir", world.remoteDir, "show", "main:credentials/auth.json"])).stdout;
    const record = JSON.parse(new TextDecoder().decode(decodeRecord("credentials/auth.json", blob).content!)) as Record<string, string>;
    expect(() => decryptEntry({ current: oldKey, older: [] }, "credentials/auth.json", "anthropic", record.anthropic!)).toThrow(/fails authentication/);
    expect(decryptEntry({ current: oldKey, older: [] }, "credentials/auth.json", "openai", record.openai!)).toContain("sk-before-change");

    // B still has the old key cached and the old passphrase set: told, exit 3, its credentials untouched, the rest synced.
    setAuth(B, { openai: "sk-before-change", mistral: "sk-b-while-stale" });
    const stale = await runCli(B.env, ["sync"]);
    expect(stale.code).toBe(3);
    expect(stale.stdout + stale.stderr).toContain("the sync repo's data key was replaced by a passphrase change on another machine: give the new passphrase");
    expect(keysIn(B)).toEqual({ openai: "sk-before-change", mistral: "sk-b-while-stale" });
    expect(JSON.parse(readFileSync(join(B.config, "opencode.json"), "utf8"))).toEqual({ theme: "after-change" });
    expect((await runCli(B.env, ["status"])).stdout).toMatch(/credentials +not synced: the sync repo's data key was replaced/);

    // With the new passphrase B takes A's new key and merges what it added meanwhile with what it had not seen:
    // its edit is built on a version older than main's, and replaces nothing.
    expect((await sync(B2)).credentials).toBe("synced");
    expect(keysIn(B)).toEqual({ openai: "sk-before-change", anthropic: "sk-after-change", mistral: "sk-b-while-stale" });
    await sync(A2);
    expect(keysIn(A)).toEqual({ openai: "sk-before-change", anthropic: "sk-after-change", mistral: "sk-b-while-stale" });

    // A new machine with only the new passphrase reads every value, those from before the change too.
    const C = withPassphrase(world.machine("rot-c"), NEW_PASSPHRASE);
    await sync(C);
    expect(keysIn(C)).toEqual({ openai: "sk-before-change", anthropic: "sk-after-change", mistral: "sk-b-while-stale" });
  }, 120_000);

  // History seed 2925: after a rotation, a machine whose commit was built on a main that had changed one
  // of its entries encrypted its own unchanged copy of that entry afresh, under the new key: the
  // fingerprint the merge compares is keyed, so the old value looked like an edit, and won.
  it("after a rotation, an entry changed elsewhere is not taken back by a machine that did not change it", async () => {
    const world = await syncWorld();
    const A0 = world.machine("rot-keep-a");
    const B = world.machine("rot-keep-b");
    setAuth(B, { openai: "sk-first" });
    await sync(B);
    await sync(A0);
    const changed = await runCli(B.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: NEW_PASSPHRASE });
    expect(changed.code, changed.stderr).toBe(0);
    const [A, B2] = [withPassphrase(A0, NEW_PASSPHRASE), withPassphrase(B, NEW_PASSPHRASE)];
    setAuth(A, { openai: "sk-changed-on-a" });
    await sync(A);
    setAuth(B, { openai: "sk-first", anthropic: "sk-added-on-b" });
    await sync(B2);
    await sync(A);
    expect(keysIn(B)).toEqual({ openai: "sk-changed-on-a", anthropic: "sk-added-on-b" });
    expect(keysIn(A)).toEqual({ openai: "sk-changed-on-a", anthropic: "sk-added-on-b" });
  }, 120_000);

  it("a machine that synced without a passphrase and gets one later merges its credentials with main's, replacing none", async () => {
    const world = await syncWorld();
    const A = world.machine("late-a");
    const B = world.machine("late-b");
    const B0 = withPassphrase(B, "");
    setAuth(A, { openai: "sk-a" });
    await sync(A);
    setAuth(B, { mistral: "sk-b" });
    expect((await sync(B0)).credentials).toBe("skipped-no-passphrase");
    expect(keysIn(B)).toEqual({ mistral: "sk-b" });
    await sync(B);
    expect(keysIn(B)).toEqual({ openai: "sk-a", mistral: "sk-b" });
    await sync(A);
    expect(keysIn(A)).toEqual({ openai: "sk-a", mistral: "sk-b" });
  }, 60_000);

  // Long-run seed 1103: a rejoin (back from another remote) that could not read credentials (the key
  // had changed) left their index as of the other remote: the credential written there never reached
  // main, and main's never reached this machine.
  it("a machine back from a detour while the key was rotated sends what it wrote there once it has the new passphrase", async () => {
    const world = await syncWorld();
    const detour = await syncWorld();
    const A2 = withPassphrase(world.machine("det-a"), NEW_PASSPHRASE);
    const B = world.machine("det-b");
    setAuth(A2, { openai: "sk-a" });
    await sync({ ...A2, env: { ...A2.env, OC_SYNC_PASSPHRASE: PASSPHRASE } });
    await sync(B);
    expect((await runCli(A2.env, ["passphrase", "change"], { OC_SYNC_PASSPHRASE: PASSPHRASE, OC_SYNC_NEW_PASSPHRASE: NEW_PASSPHRASE })).code).toBe(0);
    const away = { ...B, env: { ...B.env, OC_SYNC_REMOTE: detour.url } };
    await sync(away);
    setAuth(B, { openai: "sk-a", mistral: "sk-b-on-the-detour" });
    await sync(away);
    expect((await sync(B)).credentials).toBe("skipped-key-changed");
    expect((await sync(withPassphrase(B, NEW_PASSPHRASE))).credentials).toBe("synced");
    setAuth(A2, { openai: "sk-a", anthropic: "sk-a-after-change" });
    await sync(A2);
    await sync(withPassphrase(B, NEW_PASSPHRASE));
    await sync(A2);
    const all = { openai: "sk-a", anthropic: "sk-a-after-change", mistral: "sk-b-on-the-detour" };
    expect(keysIn(A2)).toEqual(all);
    expect(keysIn(B)).toEqual(all);
  }, 120_000);

  // Long-run seed 1071: main reset to before a passphrase change; the machines with the new key were
  // told to give a passphrase they already had, and never synced credentials again.
  it("main reset past a passphrase change: a machine with the newer key puts it back, and credentials sync on", async () => {
    const world = await syncWorld();
    const A = world.machine("back-a");
    const A2 = withPassphrase(A, NEW_PASSPHRASE);
    const B2 = withPassphrase(world.machine("back-b"), NEW_PASSPHRASE);
    setAuth(A, { openai: "sk-a" });
    await sync(A);
    const before = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
    expect((await runCli(A.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: NEW_PASSPHRASE })).code).toBe(0);
    const rotated = parseWrappedKey(await show(world.remoteDir, ".oc-sync/key.json"));
    await sync(B2);
    await runGit(["--git-dir", world.remoteDir, "update-ref", "refs/heads/main", before]);
    setAuth(A, { openai: "sk-a", anthropic: "sk-a-after-reset" });
    const r = await runCli(A2.env, ["sync", "--repush"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(parseWrappedKey(await show(world.remoteDir, ".oc-sync/key.json")).keyId).toBe(rotated.keyId);
    // B had synced the rewritten main too: it puts back what it has, as the message says, and reads A's new value.
    expect((await sync(B2, { repush: true })).credentials).toBe("synced");
    expect(keysIn(B2)).toEqual({ openai: "sk-a", anthropic: "sk-a-after-reset" });
  }, 120_000);

  // History seed 3003: with main reset past the change, a machine that had never cached a key had only
  // the new passphrase, which opens no key file on main: every sync of it failed.
  it("main reset past a passphrase change: a machine with only the new passphrase takes the newer key from a machine's branch and puts it back", async () => {
    const world = await syncWorld();
    const A = world.machine("back-branch-a");
    setAuth(A, { openai: "sk-a" });
    await sync(A);
    const before = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
    expect((await runCli(A.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: NEW_PASSPHRASE })).code).toBe(0);
    const rotated = parseWrappedKey(await show(world.remoteDir, ".oc-sync/key.json"));
    setAuth(A, { openai: "sk-a", anthropic: "sk-a-after-change" });
    await sync(withPassphrase(A, NEW_PASSPHRASE));
    await runGit(["--git-dir", world.remoteDir, "update-ref", "refs/heads/main", before]);
    const C = withPassphrase(world.machine("back-branch-c"), NEW_PASSPHRASE);
    expect((await sync(C)).credentials).toBe("synced");
    expect(parseWrappedKey(await show(world.remoteDir, ".oc-sync/key.json")).keyId).toBe(rotated.keyId);
    // What A's branch held from after the change comes back into main with it.
    expect(keysIn(C)).toEqual({ openai: "sk-a", anthropic: "sk-a-after-change" });
  }, 120_000);

  // History seed 3070: a sync killed after it committed on a newer main, before it applied it, left a
  // pending head whose contents the index did not know; the next commit, on that head, replaced the
  // other machine's auth.json unmerged, and main fast-forwarded to it.
  it("a commit on a pending head a killed sync made on a newer main merges with what that main held", async () => {
    const world = await syncWorld();
    const A = world.machine("pending-head-a");
    const B = world.machine("pending-head-b");
    await sync(A);
    setAuth(B, { openai: "sk-b" });
    await sync(B);
    writeFileSync(join(A.config, "opencode.json"), JSON.stringify({ theme: "a change to commit" }));
    expect((await runCli(A.env, ["sync"], { OC_SYNC_CRASH_AT: "after-commit" })).code).toBe(137);
    setAuth(A, { anthropic: "sk-a" });
    await sync(A);
    await sync(B);
    expect(keysIn(A)).toEqual({ openai: "sk-b", anthropic: "sk-a" });
    expect(keysIn(B)).toEqual({ openai: "sk-b", anthropic: "sk-a" });
  }, 120_000);

  // History seed 7115: a machine given the new passphrase signed again, under it, the version it held as of
  // its last credentials apply, and committed that onto a main that had a newer one: the newer one was replaced.
  it("a machine given the new passphrase does not put the version it last applied over a newer one", async () => {
    const world = await syncWorld();
    const A = world.machine("late-key-a");
    const B = world.machine("late-key-b");
    setAuth(A, { openai: "sk-a" });
    await sync(A);
    await sync(B);
    expect((await runCli(B.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: NEW_PASSPHRASE })).code).toBe(0);
    const B2 = withPassphrase(B, NEW_PASSPHRASE);
    setAuth(B2, { openai: "sk-a", mistral: "sk-b" });
    await sync(B2);
    expect((await sync(A)).credentials).toBe("skipped-key-changed");
    const A2 = withPassphrase(A, NEW_PASSPHRASE);
    await sync(A2);
    expect(keysIn(A)).toEqual({ openai: "sk-a", mistral: "sk-b" });
    await sync(B2);
    expect(keysIn(B)).toEqual({ openai: "sk-a", mistral: "sk-b" });
    expect(await show(world.remoteDir, "credentials/auth.json")).toContain("mistral");
  }, 120_000);

  it("refuses a new passphrase that is too short before changing anything", async () => {
    const world = await syncWorld();
    const A = world.machine("rot-short");
    setAuth(A, { openai: "sk-x" });
    await sync(A);
    const before = await show(world.remoteDir, ".oc-sync/key.json");
    const r = await runCli(A.env, ["passphrase", "change"], { OC_SYNC_NEW_PASSPHRASE: "short" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("passphrase too short: use at least 8 characters; nothing was changed");
    expect(await show(world.remoteDir, ".oc-sync/key.json")).toBe(before);
  }, 60_000);
});
