// Which changes to OpenCode's config are executable (core/executable.ts), and what a sync writes
// and keeps of a file with held changes (core/held.ts). Pure: a table of versions in, decisions out.
import { describe, expect, it } from "vitest";
import { executableChanges } from "../../core/executable.js";
import { admit, repoForm, type HeldChange } from "../../core/held.js";

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
