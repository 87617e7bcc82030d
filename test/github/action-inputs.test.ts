// The Action's inputs and the runner variables it needs: a missing one is named, with where it comes from.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readInputs } from "../../action/inputs.js";

const RUNNER = { GITHUB_REPOSITORY: "ana/oc-data", RUNNER_TEMP: "/runner/_temp", GITHUB_SERVER_URL: "https://github.example" };

describe("the Action's inputs", () => {
  // @actions/core reads inputs from INPUT_* in this process's environment, as the runner sets them.
  beforeEach(() => {
    process.env.INPUT_TOKEN = "ghs_inputs_test";
    process.env["INPUT_DRY-RUN"] = "false";
  });
  afterEach(() => {
    delete process.env.INPUT_TOKEN;
    delete process.env["INPUT_DRY-RUN"];
    delete process.env.INPUT_STRATEGY;
  });

  it("reads the runner's variables: the repository, its server and the temp folder the merge happens in", () => {
    expect(readInputs(RUNNER)).toEqual({ strategy: "auto-merge", dryRun: false, token: "ghs_inputs_test", repository: "ana/oc-data", serverUrl: "https://github.example", temp: "/runner/_temp" });
  });

  it.each(["GITHUB_REPOSITORY", "RUNNER_TEMP"])("names %s when the runner did not set it", (name) => {
    const env: NodeJS.ProcessEnv = { ...RUNNER, [name]: undefined };
    expect(() => readInputs(env)).toThrow(new RegExp(`^${name} \\(.+\\) is not set: run this Action as a step of a GitHub Actions job`));
  });

  it("refuses an unknown strategy, listing the allowed ones", () => {
    process.env.INPUT_STRATEGY = "mine";
    expect(() => readInputs(RUNNER)).toThrow(/input "strategy" is "mine"; allowed: auto-merge, /);
  });
});
