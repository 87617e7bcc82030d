// One truth about Node: the README's set-up, package.json's `engines`, npm's engine check on every
// installed package and the installed command's own refusal all name the same minimum.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, ROOT), "utf8");

/** npm's own engine check (npm-install-checks) is semver.satisfies with prereleases included. */
const semver = createRequire(import.meta.url)("semver") as { satisfies(version: string, range: string, options: { includePrerelease: boolean }): boolean; minVersion(range: string): { version: string } | null };

interface Lock {
  packages: Record<string, { engines?: { node?: string } }>;
}

describe("the Node oc-sync needs", () => {
  const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
  const minimum = semver.minVersion(engines)!.version;

  it("is the one the README's Quick start names, and npm install on it warns about no package's engines", () => {
    const quickStart = read("README.md").split("## Quick start")[1]!.split("\n## ")[0]!;
    const named = /Node (?:≥ ?)?(\d+)(?:\.(\d+))?/.exec(quickStart);
    expect(named && `${named[1]}.${named[2] ?? 0}.0`).toBe(minimum);
    const lock = JSON.parse(read("package-lock.json")) as Lock;
    const unsupported = Object.entries(lock.packages).filter(([, p]) => p.engines?.node && !semver.satisfies(minimum, p.engines.node, { includePrerelease: true }));
    expect(unsupported.map(([name, p]) => `${name || "oc-sync"} needs ${p.engines!.node}`)).toEqual([]);
  });

  // The system Node, where it is older than the minimum (CI images and set-up machines often have one).
  const older = (() => {
    try {
      const version = execFileSync("node", ["--version"], { env: { PATH: "/usr/local/bin:/usr/bin:/bin" } }).toString().trim().slice(1);
      return semver.satisfies(version, engines, { includePrerelease: true }) ? undefined : "node";
    } catch {
      return undefined;
    }
  })();

  it.skipIf(!older)("is what the installed command asks for on an older Node", async () => {
    const r = await promisify(execFile)(older!, [fileURLToPath(new URL("bin/oc-sync.js", ROOT)), "--version"], { env: { PATH: "/usr/local/bin:/usr/bin:/bin" } }).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining(`needs Node ${minimum.replace(/\.0$/, "")} or newer`) as unknown });
  });
});
