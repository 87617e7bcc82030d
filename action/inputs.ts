// The Action's inputs (defaults live in action.yml) and the runner's environment it needs, checked before anything runs.
import * as core from "@actions/core";
import { isStrategy, strategies, type Strategy } from "../core/strategy.js";

export interface ActionInputs {
  readonly strategy: Strategy;
  readonly dryRun: boolean;
  readonly token: string;
  readonly repository: string;
  readonly serverUrl: string;
  /** The runner's RUNNER_TEMP: where the Action keeps the bare repository it merges in. */
  readonly temp: string;
}

export function readInputs(env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const strategy = core.getInput("strategy") || "auto-merge";
  if (!isStrategy(strategy)) throw new Error(`input "strategy" is "${strategy}"; allowed: ${strategies.join(", ")}`);
  const token = core.getInput("token", { required: true });
  return {
    strategy,
    dryRun: core.getBooleanInput("dry-run"),
    token,
    repository: runnerVariable(env, "GITHUB_REPOSITORY", "the repository to merge in"),
    serverUrl: env.GITHUB_SERVER_URL || "https://github.com",
    temp: runnerVariable(env, "RUNNER_TEMP", "the folder the Action fetches the repository into"),
  };
}

function runnerVariable(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} (${what}) is not set: run this Action as a step of a GitHub Actions job, where the runner sets it`);
  return value;
}
