// oc-sync's settings: ~/.config/opencode/opencode-sync.json(c) (machine-local, never synced),
// validated so a wrong value names the key and what is allowed; env vars override the file.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { MIB, PUSH_BUDGET, PUSH_BUDGET_CEILING, PUSH_BUDGET_FLOOR, RECORD_SIZE_CEILING, RECORD_SIZE_LIMIT } from "../../core/layout.js";
import { strategies } from "../../core/strategy.js";
import type { Env } from "../platform/paths.js";
import { jsonSyntaxError } from "../sources/file-kinds.js";

export const categoryNames = ["config", "state", "credentials", "projects", "sessions", "messages", "todos", "permissions"] as const;
export type CategoryName = (typeof categoryNames)[number];

const machineId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and '-', at most 63 characters");

const schema = z
  .object({
    remote: z.string().min(1).optional(),
    github: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "owner/name").optional(),
    machine: machineId.optional(),
    merge: z.enum(["action", "local"]).optional(),
    strategy: z.enum(strategies as unknown as [string, ...string[]]).default("auto-merge"),
    categories: z.partialRecord(z.enum(categoryNames), z.boolean()).default({}),
    pathMap: z.record(z.string(), z.string()).default({}),
    /**
     * This machine's own keys of synced JSON/JSONC config files, by file name in OpenCode's config
     * folder: JSON pointers (`"opencode.json": ["/model", "/mcp/foo/command"]`), never uploaded from
     * here and never overwritten here.
     */
    local: z.record(z.string().regex(/^[^/\\]+\.jsonc?$/, "a .json or .jsonc file name in OpenCode's config folder, like opencode.json"), z.array(z.string().regex(/^(\/[^/]+)+$/, 'a JSON pointer to a key, like "/model"'))).default({}),
    massDeleteShare: z.number().min(0).max(1).default(0.5),
    /** The largest record committed, in MiB: a bigger file, row or part stays on its machine and is reported. */
    recordLimitMB: z.number().positive().max(RECORD_SIZE_CEILING / MIB).default(RECORD_SIZE_LIMIT / MIB),
    /** The most a push carries, in MiB: a sync larger than this goes up in several pushes. */
    pushBudgetMB: z.number().min(PUSH_BUDGET_FLOOR / MIB).max(PUSH_BUDGET_CEILING / MIB).default(PUSH_BUDGET / MIB),
    /** Plugin: seconds between syncs while OpenCode is open. */
    interval: z.number().int().min(5).default(300),
    /** Plugin: seconds between cheap checks of the remote's head (ls-remote). */
    remoteCheck: z.number().int().min(2).default(60),
    /** Plugin: quiet time after a change before syncing, and the longest a change waits. */
    debounceMs: z.number().int().min(100).default(5000),
    maxWaitMs: z.number().int().min(100).default(30000),
    /**
     * Apply changes to what OpenCode executes (plugins, local MCP commands, permission and tool
     * settings, commands with shell expansions) from the repo without review: anyone who can push to
     * the sync repo can then run code on this machine. Off: they are held for 'oc-sync review'.
     */
    trustExecutable: z.boolean().default(false),
  })
  .strict();

export type FileSettings = z.infer<typeof schema>;

export interface Settings extends Omit<FileSettings, "categories" | "strategy" | "recordLimitMB" | "pushBudgetMB"> {
  /** The largest record committed, in bytes (the setting recordLimitMB). */
  readonly recordLimit: number;
  /** The most one push carries, in bytes (the setting pushBudgetMB). */
  readonly pushBudget: number;
  readonly strategy: (typeof strategies)[number];
  readonly categories: Readonly<Record<CategoryName, boolean>>;
  readonly settingsFile: string | undefined;
  readonly passphrase: string | undefined;
  readonly token: string | undefined;
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

export const SETTINGS_FILES = ["opencode-sync.jsonc", "opencode-sync.json"];

export async function loadSettings(configDir: string, env: Env): Promise<Settings> {
  let raw: unknown = {};
  let settingsFile: string | undefined;
  for (const name of SETTINGS_FILES) {
    const file = join(configDir, name);
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const errors: ParseError[] = [];
    raw = parse(text, errors, { allowTrailingComma: true });
    if (errors.length) throw new SettingsError(`${file}: ${jsonSyntaxError(new TextEncoder().encode(text)) ?? "it is empty"}; fix the file (it is JSONC: comments are fine)`);
    settingsFile = file;
    break;
  }
  const overrides: Record<string, unknown> = {};
  if (env.OC_SYNC_REMOTE) overrides.remote = env.OC_SYNC_REMOTE;
  if (env.OC_SYNC_MACHINE) overrides.machine = env.OC_SYNC_MACHINE;
  if (env.OC_SYNC_STRATEGY) overrides.strategy = env.OC_SYNC_STRATEGY;
  if (env.OC_SYNC_MERGE) overrides.merge = env.OC_SYNC_MERGE;
  const parsed = schema.safeParse({ ...(raw as object), ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join(".") || "(top level)";
    const where = settingsFile ?? "environment";
    throw new SettingsError(`${where}: setting "${key}": ${describe(issue)}`);
  }
  const s = parsed.data;
  const categories = Object.fromEntries(categoryNames.map((c) => [c, s.categories[c] ?? true])) as Record<CategoryName, boolean>;
  const { recordLimitMB, pushBudgetMB, ...rest } = s;
  return {
    ...rest,
    recordLimit: Math.floor(recordLimitMB * MIB),
    pushBudget: Math.floor(pushBudgetMB * MIB),
    strategy: s.strategy as Settings["strategy"],
    categories,
    settingsFile,
    passphrase: env.OC_SYNC_PASSPHRASE || undefined,
    token: env.OC_SYNC_TOKEN || env.GITHUB_TOKEN || undefined,
  };
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value") return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "unrecognized_keys") return `unknown setting(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; allowed: ${Object.keys(schema.shape).join(", ")}`;
  return issue.message;
}
