// Keys one machine keeps as its own (`"local"` in opencode-sync.jsonc): its model and an MCP
// server's command stay what they are on that machine, the rest of the file syncs, comments and
// formatting stay, and the machine's own values never reach the repo.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePointer, transplant } from "../../core/local-keys.js";
import { runGit } from "../../git/run.js";
import { sync, syncWorld } from "../support/sync-env.js";

describe("transplant: one file's values at some keys into another", () => {
  it.each([
    ["replaces a value, keeping comments", '{\n  // mine\n  "model": "a",\n  "theme": "dark"\n}\n', '{ "model": "b" }', ["/model"], '{\n  // mine\n  "model": "b",\n  "theme": "dark"\n}\n'],
    ["removes a key the source lacks", '{\n  "model": "a",\n  "theme": "dark"\n}\n', "{}", ["/model"], '{\n  "theme": "dark"\n}\n'],
    ["adds a nested key with its parents", '{\n  "theme": "dark"\n}\n', '{ "mcp": { "foo": { "command": ["x"] } } }', ["/mcp/foo/command"], '{\n  "theme": "dark",\n  "mcp": {\n    "foo": {\n      "command": ["x"]\n    }\n  }\n}\n'],
    ["leaves a file that does not parse alone", '{ "model": ', '{ "model": "b" }', ["/model"], '{ "model": '],
    ["changes nothing when the values are equal", '{"model":"a"}', '{ "model" : "a" }', ["/model"], '{"model":"a"}'],
    ["keeps tabs and CRLF", '{\r\n\t"model": "a",\r\n\t"x": 1\r\n}\r\n', '{"model":"b","y":{"z":1}}', ["/model", "/y/z"], '{\r\n\t"model": "b",\r\n\t"x": 1,\r\n\t"y": {\r\n\t\t"z": 1\r\n\t}\r\n}\r\n'],
    ["writes a value as the source spells it", '{\n  "model": "a"\n}\n', '{ "model": { "id": "b",   "n": [1,2] } }', ["/model"], '{\n  "model": { "id": "b",   "n": [1,2] }\n}\n'],
  ])("%s", (_what, target, source, pointers, expected) => {
    expect(transplant(target, source, pointers.map(parsePointer))).toBe(expected);
  });

  it("reads pointers as RFC 6901 says", () => {
    expect(parsePointer("/a~1b/c~0d")).toEqual(["a/b", "c~d"]);
    expect(() => parsePointer("model")).toThrow(/not a JSON pointer/);
  });
});

describe("a machine's own keys", () => {
  it("stay that machine's: never uploaded from it, never overwritten on it, and the rest syncs", async () => {
    const world = await syncWorld();
    const A = world.machine("desk");
    const B = world.machine("laptop");
    const file = (h: typeof A) => join(h.config, "opencode.jsonc");
    writeFileSync(file(A), '{\n  // the model I use\n  "model": "big-model",\n  "theme": "dark",\n  "mcp": { "foo": { "type": "local", "command": ["/opt/foo"] } }\n}\n');
    await sync(A);
    // Trusted, so the MCP server is not held for review (the gate has its own tests in trust.test.ts).
    writeFileSync(join(B.config, "opencode-sync.jsonc"), '{ "local": { "opencode.jsonc": ["/model", "/mcp/foo/command"] }, "trustExecutable": true }\n');
    writeFileSync(file(B), '{\n  // laptop: small model\n  "model": "small-model"\n}\n');
    await sync(B);
    await sync(A);
    // B took the theme and the MCP server but kept its model; its own model never left it.
    const onB = readFileSync(file(B), "utf8");
    // B joined with only its own key: the shared rest is A's, comments and all.
    expect(onB).toContain("// the model I use");
    expect(JSON.parse(onB.replace(/\/\/.*$/gm, ""))).toEqual({ model: "small-model", theme: "dark", mcp: { foo: { type: "local" } } });
    const onMain = async () => (await runGit(["--git-dir", world.remoteDir, "show", "main:config/opencode.jsonc"])).stdout.toString();
    expect(await onMain()).not.toContain("small-model");

    // B edits its own key and a shared one; A edits its own model: each keeps its own.
    writeFileSync(file(B), readFileSync(file(B), "utf8").replace("small-model", "tiny-model").replace('"dark"', '"light"'));
    await sync(B);
    writeFileSync(file(A), readFileSync(file(A), "utf8").replace("big-model", "bigger-model"));
    await sync(A);
    await sync(B);
    expect(readFileSync(file(A), "utf8")).toContain('"theme": "light"');
    expect(readFileSync(file(A), "utf8")).toContain('"command": ["/opt/foo"]');
    expect(readFileSync(file(B), "utf8")).toContain('"model": "tiny-model"');
    expect(readFileSync(file(B), "utf8")).toContain('"theme": "light"');
    expect(await onMain()).toContain("bigger-model");
    expect(await onMain()).not.toContain("tiny-model");

    // An edit of only B's own key is no change to sync; nothing moves after that.
    writeFileSync(file(B), readFileSync(file(B), "utf8").replace("tiny-model", "other-model"));
    const main = (await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString();
    expect((await sync(B)).committed).toBe(0);
    await sync(A);
    expect((await runGit(["--git-dir", world.remoteDir, "rev-parse", "main"])).stdout.toString()).toBe(main);
    expect(readFileSync(file(B), "utf8")).toContain("other-model");
  });
});
