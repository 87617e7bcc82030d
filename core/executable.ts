// What in OpenCode's config makes it run something (DESIGN.md §8): plugin and tool files, the
// `plugin` key, local MCP servers, permission and tool settings, commands whose template runs a
// shell command (!`cmd`), provider packages and options, formatter, LSP and hook commands, and a
// value that reads this machine's files or environment into the config ({file:…}, {env:…}).
// Pure: a record path and two versions in, the executable changes between them out. A sync holds
// these when they arrive from the repo (client/sync/executable-gate.ts) until the user reviews them.
import { isDeepStrictEqual } from "node:util";
import { isObject, pointerPart, type Json } from "./merge/json-value.js";
import { NotJsonError, parseJson } from "./merge/json.js";

export interface ExecutableChange {
  /** "" for the whole file, else a JSON pointer to the key whose value changed. */
  readonly at: string;
  /** What OpenCode does with it, in a few words for the user. */
  readonly what: string;
}

type Maybe = Json | undefined;

/** OpenCode's main config files: JSON(C), held key by key. */
const JSON_CONFIGS = ["opencode.json", "opencode.jsonc", "config.json"];

/** Folders whose files OpenCode loads as code: every new version is executable. */
const CODE_FOLDERS: Readonly<Record<string, string>> = {
  plugin: "a plugin OpenCode loads and runs",
  plugins: "a plugin OpenCode loads and runs",
  tool: "a custom tool OpenCode runs",
  tools: "a custom tool OpenCode runs",
};
const COMMAND_FOLDERS = ["command", "commands"];
const AGENT_FOLDERS = ["agent", "agents", "mode", "modes"];

/** A key of the config whose change is executable; `*` stands for any key at that level. */
interface Unit {
  readonly keys: readonly string[];
  readonly what: string;
  /** When a change there counts (default: any change at all, a removal too: removing a `deny` loosens). */
  readonly when?: (old: Maybe, next: Maybe) => boolean;
}

const UNITS: readonly Unit[] = [
  { keys: ["plugin"], what: "plugins OpenCode installs and runs", when: (o, n) => addsEntries(o, n) },
  { keys: ["mcp", "*"], what: "a local MCP server OpenCode starts (its command and environment)", when: (o, n) => isLocalMcp(n) && !isDeepStrictEqual(o, n) },
  { keys: ["permission"], what: "what the agent may do without asking" },
  { keys: ["tools"], what: "which tools the agent may use" },
  ...["agent", "mode"].flatMap((k) => [
    { keys: [k, "*", "permission"], what: `what the ${k} may do without asking` },
    { keys: [k, "*", "tools"], what: `which tools the ${k} may use` },
  ]),
  ...["command", "commands"].map((k) => ({ keys: [k, "*", "template"], what: "a command that runs shell commands (!`…`)", when: (o: Maybe, n: Maybe) => addsShell(text(o), text(n)) })),
  { keys: ["provider", "*", "npm"], what: "a provider package OpenCode installs and loads" },
  { keys: ["provider", "*", "options"], what: "where a provider's requests and key go (baseURL, headers)" },
  { keys: ["formatter"], what: "formatter commands OpenCode runs" },
  { keys: ["lsp"], what: "language server commands OpenCode runs" },
  { keys: ["experimental", "hook"], what: "commands OpenCode runs on events" },
];

/** Substitutions OpenCode makes in its config: they read this machine's files and environment into it. */
const READS_LOCAL = /\{(?:file|env):/;
/** A shell expansion in a command template: OpenCode runs it and puts its output into the prompt. */
const SHELL_EXPANSION = /!`([^`]*)`/g;

/**
 * The executable changes from `old` to `next` (a record's content as text; null: no file) at
 * record path `path`. Nested ones are left out when a change above covers them.
 */
export function executableChanges(path: string, old: string | null, next: string | null): ExecutableChange[] {
  const segs = path.split("/");
  if (segs[0] !== "config" || segs.length < 2 || old === next) return [];
  const [top, ...rest] = segs.slice(1) as [string, ...string[]];
  if (rest.length === 0) return JSON_CONFIGS.includes(top) ? jsonFileChanges(old, next) : [];
  if (next === null) return []; // Removing a plugin, command or agent runs nothing new.
  if (CODE_FOLDERS[top]) return [{ at: "", what: CODE_FOLDERS[top] }];
  if (COMMAND_FOLDERS.includes(top) && addsShell(old, next)) return [{ at: "", what: `a command that runs ${shellCommands(next).map((c) => `!\`${c}\``).join(", ")}` }];
  if (AGENT_FOLDERS.includes(top) && ["permission", "tools"].some((k) => frontmatterSection(old, k) !== frontmatterSection(next, k))) return [{ at: "", what: "an agent's permission or tools settings" }];
  return [];
}

/** A config file's changes; a deletion that takes executable settings with it is one whole-file change. */
function jsonFileChanges(old: string | null, next: string | null): ExecutableChange[] {
  const changes = executableJsonChanges(parsed(old), parsed(next));
  if (next !== null || changes.length === 0) return changes;
  return [{ at: "", what: `deletes the file, and with it ${[...new Set(changes.map((c) => c.what))].join("; ")}` }];
}

/** A parsed config; one that does not parse counts as empty (its every executable setting is then new). */
function parsed(text: string | null): Maybe {
  if (text === null) return undefined;
  try {
    return parseJson(text, true);
  } catch (e) {
    if (e instanceof NotJsonError) return undefined;
    throw e;
  }
}

/** The executable changes between two parsed configs (undefined: none). */
export function executableJsonChanges(old: Maybe, next: Maybe): ExecutableChange[] {
  const out: ExecutableChange[] = [];
  for (const unit of UNITS) {
    for (const keys of concretePaths(unit.keys, old, next)) {
      const [o, n] = [valueAt(old, keys), valueAt(next, keys)];
      if (unit.when ? unit.when(o, n) : !isDeepStrictEqual(o, n)) out.push({ at: pointer(keys), what: unit.what });
    }
  }
  for (const keys of changedLeaves(old, next, [])) {
    if (READS_LOCAL.test(text(valueAt(next, keys)) ?? "")) out.push({ at: pointer(keys), what: "a value read from this machine's files or environment ({file:…}, {env:…})" });
  }
  return outermost(out);
}

/** The key paths a unit's pattern stands for in either config. */
function concretePaths(pattern: readonly string[], a: Maybe, b: Maybe): string[][] {
  let paths: string[][] = [[]];
  for (const key of pattern) {
    paths = paths.flatMap((p) => {
      if (key !== "*") return [[...p, key]];
      const names = new Set([a, b].flatMap((v) => Object.keys(asObject(valueAt(v, p)))));
      return [...names].map((n) => [...p, n]);
    });
  }
  return paths;
}

/** Key paths of the leaves (values that are not objects) that differ; a new object's leaves are all new. */
function changedLeaves(a: Maybe, b: Maybe, at: string[]): string[][] {
  if (isDeepStrictEqual(a, b)) return [];
  if (isObject(b) && (a === undefined || isObject(a))) {
    const x = asObject(a);
    return [...new Set([...Object.keys(x), ...Object.keys(b)])].flatMap((k) => changedLeaves(x[k], b[k], [...at, k]));
  }
  return [at];
}

/** Drops changes inside another change (a {file:…} in a local MCP server's environment is that server's change). */
function outermost(changes: readonly ExecutableChange[]): ExecutableChange[] {
  const inside = (c: ExecutableChange, d: ExecutableChange) => c !== d && (c.at + "/").startsWith(d.at + "/");
  const seen = new Set<string>();
  return changes.filter((c) => !changes.some((d) => inside(c, d)) && !seen.has(c.at) && seen.add(c.at));
}

export function valueAt(v: Maybe, keys: readonly string[]): Maybe {
  let cur = v;
  for (const k of keys) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

function asObject(v: Maybe): { [key: string]: Json } {
  return isObject(v) ? v : {};
}

export function pointer(keys: readonly string[]): string {
  return keys.map((k) => "/" + pointerPart(k)).join("");
}

function text(v: Maybe): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** `next` names a plugin `old` does not. */
function addsEntries(old: Maybe, next: Maybe): boolean {
  const before = new Set((Array.isArray(old) ? old : old === undefined ? [] : [old]).map((x) => JSON.stringify(x)));
  return (Array.isArray(next) ? next : next === undefined ? [] : [next]).some((x) => !before.has(JSON.stringify(x)));
}

/** An MCP server OpenCode starts as a process here (not one it connects to). */
function isLocalMcp(v: Maybe): boolean {
  return isObject(v) && (v.type === "local" || "command" in v);
}

function shellCommands(template: string | null): string[] {
  return template === null ? [] : [...template.matchAll(SHELL_EXPANSION)].map((m) => m[1]!);
}

/** `next` runs a shell command `old` does not. */
function addsShell(old: string | null, next: string | null): boolean {
  const before = new Set(shellCommands(old));
  return shellCommands(next).some((c) => !before.has(c));
}

/**
 * The lines of a top-level key in a Markdown file's YAML frontmatter (the key's line and the
 * indented lines under it), or "" when it has none. Enough to tell whether it changed.
 */
function frontmatterSection(markdown: string | null, key: string): string {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(markdown ?? "");
  if (!m) return "";
  const lines = m[1]!.split(/\r?\n/);
  const start = lines.findIndex((l) => new RegExp(`^${key}\\s*:`).test(l));
  if (start < 0) return "";
  const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}
