import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Integration tests spawn git, servers and OpenCode; two cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/plugin/**"] } },
      // The real OpenCode binary is slow to boot; it runs alone, after the rest, one file at a time.
      { extends: true, test: { name: "opencode", include: ["test/plugin/**/*.test.ts"], fileParallelism: false } },
    ],
  },
});
