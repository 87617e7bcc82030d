// Actions minutes: a reference month replayed through the GitHub stand-in (its runner executes the
// bundled Action on pushes, as GitHub does), counting the workflow runs GitHub would bill.
// Two machines, 8 active hours a day each, overlapping one hour, 22 working days. While a machine
// is active, the plugin's triggers are modelled: a sync when OpenCode starts; a change (a prompt, a
// message in the current session, now and then a model switch) syncs after the 5 s debounce; the
// other machine, if active, pulls when its 60 s remote check sees main move. Times are virtual; every sync is a real one.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadContext } from "../client/sync/context.js";
import { runSync } from "../client/sync/cycle.js";
import { workflowFiles } from "../client/github/workflow.js";
import { runCli } from "../test/support/cli.js";
import { startGitHubStandIn } from "../test/support/github/standin.js";
import { seeded } from "../test/support/history/random.js";
import { DEMO_PROJECT, makeHome, type TestHome } from "../test/support/opencode-home.js";
import { addMessage, generate, id } from "./generate.js";

const TOKEN = "standin-token-bench-0123456789abcdef";
const MIN = 60_000;
const HOUR = 60 * MIN;

interface Machine {
  readonly name: string;
  readonly home: TestHome;
  /** Active hours of the day, [from, to). */
  readonly hours: readonly [number, number];
  session: string;
}

interface Event {
  readonly at: number;
  readonly machine: Machine;
  readonly kind: "start" | "change" | "pull";
}

export interface MinutesReport {
  readonly days: number;
  readonly syncs: number;
  /** How the syncs ended: a run is spent only by "waiting-for-action". */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly pushRuns: number;
  readonly scheduledRuns: number;
  readonly billedMinutes: number;
}

export async function replayMonth(days = 22, seed = 1): Promise<MinutesReport> {
  const rnd = seeded(seed);
  const root = mkdtempSync(join(tmpdir(), "oc-sync-bench-minutes-"));
  const gh = await startGitHubStandIn({ root: join(root, "github") });
  try {
    gh.addUser(TOKEN, { login: "ana", workflows: true });
    const env = gh.clientEnv(TOKEN, "bench passphrase");
    const machines: Machine[] = [
      { name: "laptop", hours: [9, 17], home: makeHome(root, "laptop", env), session: "" },
      { name: "desktop", hours: [16, 24], home: makeHome(root, "desktop", env), session: "" },
    ];
    for (const m of machines) {
      const { sessions } = generate(m.home.db, { name: "bench", sessions: 5, messagesPerSession: 4, partsPerMessage: 3 }, DEMO_PROJECT, m.home.repo);
      m.session = sessions[0]!;
      const r = await runCli(m.home.env, ["init", "--github", "ana/oc-data", "--machine", m.name]);
      if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
    }
    await gh.runner.idle();
    const setupRuns = (gh.runner.runs.get("ana/oc-data") ?? []).length;

    const events: Event[] = [];
    for (let day = 0; day < days; day++) {
      for (const m of machines) {
        // OpenCode starts (the plugin syncs), then a change every 10 minutes on average while active.
        events.push({ at: day * 24 * HOUR + m.hours[0] * HOUR, machine: m, kind: "start" });
        for (let t = day * 24 * HOUR + m.hours[0] * HOUR; t < day * 24 * HOUR + m.hours[1] * HOUR; t += rnd.int(2, 18) * MIN) events.push({ at: t + 5_000, machine: m, kind: "change" });
      }
    }
    events.sort((a, b) => a.at - b.at);
    const active = (m: Machine, at: number) => {
      const h = (at % (24 * HOUR)) / HOUR;
      return h >= m.hours[0] && h < m.hours[1];
    };
    let syncs = 0;
    const outcomes: Record<string, number> = {};
    const pending: Event[] = [];
    const next = () => {
      // Pulls are inserted as they arise: the earliest of the planned and the arisen goes next.
      pending.sort((a, b) => a.at - b.at);
      if (pending.length && (!events.length || pending[0]!.at <= events[0]!.at)) return pending.shift();
      return events.shift();
    };
    for (let e = next(); e; e = next()) {
      if (e.kind === "change") change(e.machine, rnd.int(0, 20) === 0);
      const report = await runSync(await loadContext({ env: e.machine.home.env }));
      syncs++;
      outcomes[report.outcome] = (outcomes[report.outcome] ?? 0) + 1;
      await gh.runner.idle();
      // Main moved (pushed, merged here, or about to be merged by the run just finished): the other machine notices.
      if (report.outcome === "fast-forward" || report.outcome === "merged" || report.outcome === "waiting-for-action") {
        for (const other of machines) if (other !== e.machine && active(other, e.at)) pending.push({ at: e.at + rnd.int(1, 60) * 1000, machine: other, kind: "pull" });
      }
    }
    const pushRuns = (gh.runner.runs.get("ana/oc-data") ?? []).length - setupRuns;
    // The workflow's safety-net schedule runs whatever happens: count it from the installed cron.
    const workflow = [...(await workflowFiles())].find(([p]) => p.endsWith(".yml") && p.includes("workflows"))![1];
    const crons = (Buffer.from(workflow).toString().match(/cron: "([^"]+)"/g) ?? []).length;
    const scheduledRuns = crons * 30;
    return { days, syncs, outcomes, pushRuns, scheduledRuns, billedMinutes: pushRuns + scheduledRuns };
  } finally {
    await gh.close();
    rmSync(root, { recursive: true, force: true });
  }

  /** What a user's turn leaves behind: a prompt, a message with parts, sometimes a model switch. */
  function change(m: Machine, switchModel: boolean): void {
    mkdirSync(m.home.state, { recursive: true });
    appendFileSync(join(m.home.state, "prompt-history.jsonl"), JSON.stringify({ input: `ask ${id("p")}`, parts: [], mode: "normal" }) + "\n");
    if (switchModel) writeFileSync(join(m.home.state, "model.json"), JSON.stringify({ recent: [{ providerID: "x", modelID: id("m") }] }));
    const db = new DatabaseSync(m.home.db);
    db.exec("PRAGMA busy_timeout = 5000");
    const t = Date.now();
    addMessage(db.prepare("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)"), db.prepare("INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)"), m.session, m.home.repo, t, 3, t % 1000);
    db.prepare("UPDATE session SET time_updated = ? WHERE id = ?").run(t + 1, m.session);
    db.close();
  }
}
