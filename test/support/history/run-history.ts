// One Jepsen-style history: 3–5 machines against one remote, random edits, random syncs (in
// process, or as the real CLI in a child process that may be killed at any moment while the user
// keeps editing), random runs of the merge (the Action's reconcile, also killable); then quiesce
// and check the model. Everything random comes from the seed, except where a kill lands.
import { remoteRecordPaths } from "../remote-view.js";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { parse } from "jsonc-parser";
import { fileURLToPath } from "node:url";
import { runSync, type SyncReport } from "../../../client/sync/cycle.js";
import { listConflicts } from "../../../client/sync/conflicts.js";
import { loadContext } from "../../../client/sync/context.js";
import { acceptHeld } from "../../../client/sync/executable-gate.js";
import { RewrittenMainError, SharedMachineIdError } from "../../../client/sync/attention.js";
import { PassphraseError } from "../../../client/crypto/keys.js";
import { MassDeleteError } from "../../../client/sync/local-commit.js";
import { foreignRecord, plantOnMain } from "../hostile-repo.js";
import { fetchRefs } from "../../../git/remote.js";
import { GitRepo } from "../../../git/repo.js";
import { sleep } from "../../../git/retry.js";
import { runGit } from "../../../git/run.js";
import type { Env } from "../../../client/platform/paths.js";
import { Machine, type MachineSnapshot } from "./machine.js";
import { HistoryModel, ownUnaccounted, unaccounted, type SessionDelete, type SessionModel } from "./model.js";
import { seeded } from "./random.js";

const CLI = fileURLToPath(new URL("../../../bin/oc-sync.js", import.meta.url));

/** The faults a history injects, as operations among the edits and syncs. */
export const FAULTS = ["lose-state", "link-config", "zero-config", "force-push", "poison", "wipe-db", "oversized", "remote-switch", "restore-backup", "clone-home", "split-push", "rotate-key"] as const;
type Fault = (typeof FAULTS)[number];

export interface HistoryWorld {
  /** A folder for this history's homes. */
  readonly root: string;
  /** The remote's URL and the bare repo behind it. */
  readonly url: string;
  readonly remoteDir: string;
  readonly env: Env;
}

export interface HistoryResult {
  readonly seed: number;
  readonly machines: number;
  readonly mode: "local" | "action";
  readonly operations: number;
  readonly kills: number;
  /** The faults that took effect (a fault with nothing to act on, e.g. a force-push before main has history, does not count). */
  readonly faults: readonly string[];
  readonly violations: string[];
  readonly log: readonly string[];
}

interface Background {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
  /** The session deletes made here before it started: a sync that completes has carried them. */
  readonly carries?: readonly SessionDelete[];
}

export async function runHistory(seed: number, world: HistoryWorld): Promise<HistoryResult> {
  const rnd = seeded(seed);
  const mode = rnd.chance(0.5) ? "local" : "action";
  const names = Array.from({ length: rnd.int(3, 5) }, (_, i) => `m${i}`);
  const machines = names.map((n) => new Machine(n, world.root, { ...world.env, OC_SYNC_MERGE: mode }));
  const reconciler = new Machine("reconciler", world.root, { ...world.env, OC_SYNC_MERGE: "local" });
  const model = new HistoryModel();
  const running = new Map<string, Background>();
  const failures: string[] = [];
  let counter = 0;
  let kills = 0;
  const faults: string[] = [];
  const unique = (m: Machine, what: string) => `${what}-${m.name}-${++counter}`;
  // Session deletes no completed sync has carried yet, by machine (see SessionDelete.mayBeUndone).
  const uncarried = new Map<string, SessionDelete[]>();
  const uncarriedOf = (m: Machine) => uncarried.get(m.name) ?? [];
  const carried = (m: Machine, deletes: readonly SessionDelete[]) => uncarried.set(m.name, uncarriedOf(m).filter((d) => !deletes.includes(d)));

  // The passphrase every machine learns once a sync tells it the key was rotated (rotate-key).
  let passphrase = world.env.OC_SYNC_PASSPHRASE;
  const syncInProcess = async (m: Machine, options: { allowMassDelete?: boolean; repush?: boolean; restoreMissing?: boolean; reviewed?: boolean } = {}): Promise<SyncReport> => {
    const ctx = await loadContext({ env: m.home.env });
    const carrying = uncarriedOf(m);
    try {
      const report = await runSync(ctx, options);
      carried(m, carrying);
      // The key was rotated elsewhere: the user gives this machine the new passphrase, as the message says.
      if (report.credentials === "skipped-key-changed" && m.home.env.OC_SYNC_PASSPHRASE !== passphrase) {
        model.note(`${m.name}: told the key was rotated, given the new passphrase`);
        m.setEnv({ OC_SYNC_PASSPHRASE: passphrase });
        return syncInProcess(m, options);
      }
      // A change none of the user's machines signed is held for review (executable-gate.ts). Here every
      // change is the user's own: one their machines could not sign (made with the key a rotation replaced,
      // merged before its machine had the new one) the user accepts, as the message says. Counted as a fault.
      const review = report.needsUser.flatMap((p) => /is held, not applied.*--accept ([0-9a-f]{12})/.exec(p)?.[1] ?? []);
      if (review.length && !options.reviewed) {
        for (const id of review) await acceptHeld(ctx, id);
        model.note(`${m.name}: ${review.length} held change(s) reviewed, accepted`);
        faults.push("held-for-review");
        return syncInProcess(m, { ...options, reviewed: true });
      }
      // Deletions from another machine held for this user's yes (see heldDeletions); the user says yes.
      const held = report.needsUser.find((m) => m.includes("deleted on another machine"));
      if (!held || options.allowMassDelete) return report;
      model.note(`${m.name}: deletions held (${held.slice(0, 60)}…), confirmed`);
      return syncInProcess(m, { ...options, allowMassDelete: true });
    } catch (e) {
      // A machine without the key cached asks for the passphrase that opens the rotated one.
      if (e instanceof PassphraseError && m.home.env.OC_SYNC_PASSPHRASE !== passphrase) {
        model.note(`${m.name}: its passphrase no longer opens the key, given the new one`);
        m.setEnv({ OC_SYNC_PASSPHRASE: passphrase });
        return syncInProcess(m, options);
      }
      // Another machine pushes under this one's id (a copied home, a restored backup): the user gives this one an id of its own.
      if (e instanceof SharedMachineIdError) {
        const id = `${m.name}-id${++counter}`;
        model.note(`${m.name}: its id is shared, now ${id}`);
        m.setEnv({ OC_SYNC_MACHINE: id });
        return syncInProcess(m, options);
      }
      // The guard asks before a large share of records is deleted; the user says yes.
      if (e instanceof MassDeleteError) {
        model.note(`${m.name}: mass-delete guard (${e.message.slice(0, 60)}…), confirmed`);
        return syncInProcess(m, { ...options, allowMassDelete: true });
      }
      // Main was rewritten: the user does what the message says and puts everything back.
      if (e instanceof RewrittenMainError && !options.repush) {
        model.note(`${m.name}: main was rewritten, sync --repush`);
        return syncInProcess(m, { ...options, repush: true });
      }
      throw e;
    }
  };

  const spawnCli = (m: Machine, args: string[], extraEnv: Env = {}): Background => {
    // Its own process group, so a kill takes the installed command and the Node it starts, as a power loss would.
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...m.home.env, ...extraEnv } as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    let stdout = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d));
    child.stdout!.on("data", (d: Buffer) => (stdout = (stdout + d).slice(-4000)));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr, stdout })));
    return { child, done };
  };

  const settle = async (m: Machine) => {
    const bg = running.get(m.name);
    if (!bg) return;
    running.delete(m.name);
    const r = await bg.done;
    if (r.signal === "SIGKILL") return;
    if (r.code === 0 && bg.carries) carried(m, bg.carries);
    // Its passphrase opened the key before a rotation: the user gives it the new one (the next sync uses it).
    if (r.code === 1 && (r.stderr + r.stdout).includes("wrong passphrase") && m.home.env.OC_SYNC_PASSPHRASE !== passphrase) {
      model.note(`${m.name}: background sync needs the new passphrase, given`);
      m.setEnv({ OC_SYNC_PASSPHRASE: passphrase });
      return;
    }
    if (r.code !== 0 && r.code !== 3) failures.push(`${m.name}: background '${bg.child.spawnargs.slice(2).join(" ")}' exited ${r.code}: ${(r.stderr + r.stdout).trim()}`);
  };

  /** Starts the CLI in the background; the user may go on editing, and it may be killed. */
  const background = async (m: Machine, args: string[], editsMeanwhile: number) => {
    await settle(m);
    const bg = { ...spawnCli(m, args), carries: args[0] === "sync" ? uncarriedOf(m) : undefined };
    running.set(m.name, bg);
    const kill = rnd.chance(0.5) ? rnd.int(100, 1500) : null;
    model.note(`${m.name}: background ${args.join(" ")}${kill === null ? "" : `, killed after ${kill} ms`}`);
    if (kill !== null) {
      setTimeout(() => {
        if (bg.child.exitCode === null && bg.child.signalCode === null) {
          kills++;
          process.kill(-bg.child.pid!, "SIGKILL");
        }
      }, kill);
    }
    // Spread over the sync's lifetime, so edits land between its scan and its apply too.
    for (let i = 0; i < editsMeanwhile; i++) {
      await sleep(rnd.int(0, 900));
      edit(m);
    }
  };

  const liveSessions = (m: Machine) => m.sessionIds().filter((id) => model.sessions.has(id));

  function startSession(m: Machine): string {
    const s = m.newSession();
    model.sessions.set(s.id, { id: s.id, creator: m.name, titles: [{ machine: m.name, value: s.title, prev: undefined }], messages: new Map(s.messages.map((x) => [x.id, { machine: m.name, parts: x.parts }])), deletes: [] });
    return s.id;
  }

  function edit(m: Machine): void {
    const op = rnd.pick(["config-own", "config-shared", "cred-own", "cred-shared", "prompt", "session", "message", "message", "rename", "delete"] as const);
    switch (op) {
      case "config-own": {
        const value = unique(m, "own");
        model.ownWrite(model.ownConfig, `own_${m.name}`, { machine: m.name, value, prev: m.editConfig(`own_${m.name}`, value) });
        break;
      }
      case "config-shared": {
        const value = unique(m, "theme");
        model.sharedConfig.push({ machine: m.name, value, prev: m.editConfig("theme", value) });
        break;
      }
      case "cred-own": {
        const value = unique(m, "sk-own");
        model.ownWrite(model.ownCredentials, `provider_${m.name}`, { machine: m.name, value, prev: m.editCredential(`provider_${m.name}`, value) });
        break;
      }
      case "cred-shared": {
        const value = unique(m, "sk-shared");
        model.sharedCredentials.push({ machine: m.name, value, prev: m.editCredential("openai", value) });
        break;
      }
      case "prompt": {
        const input = unique(m, "prompt");
        m.appendPrompt(input);
        model.prompts.add(input);
        break;
      }
      case "session":
        startSession(m);
        break;
      case "message": {
        const ids = liveSessions(m);
        if (!ids.length) return;
        const id = rnd.pick(ids);
        const made = m.addMessage(id, unique(m, "text"));
        if (made) model.sessions.get(id)!.messages.set(made.id, { machine: m.name, parts: made.parts });
        break;
      }
      case "rename": {
        const ids = liveSessions(m);
        if (!ids.length) return;
        const id = rnd.pick(ids);
        const title = unique(m, "title");
        const prev = m.rename(id, title);
        if (prev !== undefined) model.sessions.get(id)!.titles.push({ machine: m.name, value: title, prev });
        break;
      }
      case "delete": {
        const ids = liveSessions(m);
        if (!ids.length) return;
        const id = rnd.pick(ids);
        const saw = m.deleteSession(id);
        if (!saw) break;
        const made: SessionDelete = { machine: m.name, sawMessages: saw.messages, sawTitle: saw.title };
        model.sessions.get(id)!.deletes.push(made);
        uncarried.set(m.name, [...uncarriedOf(m), made]);
        break;
      }
    }
    model.note(`${m.name}: ${op}`);
  }

  /** The bad luck of DESIGN.md §7, one at a time. */
  async function fault(kind: Fault, m: Machine): Promise<void> {
    const applied = await injectFault(kind, m);
    model.note(`${m.name}: fault ${kind}${applied ? "" : " (nothing to act on)"}`);
    if (applied) faults.push(kind);
  }

  async function injectFault(kind: Fault, m: Machine): Promise<boolean> {
    switch (kind) {
      case "lose-state":
        // A session deleted here that no completed sync carried, then state.db lost: the delete cannot be told
        // from a restored backup that never had the session, and the session may come back (a known limit,
        // see the README). The next sync runs before the user deletes anything more, for the same reason.
        await settle(m);
        for (const d of uncarriedOf(m)) d.mayBeUndone = true;
        uncarried.delete(m.name);
        m.loseSyncState();
        await syncInProcess(m);
        return true;
      case "link-config":
        await settle(m);
        return m.linkConfigFolder();
      case "zero-config": {
        // A power loss zeroes the file; a sync runs before the user notices and puts it back.
        await settle(m);
        const before = m.zeroConfig();
        if (before === null) return false;
        await syncInProcess(m);
        // Damage never spreads: whatever the sync did, main holds no zeroed config.
        const remote = await runGit(["--git-dir", world.remoteDir, "cat-file", "-p", "main:config/opencode.jsonc"], { okCodes: [128] });
        if (remote.stdout.includes(0)) failures.push(`${m.name}: its zeroed opencode.jsonc reached main`);
        m.restoreConfig(before);
        return true;
      }
      case "wipe-db": {
        // OpenCode reinstalled; the user notices and asks oc-sync to bring everything back before anything else syncs.
        // What never left the machine is lost by the reinstall itself, not by a sync: it syncs first.
        await settle(m);
        if (!m.sessionIds().length) return false;
        await syncInProcess(m);
        m.wipeDatabase();
        await syncInProcess(m, { restoreMissing: true });
        return true;
      }
      case "force-push": {
        await Promise.all([...machines, reconciler].map(settle));
        const history = (await runGit(["--git-dir", world.remoteDir, "rev-list", "--first-parent", "main"], { okCodes: [128] })).stdout.toString().trim().split("\n").filter(Boolean);
        if (history.length < 2) return false;
        const older = history[rnd.int(1, history.length - 1)]!;
        await runGit(["--git-dir", world.remoteDir, "update-ref", "refs/heads/main", older]);
        model.note(`remote: main reset ${history.indexOf(older)} commit(s) back`);
        return true;
      }
      case "oversized": {
        // A tool output grows past the record limit: it stays here, the rest syncs; the user compacts it and then it syncs.
        await settle(m);
        const id = liveSessions(m)[0] ?? startSession(m);
        const made = m.addOversizedMessage(id)!;
        const report = await syncInProcess(m);
        if (!report.problems.some((p) => p.includes(made.parts[1]!))) failures.push(`${m.name}: the oversized part ${made.parts[1]} was not reported`);
        const tree = await remoteRecordPaths(world.remoteDir);
        if (tree.some((p) => p.includes(made.parts[1]!))) failures.push(`${m.name}: the oversized part ${made.parts[1]} reached main`);
        m.setPart(id, made.parts[1]!, "compacted");
        model.sessions.get(id)!.messages.set(made.id, { machine: m.name, parts: made.parts });
        return true;
      }
      case "remote-switch": {
        // A detour: the user points this machine at another remote for a while, edits there, and comes back.
        await settle(m);
        const detour = `-detour${++counter}.git`;
        await runGit(["init", "--bare", "-q", "-b", "main", world.remoteDir.replace(/\.git$/, detour)]);
        m.setEnv({ OC_SYNC_REMOTE: world.url.replace(/\.git$/, detour) });
        await syncInProcess(m);
        for (let i = rnd.int(1, 3); i > 0; i--) edit(m);
        await syncInProcess(m);
        m.setEnv({ OC_SYNC_REMOTE: world.url });
        await syncInProcess(m);
        return true;
      }
      case "restore-backup": {
        // A backup of the home, synced edits after it, then the backup is restored (what was synced comes back from main).
        await settle(m);
        await syncInProcess(m);
        m.backUp();
        for (let i = rnd.int(1, 3); i > 0; i--) edit(m);
        await syncInProcess(m);
        return m.restoreBackup();
      }
      case "clone-home": {
        // The home is copied to a new machine, id and all, after a sync (edits the copy carries unsynced
        // become concurrent with the original's: kept as conflicts, see edges.test.ts); both go on editing and syncing.
        await settle(m);
        await syncInProcess(m);
        const copy = new Machine(`${m.name}c${++counter}`, world.root, { ...world.env, OC_SYNC_MERGE: mode, OC_SYNC_MACHINE: m.home.env.OC_SYNC_MACHINE }, m);
        machines.push(copy);
        names.push(copy.name);
        edit(m);
        await syncInProcess(m);
        edit(copy);
        await syncInProcess(copy);
        return true;
      }
      case "split-push": {
        // A sync larger than one push (a 1 MiB budget here), in the background: it may be killed between two pushes while the user goes on.
        await settle(m);
        const id = liveSessions(m)[0] ?? startSession(m);
        const made = m.addLargeMessages(id, 26);
        for (const x of made) model.sessions.get(id)!.messages.set(x.id, { machine: m.name, parts: x.parts });
        m.writeSettings(1);
        await background(m, ["sync", "--json"], rnd.int(0, 2));
        return made.length > 0;
      }
      case "rotate-key": {
        // The user changes the passphrase on this machine; every other machine is told at its next sync and given the new one.
        await Promise.all([...machines, reconciler].map(settle));
        // The user knows the passphrase in use (a rotation before may not have reached this machine yet).
        m.setEnv({ OC_SYNC_PASSPHRASE: passphrase });
        const next = `rotated passphrase ${++counter}`;
        const r = await spawnCli(m, ["passphrase", "change", "--json"], { OC_SYNC_NEW_PASSPHRASE: next }).done;
        if (r.code !== 0) {
          if (/has no key yet/.test(r.stderr + r.stdout)) return false;
          throw new Error(`oc-sync passphrase change failed (${r.code}): ${r.stderr}${r.stdout}`);
        }
        passphrase = next;
        m.setEnv({ OC_SYNC_PASSPHRASE: next });
        return true;
      }
      case "poison": {
        // Planted while nothing else writes main (the planting is no compare-and-swap of ours).
        await Promise.all([...machines, reconciler].map(settle));
        if (!(await runGit(["--git-dir", world.remoteDir, "rev-parse", "-q", "--verify", "main"], { okCodes: [1, 128] })).stdout.length) return false;
        const deep = "[".repeat(5000) + "]".repeat(5000);
        const ids = liveSessions(m);
        const n = ++counter;
        // A message nested too deep under a session every machine has, or a config file nested too deep.
        const poison = ids.length
          ? foreignRecord(`db/sessions/${ids[0]}/messages/msg_poison${n}.json`, `{"id":"msg_poison${n}","session_id":"${ids[0]}","time_created":1,"time_updated":1,"data":${deep}}\n`, "json")
          : foreignRecord(`config/agent/poison${n}.json`, `{"a":${deep}}\n`, "jsonc");
        await plantOnMain(world.remoteDir, [poison]);
        model.note(`remote: planted ${poison.path}`);
        return true;
      }
    }
  }

  const steps = rnd.int(14, 22);
  // Every history meets one fault for sure (by its seed, so 50 seeds meet each of them), and maybe more.
  const forced = { step: rnd.int(Math.floor(steps / 2), steps - 2), kind: FAULTS[seed % FAULTS.length]! };
  try {
    for (let step = 0; step < steps; step++) {
      const m = rnd.pick(machines);
      const r = rnd.next();
      if (step === forced.step) await fault(forced.kind, m);
      if (r < 0.06) await fault(rnd.pick(FAULTS), m);
      else if (r < 0.45) edit(m);
      else if (r < 0.75) {
        await settle(m);
        model.note(`${m.name}: sync`);
        await syncInProcess(m);
      } else if (r < 0.9) await background(m, ["sync", "--json"], rnd.int(0, 3));
      else await background(reconciler, ["merge", "--json"], 0);
    }
    await quiesce();
  } catch (e) {
    failures.push(`operation failed: ${(e as Error).stack ?? e}`);
    await Promise.all([...machines, reconciler].map(settle));
  }
  const violations = failures.length ? failures : await check();
  return { seed, machines: machines.length, mode, operations: model.log.length, kills, faults, violations, log: model.log };

  /** Stop writing; sync everything until nothing moves. */
  async function quiesce(): Promise<void> {
    await Promise.all([...machines, reconciler].map(settle));
    const repo = await GitRepo.open(join(world.root, "observer.git"));
    try {
      let last = "";
      for (let round = 0; round < 8; round++) {
        if (mode === "action") await runCliMerge();
        for (const m of machines) await syncInProcess(m);
        await fetchRefs(repo, { url: world.url, ...(world.env.OC_SYNC_TOKEN ? { auth: { token: world.env.OC_SYNC_TOKEN } } : {}) });
        const refs = (await repo.git(["for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/sync/"])).stdout.toString();
        const state = refs + JSON.stringify(machines.map((m) => m.snapshot()));
        if (state === last) return;
        last = state;
      }
      failures.push("did not converge within 8 rounds of syncs after the writes stopped");
    } finally {
      repo.close();
    }
  }

  async function runCliMerge(): Promise<void> {
    const r = await spawnCli(reconciler, ["merge", "--json"]).done;
    if (r.code !== 0) throw new Error(`oc-sync merge failed: ${r.stderr}`);
  }

  async function check(): Promise<string[]> {
    const v: string[] = [];
    const snaps = machines.map((m) => m.snapshot());
    const first = snaps[0]!;
    for (let i = 1; i < snaps.length; i++) {
      for (const key of Object.keys(first) as (keyof MachineSnapshot)[]) {
        const [a, b] = [JSON.stringify(first[key]), JSON.stringify(snaps[i]![key])];
        if (a !== b) v.push(`machines differ: ${names[i]}'s ${key} ${b.slice(0, 400)} is not ${names[0]}'s ${a.slice(0, 400)}`);
      }
    }
    const main = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString().trim();
    const repo = new GitRepo(world.remoteDir);
    const conflictText = JSON.stringify(await listConflicts(repo, main));
    repo.close();

    const config = first.config ? (parse(first.config) as Record<string, string>) : {};
    for (const [key, writes] of model.ownConfig) for (const wrong of ownUnaccounted(writes, config[key], conflictText)) v.push(`config ${key}: ${wrong}`);
    for (const lost of unaccounted(model.sharedConfig, config.theme, conflictText)) v.push(`config theme: write ${lost} is neither the value, nor replaced knowingly, nor a conflict`);
    const creds = first.credentials ?? {};
    for (const [entry, writes] of model.ownCredentials) for (const wrong of ownUnaccounted(writes, creds[entry]?.key, null)) v.push(`auth.json ${entry}: ${wrong}`);
    const shared = model.sharedCredentials.map((w) => w.value);
    if (shared.length && !shared.includes(creds.openai?.key ?? "")) v.push(`auth.json openai: ${creds.openai?.key} was never written`);
    const prompts = new Set((first.prompts ?? "").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { input: string }).input));
    for (const p of model.prompts) if (!prompts.has(p)) v.push(`prompt history lost ${p}`);

    const sessions = new Map(first.sessions.map((s) => [s.id, s]));
    const messages = new Set(first.messages.map((m) => m.id));
    const parts = new Set(first.parts.map((p) => p.id));
    for (const s of model.sessions.values()) v.push(...checkSession(s, sessions.get(s.id), messages, parts, conflictText));
    for (const s of first.sessions) if (!model.sessions.has(s.id)) v.push(`session ${s.id} was never created`);
    return v;
  }

  function checkSession(s: SessionModel, row: { title: string } | undefined, messages: Set<string>, parts: Set<string>, conflictText: string): string[] {
    const v: string[] = [];
    const expect = (right: Set<boolean>) => (right.size > 1 ? "either" : right.has(true) ? "present" : "gone");
    const lives = model.sessionOutcomes(s);
    if (!lives.has(row !== undefined)) v.push(`session ${s.id} (by ${s.creator}, ${s.deletes.length} delete(s)) is ${row ? "present" : "gone"}, expected ${expect(lives)}`);
    for (const [id, made] of s.messages) {
      const expected = model.messageOutcomes(s, id);
      if (!expected.has(messages.has(id))) v.push(`message ${id} of ${s.id} (by ${made.machine}) is ${messages.has(id) ? "present" : "gone"}, expected ${expect(expected)}`);
      for (const p of made.parts) if (!expected.has(parts.has(p))) v.push(`part ${p} of ${id} is ${parts.has(p) ? "present" : "gone"}, expected ${expect(expected)}`);
    }
    if (row) {
      if (!s.titles.some((t) => t.value === row.title)) v.push(`session ${s.id}: title ${row.title} was never written`);
      if (!s.deletes.length) for (const lost of unaccounted(s.titles, row.title, conflictText)) v.push(`session ${s.id}: title ${lost} is neither the title, nor replaced knowingly, nor a conflict`);
    }
    return v;
  }
}
