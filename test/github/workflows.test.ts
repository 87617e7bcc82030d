// Most of the project's own workflows cannot run here (setup-node, GitHub's hosted OSes; the
// `action` workflow's dry-run job does run, in action-dry-run.test.ts). Checked for all of them:
// they parse, every action is pinned by commit (actions/checkout as in the workflow oc-sync
// installs), permissions are read-only, `uses: ./` passes only inputs action.yml declares, and
// every `npm run` names a script package.json has.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHECKOUT_ACTION } from "../../client/github/workflow.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIR = join(ROOT, ".github", "workflows");
type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Workflow = { permissions?: Record<string, string>; jobs: Record<string, { steps: Step[] }> };

const workflows = readdirSync(DIR).map((name) => [name, parse(readFileSync(join(DIR, name), "utf8")) as Workflow] as const);
const steps = workflows.flatMap(([name, w]) => Object.values(w.jobs).flatMap((j) => j.steps.map((s) => [name, s] as const)));
const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as { inputs: Record<string, unknown> };
const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

describe("the project's workflows", () => {
  it("are CI, check-dist and the Action from this checkout", () => {
    expect(workflows.map(([name]) => name).sort()).toEqual(["action.yml", "check-dist.yml", "ci.yml"]);
  });

  it.each(workflows)("%s asks for no more than read access", (_name, w) => {
    expect(w.permissions).toEqual({ contents: "read" });
  });

  it("pin every action by its commit", () => {
    const remote = steps.filter(([, s]) => s.uses && s.uses !== "./");
    expect(remote.length).toBeGreaterThan(0);
    for (const [name, s] of remote) expect(s.uses, name).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("pin actions/checkout as the workflow oc-sync installs does (commit and version comment)", () => {
    const pins = readdirSync(DIR).flatMap((name) => [...readFileSync(join(DIR, name), "utf8").matchAll(/uses: (actions\/checkout@.*)$/gm)].map((m) => m[1]));
    expect(pins.length).toBeGreaterThan(0);
    expect(new Set(pins)).toEqual(new Set([CHECKOUT_ACTION]));
  });

  it("run the Action from this checkout with only the inputs it declares, in dry run", () => {
    const local = steps.filter(([, s]) => s.uses === "./");
    expect(local).toHaveLength(1);
    const inputs = local[0]![1].with ?? {};
    for (const key of Object.keys(inputs)) expect(Object.keys(action.inputs)).toContain(key);
    expect(inputs["dry-run"]).toBe("true");
  });

  it("name only npm scripts that exist", () => {
    const named = steps.flatMap(([, s]) => [...(s.run ?? "").matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!));
    expect(named).toContain("test:cross-os");
    for (const script of named) expect(Object.keys(scripts)).toContain(script);
  });
});
