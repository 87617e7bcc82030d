import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Integration tests spawn git, servers and OpenCode; two cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/plugin/**", "test/reliability/**"] } },
      // The real OpenCode binary and the race suite are heavy: they run after the rest, one file at a time.
      { extends: true, test: { name: "heavy", include: ["test/plugin/**/*.test.ts", "test/reliability/**/*.test.ts"], fileParallelism: false } },
    ],
  },
});
