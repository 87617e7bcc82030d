// Which changes to OpenCode's config are executable (core/executable.ts), and what a sync writes
// and keeps of a file with held changes (core/held.ts). Pure: a table of versions in, decisions out.
import { describe, expect, it } from "vitest";
import { executableChanges } from "../../core/executable.js";
import { admit, admitEntries, entriesRepoForm, repoForm, type EntryTexts, type HeldChange } from "../../core/held.js";

const json = (v: unknown) => JSON.stringify(v);
const cfg = "config/opencode.json";

describe("executableChanges", () => {
  it.each<[string, string, string | null, string | null, string[]]>([
    ["a benign key", cfg, json({ theme: "a" }), json({ theme: "b" }), []],
    ["a new plugin", cfg, json({ plugin: ["a"] }), json({ plugin: ["a", "b"] }), ["/plugin"]],
    ["a plugin removed", cfg, json({ plugin: ["a", "b"] }), json({ plugin: ["a"] }), []],
    ["a local MCP server", cfg, json({}), json({ mcp: { x: { type: "local", command: ["sh"] } } }), ["/mcp/x"]],
    ["a local MCP server's environment", cfg, json({ mcp: { x: { type: "local", command: ["a"] } } }), json({ mcp: { x: { type: "local", command: ["a"], environment: { K: "v" } } } }), ["/mcp/x"]],
    ["a remote MCP server", cfg, json({}), json({ mcp: { x: { type: "remote", url: "https://x" } } }), []],
    ["a remote MCP server sent this machine's token", cfg, json({}), json({ mcp: { x: { type: "remote", url: "https://x", headers: { A: "{env:GITHUB_TOKEN}" } } } }), ["/mcp/x/headers/A"]],
    ["permission.bash", cfg, json({ permission: { bash: "ask" } }), json({ permission: { bash: "allow" } }), ["/permission"]],
    ["permission removed (a deny goes)", cfg, json({ permission: { bash: "deny" } }), json({}), ["/permission"]],
    ["tools", cfg, json({}), json({ tools: { bash: true } }), ["/tools"]],
    ["an agent's permission", cfg, json({ agent: { b: { model: "x" } } }), json({ agent: { b: { model: "x", permission: { edit: "allow" } } } }), ["/agent/b/permission"]],
    ["an agent's model", cfg, json({ agent: { b: { model: "x" } } }), json({ agent: { b: { model: "y" } } }), []],
    ["a JSON command with a shell expansion", cfg, json({ command: { s: { template: "hi" } } }), json({ command: { s: { template: "hi !`id`" } } }), ["/command/s/template"]],
    ["a JSON command without one", cfg, json({ command: { s: { template: "hi" } } }), json({ command: { s: { template: "hello" } } }), []],
    ["a provider package", cfg, json({}), json({ provider: { p: { npm: "evil" } } }), ["/provider/p/npm"]],
    ["a provider's baseURL", cfg, json({ provider: { p: { options: { baseURL: "a" } } } }), json({ provider: { p: { options: { baseURL: "b" } } } }), ["/provider/p/options"]],
    ["a provider's models", cfg, json({ provider: { p: { models: {} } } }), json({ provider: { p: { models: { m: {} } } } }), []],
    ["a formatter command", cfg, json({}), json({ formatter: { f: { command: ["x"] } } }), ["/formatter"]],
    ["an LSP command", cfg, json({}), json({ lsp: { l: { command: ["x"] } } }), ["/lsp"]],
    ["an event hook", cfg, json({}), json({ experimental: { hook: { file_edited: {} } } }), ["/experimental/hook"]],
    ["a {file:} read into a benign key", cfg, json({}), json({ instructions: ["{file:~/.ssh/id_rsa}"] }), ["/instructions"]],
    ["the file deleted with a permission in it", cfg, json({ permission: { bash: "deny" }, theme: "a" }), null, [""]],
    ["the file deleted with nothing executable", cfg, json({ theme: "a" }), null, []],
    ["a first config with a plugin", cfg, null, json({ plugin: ["p"] }), ["/plugin"]],
    ["config.json is OpenCode's config too", "config/config.json", json({}), json({ plugin: ["p"] }), ["/plugin"]],
    ["tui.json is not", "config/tui.json", json({}), json({ plugin: ["p"] }), []],
    ["a plugin file", "config/plugin/x.js", null, "export default 1", [""]],
    ["a plugin file changed", "config/plugins/x.ts", "a", "b", [""]],
    ["a plugin file deleted", "config/plugin/x.js", "a", null, []],
    ["a tool file", "config/tool/t.ts", null, "x", [""]],
    ["a command with a shell expansion", "config/command/s.md", null, "run !`id`", [""]],
    ["a command's text changed around the same expansion", "config/commands/s.md", "a !`git status`", "b !`git status`", []],
    ["a command without one", "config/command/s.md", null, "review $ARGUMENTS", []],
    ["an agent's permission in its frontmatter", "config/agent/a.md", "---\nmodel: x\n---\nhi", "---\nmodel: x\npermission:\n  bash: allow\n---\nhi", [""]],
    ["an agent's prompt", "config/agents/a.md", "---\ntools:\n  bash: false\n---\nhi", "---\ntools:\n  bash: false\n---\nhello", []],
    ["AGENTS.md", "config/AGENTS.md", "a", "b !`id`", []],
    ["state files", "state/model.json", null, json({ plugin: ["p"] }), []],
  ])("%s", (_, path, old, next, at) => {
    expect(executableChanges(path, old, next).map((c) => c.at)).toEqual(at);
  });
});

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | "leave") => (b === null || b === "leave" ? b : JSON.parse(new TextDecoder().decode(b)));

describe("admit and repoForm", () => {
  const local = enc(json({ theme: "dark" }));
  const incoming = enc(json({ theme: "light", plugin: ["evil"] }));

  it("writes the benign keys and keeps the executable one as it is here", () => {
    const a = admit(cfg, local, incoming, "b", []);
    expect(dec(a.write)).toEqual({ theme: "light" });
    expect(a.held.map((h) => [h.at, h.local.value, h.incoming.value, h.status])).toEqual([["/plugin", null, '["evil"]', "held"]]);
  });

  it("an accepted value passes; a discarded one stays discarded while the repo has it, and is asked again when it changes", () => {
    const [h] = admit(cfg, local, incoming, "b", []).held as [HeldChange];
    expect(admit(cfg, local, incoming, "b", [{ ...h, status: "accepted" }])).toEqual({ write: incoming, held: [] });
    expect(admit(cfg, local, incoming, "b", [{ ...h, status: "discarded" }]).held.map((x) => x.status)).toEqual(["discarded"]);
    const newer = admit(cfg, local, enc(json({ theme: "light", plugin: ["worse"] })), "b", [{ ...h, status: "discarded" }]);
    expect(newer.held.map((x) => [x.status, x.incoming.value])).toEqual([["held", '["worse"]']]);
  });

  it("a whole file is left as it is", () => {
    expect(admit("config/plugin/x.js", null, enc("code"), "b", []).write).toBe("leave");
  });

  it("the repo form puts the held value back where the file still has this machine's value; an edit there supersedes it", () => {
    const a = admit(cfg, local, incoming, "b", []);
    const edited = enc(json({ theme: "mine" }));
    expect(dec(repoForm(edited, a.held).bytes)).toEqual({ theme: "mine", plugin: ["evil"] });
    const own = enc(json({ theme: "mine", plugin: ["mine"] }));
    expect(repoForm(own, a.held)).toEqual({ bytes: own, superseded: [a.held[0]!.id] });
    const file = admit("config/plugin/x.js", null, enc("code"), "b", []);
    expect(repoForm(null, file.held).bytes).toEqual(enc("code"));
  });
});

describe("admitEntries and entriesRepoForm (credentials none of the user's machines signed)", () => {
  const AUTH = "credentials/auth.json";
  // Stand-ins for ciphertexts: the side and the plaintext, so a test can tell what was sealed.
  const sealedOf = (local: EntryTexts | null, incoming: EntryTexts | null) => (entry: string, side: "local" | "incoming") => `${side}:${(side === "local" ? local : incoming)![entry]}`;
  const admitted = (local: EntryTexts | null, incoming: EntryTexts | null, prior: readonly HeldChange[] = []) => admitEntries(AUTH, local, incoming, sealedOf(local, incoming), "x", prior);
  const here = { openai: '"sk-new"', anthropic: '"sk-ant"' };

  it.each([
    ["a replayed older key", { ...here, openai: '"sk-old"' }, [["/openai", 'the credential "openai" (replaced)', 'local:"sk-new"', 'incoming:"sk-old"']]],
    ["a dropped entry", { openai: '"sk-new"' }, [["/anthropic", 'the credential "anthropic" (removed)', 'local:"sk-ant"', null]]],
    ["a tombstone", null, [["/openai", 'the credential "openai" (removed)', 'local:"sk-new"', null], ["/anthropic", 'the credential "anthropic" (removed)', 'local:"sk-ant"', null]]],
    ["an added entry", { ...here, mistral: '"sk-m"' }, [["/mistral", 'the credential "mistral" (added)', null, 'incoming:"sk-m"']]],
  ] as const)("%s: every changed entry is held, the file left as it is", (_, incoming, held) => {
    const a = admitted(here, incoming);
    expect(a.write).toBe("leave");
    expect(a.held.map((h) => [h.at, h.what, h.local.value, h.incoming.value])).toEqual(held);
  });

  it("the same entries (whatever their keys' order) hold nothing, and the record is not taken: its version is anyone's", () => {
    expect(admitted(here, here)).toEqual({ write: "leave", held: [] });
    expect(admitted(here, { anthropic: '"sk-ant"', openai: '"sk-new"' })).toEqual({ write: "leave", held: [] });
    expect(admitted({ x: '{"type":"api","key":"k"}' }, { x: '{"key":"k","type":"api"}' })).toEqual({ write: "leave", held: [] });
    expect(admitted(null, null)).toEqual({ write: "leave", held: [] });
  });

  it("an accepted entry is written, the others stay as they are here; a discarded one stays discarded while the repo has that value", () => {
    const incoming = { openai: '"sk-old"', mistral: '"sk-m"' };
    const [openai, anthropic, mistral] = admitted(here, incoming).held as [HeldChange, HeldChange, HeldChange];
    const a = admitted(here, incoming, [{ ...openai, status: "accepted" }, { ...mistral, status: "discarded" }, anthropic]);
    expect(a.write).toEqual({ openai: '"sk-old"', anthropic: '"sk-ant"' });
    expect(a.held.map((h) => [h.at, h.status])).toEqual([["/anthropic", "held"], ["/mistral", "discarded"]]);
    expect(admitted(here, { ...incoming, mistral: '"sk-m2"' }, [{ ...mistral, status: "discarded" }]).held.find((h) => h.at === "/mistral")?.status).toBe("held");
    expect(admitted(here, incoming, [openai, anthropic, mistral].map((h) => ({ ...h, status: "accepted" as const })))).toEqual({ write: incoming, held: [] });
  });

  it("the repo form puts the repo's value back where the file still has this machine's; an edit there supersedes it", () => {
    const incoming = { openai: '"sk-old"' };
    const held = admitted(here, incoming).held;
    const open = (_: string, c: string) => c.slice(c.indexOf(":") + 1);
    const out = { openai: "c-new", anthropic: "c-ant", mistral: "c-m" };
    expect(entriesRepoForm({ ...here, mistral: '"sk-m"' }, out, held, open)).toEqual([]);
    expect(out).toEqual({ openai: 'incoming:"sk-old"', mistral: "c-m" });
    const edited = { openai: "c-mine", anthropic: "c-ant" };
    expect(entriesRepoForm({ openai: '"sk-mine"', anthropic: '"sk-ant"' }, edited, held, open)).toEqual([held.find((h) => h.at === "/openai")!.id]);
    expect(edited).toEqual({ openai: "c-mine" });
  });
});
