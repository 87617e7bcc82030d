// Bundles each entry point into one committed file under dist/ (the Action runs dist/ directly;
// the CLI and the plugin ship it), so nothing needs installing where they run.
import { build } from "esbuild";

const entries = {
  "dist/cli.js": "client/cli/entry.ts",
  "dist/action.js": "action/main.ts",
  "dist/plugin.js": "client/plugin/index.ts",
};

for (const [outfile, entry] of Object.entries(entries)) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    legalComments: "none",
    // Bundled CommonJS dependencies call require(); give ESM output one.
    banner: { js: "import { createRequire as __ocSyncRequire } from 'node:module'; const require = __ocSyncRequire(import.meta.url);" },
    external: ["bun:sqlite"],
    // jsonc-parser's "main" is a UMD build that loads files at run time; its ESM build bundles cleanly.
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
}
