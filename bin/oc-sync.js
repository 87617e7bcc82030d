#!/usr/bin/env node
// Installed command: runs the bundled CLI (see scripts/bundle.mjs), on a Node that has node:sqlite.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(`oc-sync: needs Node 22.13 or newer (it reads OpenCode's database with node:sqlite); this is Node ${process.versions.node}. Install a current Node (https://nodejs.org) and run it again.\n`);
  process.exit(1);
}
await import("../dist/cli.js");
