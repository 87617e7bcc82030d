// Which sources a sync runs, from the settings: OpenCode's config and state files, encrypted
// credentials (only with a key), and the database tables of the enabled categories.
import { isGitControlName } from "../../core/file-names.js";
import type { JSONPath } from "jsonc-parser";
import type { Settings } from "../config/settings.js";
import type { KeyRing } from "../crypto/keys.js";
import { TEMP_FILE } from "../platform/atomic-file.js";
import type { OpenCodePaths } from "../platform/paths.js";
import { CREDENTIALS_CATEGORY, CREDENTIALS_PREFIX, CredentialSource, type CredentialGate } from "../sources/credentials.js";
import type { Table } from "../../core/db-paths.js";
import { DatabaseSource, dbCategories } from "../sources/database.js";
import { parsePointer } from "../../core/local-keys.js";
import { FileSource, type FileRule, type WriteGate } from "../sources/files.js";
import type { Source } from "../sources/source.js";

/** What OpenCode (and the OS) generates inside its config folder: never synced (nor are git's control files, see isGitControlName). */
const GENERATED = ["node_modules", "package.json", "package-lock.json", "bun.lock", ".gitignore", ".DS_Store"];
/** OpenCode's own lock folder in its state folder. */
const STATE_LOCKS = "locks";

/** The source of OpenCode's config: what the executable gate stands before. */
export const CONFIG_CATEGORY = "config";
/** The categories whose records the gates check (executable-gate.ts), so machines sign them again (signing.ts). */
export const GATED_CATEGORIES: readonly string[] = [CONFIG_CATEGORY, CREDENTIALS_CATEGORY];

export const CONFIG_RULE: FileRule = {
  files: ["opencode.json", "opencode.jsonc", "config.json", "tui.json", "tui.jsonc", "AGENTS.md"],
  // OpenCode reads both the singular and the plural folder names.
  folders: ["agent", "agents", "command", "commands", "mode", "modes", "plugin", "plugins", "tool", "tools", "skill", "skills", "themes"],
  ignore: GENERATED,
  wholeFiles: ["opencode.json", "opencode.jsonc"],
};

export const STATE_RULE: FileRule = {
  files: ["model.json", "prompt-history.jsonl", "prompt-stash.jsonl", "session.json"],
  folders: [],
  ignore: [STATE_LOCKS],
};

/** A path in OpenCode's folders that no sync reads: what OpenCode generates, its locks, oc-sync's own temp files. Not worth a sync when it changes. */
export function neverSynced(path: string): boolean {
  const names = path.split(/[/\\]/);
  return names.some((n) => GENERATED.includes(n) || n === STATE_LOCKS || isGitControlName(n)) || TEMP_FILE.test(path);
}

const CONFIG_PREFIX = "config";
/** Where the records the gates check live in the sync repo (a passphrase change signs them again). */
export const GATED_PREFIXES: readonly string[] = [CONFIG_PREFIX, CREDENTIALS_PREFIX];
const configPath = (file: string) => `${CONFIG_PREFIX}/${file}`;

/** Whether the record at `path` is a file some of whose keys stay this machine's own (the setting `local`). */
export function keepsOwnKeys(settings: Settings, path: string): boolean {
  return Object.keys(settings.local).some((file) => configPath(file) === path);
}

/** What a sync must not apply unseen (executable-gate.ts): executable config (off with the setting trustExecutable), credentials none of the user's machines wrote. */
export interface Gates {
  readonly config: WriteGate;
  readonly credentials: CredentialGate;
}

/** `gates`: a sync's. Edits the user asked for (restore, resolve) are written without them. */
export function buildSources(settings: Settings, opencode: OpenCodePaths, key: KeyRing | null, warn: (m: string) => void, gates?: Gates, undecided?: ReadonlyMap<string, readonly JSONPath[]>): Source[] {
  const sources: Source[] = [];
  const c = settings.categories;
  const writableRoots = [opencode.config, opencode.state, opencode.data];
  const localKeys = new Map(Object.entries(settings.local).map(([file, pointers]) => [configPath(file), pointers.map(parsePointer)]));
  const configGate = settings.trustExecutable ? undefined : gates?.config;
  if (c.config) sources.push(new FileSource({ category: CONFIG_CATEGORY, prefix: CONFIG_PREFIX, root: opencode.config, rule: CONFIG_RULE, writableRoots, recordLimit: settings.recordLimit, warn, localKeys, gate: configGate, undecided }));
  if (c.state) sources.push(new FileSource({ category: "state", prefix: "state", root: opencode.state, rule: STATE_RULE, writableRoots, recordLimit: settings.recordLimit, warn }));
  if (c.credentials && key) sources.push(new CredentialSource(opencode.data, key, gates?.credentials));
  const tables = Object.entries(dbCategories).flatMap(([name, t]) => (c[name as keyof typeof c] ? t : [])) as Table[];
  if (tables.length) sources.push(new DatabaseSource({ path: opencode.database, tables, paths: { home: opencode.home, pathMap: settings.pathMap }, warn, undecided }));
  return sources;
}
