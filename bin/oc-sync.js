#!/usr/bin/env node
// Installed command: runs the bundled CLI (see scripts/bundle.mjs).
await import("../dist/cli.js");
