// oc-sync as an OpenCode plugin: `"plugin": ["oc-sync"]` in opencode.json. Sync on startup, on
// changes to synced files, on session activity, on an interval, and when the remote moves; slash
// commands /sync, /sync-status, /sync-conflicts, /sync-setup; and a tool `oc_sync` the agent can call.
import { z } from "zod";
import { statusCommand } from "../cli/commands/status.js";
import { printReport } from "../cli/commands/sync.js";
import { createOutput } from "../cli/output.js";
import { GIVE_PASSPHRASE } from "../crypto/key-store.js";
import { currentConflicts, describeConflict, describeResolution, resolveConflict } from "../sync/conflicts.js";
import { SyncRuntime, type Toast } from "./runtime.js";

interface OpenCodeClient {
  tui?: { showToast?: (o: { body: { message: string; variant: string } }) => Promise<unknown> };
}

interface PluginInput {
  readonly client?: OpenCodeClient;
  readonly directory?: string;
}

type Config = { command?: Record<string, { template: string; description?: string }> } & Record<string, unknown>;

const KEY = Symbol.for("oc-sync.runtime");
type Global = typeof globalThis & { [KEY]?: SyncRuntime };

/** The process-wide runtime; later plugin instances (other directories) share it. */
function runtime(toast: Toast): SyncRuntime {
  const g = globalThis as Global;
  g[KEY] ??= new SyncRuntime({ toast });
  return g[KEY];
}

const COMMANDS = {
  sync: { template: 'Call the oc_sync tool with action "sync" and report the result in one or two sentences.', description: "Sync OpenCode with your other machines now (oc-sync)" },
  "sync-status": { template: 'Call the oc_sync tool with action "status" and summarise it briefly.', description: "Show oc-sync status: remote, last sync, pending changes, conflicts" },
  "sync-setup": {
    template:
      'Call the oc_sync tool with action "setup", with repo only if I named a repository (owner/name) here: $ARGUMENTS. Report what it did. Never ask me for a passphrase or token in this chat: the chat is synced. If the tool says credentials need a passphrase, tell me how to set it in its words.',
    description: "Connect oc-sync to a private GitHub repository (default <login>/opencode-sync) and start syncing",
  },
  "sync-conflicts": {
    template: 'Call the oc_sync tool with action "conflicts", list each conflict with both values, and ask me which to keep; then resolve with action "resolve".',
    description: "List oc-sync conflicts and resolve them",
  },
};

export const OcSync = async (input: PluginInput) => {
  const toast: Toast = (message, variant) => void input.client?.tui?.showToast?.({ body: { message, variant } }).catch(() => undefined);
  const rt = runtime(toast);
  rt.toast = toast;
  return {
    event: async ({ event }: { event: { type: string; properties?: Record<string, unknown> } }) => {
      rt.onEvent(event.type, event.properties);
    },
    config: async (config: Config) => {
      config.command = { ...COMMANDS, ...config.command };
    },
    tool: {
      oc_sync: {
        description:
          "oc-sync: sync OpenCode's config, credentials and sessions with the user's other machines. Actions: status, sync, conflicts, resolve (with id and keep: local | remote | a machine name), setup (connect a private GitHub repository; repo: owner/name, default <login>/opencode-sync).",
        args: {
          action: z.enum(["status", "sync", "conflicts", "resolve", "setup"]).describe("what to do"),
          id: z.string().optional().describe("conflict id, for resolve"),
          keep: z.string().optional().describe("local, remote, or a machine name, for resolve"),
          repo: z.string().optional().describe("owner/name of the private GitHub repository, for setup"),
        },
        async execute(args: { action: string; id?: string; keep?: string; repo?: string }): Promise<string> {
          if (args.action === "setup") return setUp(rt, args.repo);
          const ctx = await rt.ready;
          if (!ctx) return `oc-sync is not set up: ${rt.lastError ?? "unknown error"}. Run /sync-setup, or 'oc-sync init' in a terminal.`;
          const lines: string[] = [];
          const out = createOutput(false, ctx.log.mask, (l) => lines.push(l));
          try {
            if (args.action === "sync") printReport(out, await rt.syncNow());
            else if (args.action === "status") await statusCommand(ctx, out);
            else if (args.action === "conflicts") {
              const conflicts = await currentConflicts(ctx);
              lines.push(...(conflicts.length ? conflicts.flatMap(describeConflict) : ["no conflicts"]));
            } else if (args.action !== "resolve") return 'action must be one of "status", "sync", "conflicts", "resolve", "setup"';
            else {
              if (!args.id || !args.keep) return "resolve needs id and keep (local, remote or a machine name)";
              lines.push(describeResolution(await resolveConflict(ctx, args.id, args.keep)));
              printReport(out, await rt.syncNow());
            }
          } catch (e) {
            lines.push(`failed: ${ctx.log.mask((e as Error).message)}`);
          }
          return lines.join("\n");
        },
      },
    },
  };
};

/** The tool's answer to setup: the repository, the first sync with it, and how to give the passphrase when credentials wait for one. */
async function setUp(rt: SyncRuntime, repo: string | undefined): Promise<string> {
  const lines: string[] = [];
  try {
    const { github, sync } = await rt.setup(repo?.trim() || undefined);
    const ctx = await rt.ready;
    lines.push(`connected to the private GitHub repository ${github}; the merge workflow is installed`);
    printReport(createOutput(false, ctx?.log.mask, (l) => lines.push(l)), sync);
    if (sync.credentials === "skipped-no-passphrase") lines.push(`credentials are not synced yet: they need a passphrase (${GIVE_PASSPHRASE}). Never type it into this chat: chats are synced as sessions.`);
  } catch (e) {
    const ctx = await rt.ready;
    lines.push(`setup failed: ${(e as Error).message}`);
    lines.push(!ctx ? `oc-sync cannot start: ${rt.lastError ?? "unknown error"}` : ctx.embedded ? "this machine still syncs only into its local repository" : `this machine syncs with ${ctx.log.mask(ctx.remote.url)}`);
  }
  return lines.join("\n");
}
