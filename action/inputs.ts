// The Action's inputs (defaults live in action.yml), checked before anything runs.
import * as core from "@actions/core";
import { isStrategy, strategies, type Strategy } from "../core/strategy.js";

export interface ActionInputs {
  readonly strategy: Strategy;
  readonly dryRun: boolean;
  readonly token: string;
  readonly repository: string;
  readonly serverUrl: string;
  readonly workspace: string;
}

export function readInputs(env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const strategy = core.getInput("strategy") || "auto-merge";
  if (!isStrategy(strategy)) throw new Error(`input "strategy" is "${strategy}"; allowed: ${strategies.join(", ")}`);
  const token = core.getInput("token", { required: true });
  const repository = env.GITHUB_REPOSITORY;
  const workspace = env.GITHUB_WORKSPACE;
  if (!repository || !workspace) throw new Error("GITHUB_REPOSITORY and GITHUB_WORKSPACE must be set: run this inside a GitHub Actions job, after actions/checkout");
  return {
    strategy,
    dryRun: core.getBooleanInput("dry-run"),
    token,
    repository,
    serverUrl: env.GITHUB_SERVER_URL || "https://github.com",
    workspace,
  };
}
