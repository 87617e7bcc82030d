// The oc-sync command line: parse, dispatch, print, exit with a meaningful code.
import { parseArgs } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import { AttentionError } from "../sync/attention.js";
import { failureKind } from "../sync/failure.js";
import { loadContext } from "../sync/context.js";
import { conflictsCommand, resolveCommand } from "./commands/conflicts.js";
import { doctorCommand } from "./commands/doctor.js";
import { logCommand } from "./commands/github.js";
import { mergeCommand } from "./commands/merge.js";
import { historyCommand, restoreCommand } from "./commands/history.js";
import { initCommand } from "./commands/init.js";
import { passphraseChangeCommand } from "./commands/passphrase.js";
import { reviewCommand } from "./commands/review.js";
import { statusCommand } from "./commands/status.js";
import { syncCommand } from "./commands/sync.js";
import { createOutput, EXIT, UsageError } from "./output.js";

const HELP = `oc-sync — keep OpenCode's config, credentials and sessions the same on every machine

usage: oc-sync <command> [options]

  init [REMOTE] [--machine NAME]    set up this machine (REMOTE: git URL or path to a bare repo)
  sync [--restore-missing] [--allow-mass-delete] [--repush] [--lock-wait SECONDS]
                                    sync now (--restore-missing: what is missing here was lost, not deleted: bring it back;
                                    --repush: put everything this machine has back into a main that was reset or rewritten;
                                    --lock-wait: how long to wait for another sync on this machine, default 60)
  status                            remote, mode, last sync, pending changes, conflicts
  conflicts [--ack]                 list kept conflict values (--ack: clear those your strategy decided)
  resolve ID --keep local|remote|MACHINE
  review [--accept ID | --discard ID]
                                    changes to what OpenCode executes (plugins, MCP commands, permissions…) held
                                    from the repo: list both values; --accept applies one here, --discard keeps yours
  history PATH|SESSION-ID [--limit N]
  restore PATH|SESSION-ID --at COMMIT|DATE
  init --github [OWNER/NAME]        create (or adopt) a private GitHub repository with the merge workflow
                                    (default <login>/opencode-sync)
  merge [--dry-run]                 reconcile every machine branch into main here (remotes without Actions)
  log                               the digest: main's moves since the last one (which machine, records, merges,
                                    conflicts), then the GitHub Action's recent runs
  doctor                            check git, remote, passphrase, database, paths, lock
  passphrase change                 rewrap the data key with a new passphrase

options: --json (machine-readable output, errors too), --help, --version
env: OC_SYNC_REMOTE OC_SYNC_MACHINE OC_SYNC_PASSPHRASE OC_SYNC_STRATEGY OC_SYNC_MERGE OC_SYNC_TOKEN/GITHUB_TOKEN
exit codes: 0 ok, 1 failed, 2 usage, 3 needs your attention (conflicts to decide, executable config held, mass delete halted, main rewritten, a machine id used twice, a file not written here)`;

const OPTIONS = {
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
  "allow-mass-delete": { type: "boolean", default: false },
  repush: { type: "boolean", default: false },
  "restore-missing": { type: "boolean", default: false },
  keep: { type: "string" },
  accept: { type: "string" },
  discard: { type: "string" },
  at: { type: "string" },
  machine: { type: "string" },
  github: { type: "string" },
  limit: { type: "string", default: "20" },
  "lock-wait": { type: "string", default: "60" },
  "dry-run": { type: "boolean", default: false },
  ack: { type: "boolean", default: false },
} as const;

/** How many arguments each command takes after its name. */
const ARGUMENTS: Readonly<Record<string, number>> = { init: 1, sync: 0, status: 0, conflicts: 0, resolve: 1, review: 0, history: 1, restore: 1, merge: 0, log: 0, doctor: 0, passphrase: 1 };

/** `--github` with no name after it (last, or before another option) means the default repository. */
function defaultGitHub(arg: string, i: number, argv: readonly string[]): string {
  const next = argv[i + 1];
  return arg === "--github" && (next === undefined || next.startsWith("-")) ? "--github=" : arg;
}

/** The command line, or a UsageError in oc-sync's words (Node's parser speaks of positionals and quotes). */
function parseCommandLine(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv.map(defaultGitHub), allowPositionals: true, options: OPTIONS });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS")) throw e;
    const flag = /'(-[^' ]*)/.exec((e as Error).message)?.[1];
    const why = code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ? `option ${flag ?? ""} needs a value` : `unknown option ${flag ?? ""}`;
    throw new UsageError(`${why.trim()}; see 'oc-sync --help'`);
  }
  const [command, ...args] = parsed.positionals;
  const takes = command === undefined ? undefined : ARGUMENTS[command];
  if (takes !== undefined && args.length > takes) {
    throw new UsageError(`'${command}' takes ${takes === 0 ? "no arguments" : "one argument"}, not '${args.slice(takes).join(" ")}'; see 'oc-sync --help'`);
  }
  return { values: parsed.values, command, args };
}

function seconds(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new UsageError(`${option} takes a number of seconds, not '${value}'`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const { values, command, args } = parseCommandLine(argv);
  if (values.version) {
    process.stdout.write((values.json ? JSON.stringify({ version: pkg.version }) : `oc-sync ${pkg.version}`) + "\n");
    return EXIT.ok;
  }
  if (values.help || !command) {
    process.stdout.write(HELP + "\n");
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  const ctx = await loadContext({ echo: (level, line) => level !== "info" && !values.json && process.stderr.write(`${level}: ${line}\n`) });
  const out = createOutput(values.json, ctx.log.mask);
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new UsageError(`${command} needs ${what}; see 'oc-sync --help'`);
    return v;
  };
  switch (command) {
    case "init":
      return initCommand(ctx, out, { remote: args[0], machine: values.machine, github: values.github });
    case "sync":
      return syncCommand(ctx, out, { allowMassDelete: values["allow-mass-delete"], repush: values.repush, restoreMissing: values["restore-missing"], lockWaitMs: seconds(values["lock-wait"], "--lock-wait") * 1000 });
    case "status":
      return statusCommand(ctx, out);
    case "conflicts":
      return conflictsCommand(ctx, out, values.ack);
    case "resolve":
      return resolveCommand(ctx, out, need(args[0], "a conflict id"), need(values.keep, "--keep local|remote|MACHINE"));
    case "review":
      return reviewCommand(ctx, out, { accept: values.accept, discard: values.discard });
    case "history":
      return historyCommand(ctx, out, need(args[0], "a path or session id"), Number(values.limit));
    case "restore":
      return restoreCommand(ctx, out, need(args[0], "a path or session id"), need(values.at, "--at COMMIT|DATE"));
    case "merge":
      return mergeCommand(ctx, out, values["dry-run"]);
    case "log":
      return logCommand(ctx, out, Number(values.limit));
    case "doctor":
      return doctorCommand(ctx, out);
    case "passphrase":
      if (args[0] !== "change") throw new UsageError("did you mean 'oc-sync passphrase change'?");
      return passphraseChangeCommand(ctx, out);
    default:
      throw new UsageError(`unknown command '${command}'; see 'oc-sync --help'`);
  }
}

export async function run(argv = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const exitCode = e instanceof UsageError ? EXIT.usage : e instanceof AttentionError ? EXIT.attention : EXIT.failed;
    // Under --json a script reads stdout: the error is a JSON document there, with the same exit code.
    if (argv.includes("--json")) process.stdout.write(JSON.stringify({ error: { message, exitCode, kind: failureKind(e) } }, null, 2) + "\n");
    else process.stderr.write(`oc-sync: ${message}\n`);
    process.exitCode = exitCode;
  }
}
