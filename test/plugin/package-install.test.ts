// The package as a user gets it: `npm pack` of this checkout holds only what runs, the real
// OpenCode installs it as a plugin with its own installer and the plugin's first sync reaches a
// loopback git server, and `npm install -g` of it gives a working `oc-sync` command.
import { execFile } from "node:child_process";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../git/run.js";
import { startGitServer } from "../support/git-http-server.js";
import { ensureOpenCode, opencode, prepareHome, startFakeLlm, waitFor } from "../support/opencode-real.js";
import { tempDir } from "../support/tmp.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
const TOKEN = "tok_package_install_0123456789abcdef";
const run = promisify(execFile);
let root: string;
let tarball: string;

beforeAll(async () => {
  root = await tempDir("oc-sync-pack-");
  const out = await run("npm", ["pack", "--json", "--pack-destination", root], { cwd: ROOT });
  const [packed] = JSON.parse(out.stdout) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
  tarball = join(root, packed!.filename);
  console.log(`${packed!.filename}: ${packed!.size} bytes packed, ${packed!.unpackedSize} bytes unpacked, ${packed!.entryCount} files`);
}, 120_000);

describe("the npm package", () => {
  it("holds the bundles, the command, the Action, README, LICENSE and package.json, and nothing else", async () => {
    const listed = (await run("tar", ["-tzf", tarball])).stdout.split("\n").filter(Boolean);
    expect(listed.map((p) => p.replace(/^package\//, "")).sort()).toEqual(["LICENSE", "README.md", "action.yml", "bin/oc-sync.js", "dist/action.js", "dist/cli.js", "dist/plugin.js", "package.json"]);
  });

  it("installed by OpenCode itself as a plugin, syncs on startup to the remote", async () => {
    const bin = await ensureOpenCode();
    const llm = await startFakeLlm(join(root, "llm.jsonl"));
    const server = await startGitServer({ root: join(root, "srv"), tokens: [TOKEN] });
    try {
      await runGit(["init", "--bare", "-q", "-b", "main", join(root, "srv", "sync.git")]);
      // With "oc-sync" OpenCode 1.x fetches oc-sync@latest from the npm registry (arborist, install
      // scripts off, into ~/.cache/opencode/packages/<spec>/); this package is not published from
      // here, so the spec names the tarball: `name@file:` takes that same installer path. (A
      // `file://` spec is imported in place, never installed, so it would not test the package.)
      const spec = `oc-sync@file:${tarball}`;
      const h = await prepareHome(root, "packed", llm.port, { remote: server.url("sync.git"), interval: 3600 }, { plugin: spec, env: { OC_SYNC_TOKEN: TOKEN } });
      await opencode(bin, h, ["run", "--model", "fakellm/fake-model", "say hello [[slow:3000]]"]);

      const installed = join(h.home, ".cache", "opencode", "packages", spec, "node_modules", "oc-sync");
      expect(lstatSync(installed).isSymbolicLink(), "a copy unpacked from the tarball, not a link to this checkout").toBe(false);
      expect((JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { version: string }).version).toBe(version);
      const remote = join(root, "srv", "sync.git");
      const config = await waitFor("the first sync on the remote's main", async () => {
        const shown = await runGit(["--git-dir", remote, "show", "main:config/opencode.json"], { okCodes: [128] });
        return shown.code === 0 ? shown.stdout.toString() : undefined;
      });
      expect(config).toContain(spec);
      const branchInMain = await runGit(["--git-dir", remote, "merge-base", "--is-ancestor", "machines/packed", "main"], { okCodes: [1, 128] });
      expect(branchInMain.code, "the machine branch is pushed and main holds it").toBe(0);
      expect(readFileSync(h.log, "utf8")).toMatch(/plugin sync \(startup\)/);
    } finally {
      await llm.stop();
      await server.close();
    }
  }, 300_000);

  it("installed with `npm install -g`, gives the oc-sync command", async () => {
    const prefix = join(root, "global");
    await run("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", tarball]);
    const command = join(prefix, "bin", "oc-sync");
    expect(existsSync(command)).toBe(true);
    // Its `#!/usr/bin/env node` needs Node 22.13 or newer: the one running this test (this machine's own is 20).
    const PATH = [dirname(process.execPath), process.env.PATH].join(delimiter);
    expect((await run(command, ["--version"], { env: { ...process.env, PATH } })).stdout.trim()).toBe(`oc-sync ${version}`);
  }, 120_000);
});
