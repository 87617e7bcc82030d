#!/usr/bin/env node
// Installed command: runs the bundled CLI (see scripts/bundle.mjs), on a Node that has node:sqlite.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The minimum is package.json's `engines` (">=MAJOR.MINOR"), so npm, the README and this check agree.
const needed = /^>=(\d+)\.(\d+)$/.exec(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines.node);
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < Number(needed[1]) || (major === Number(needed[1]) && minor < Number(needed[2]))) {
  process.stderr.write(`oc-sync: needs Node ${needed[1]}.${needed[2]} or newer (it reads OpenCode's database with node:sqlite); this is Node ${process.versions.node}. Install a current Node (https://nodejs.org) and run it again.\n`);
  process.exit(1);
}
// V8 sizes its heap for throughput; a sync allocates fast and keeps little (a first pull of 503
// sessions holds ~45 MB live at its peak). Semi-spaces of 8 MB instead of up to 32 MB: ~100 MB less,
// no slower. --optimize-for-size (the old generation grows in smaller steps): at 503 sessions the
// first pull peaks at ~160 MB instead of ~285 MB, ~15 % slower, and the initial sync at ~150 MB
// instead of ~190 MB. The flags only work from the command line, so the command starts Node once more.
const HEAP = ["--max-semi-space-size=8", "--optimize-for-size"];
if (!process.execArgv.includes(HEAP[0])) {
  const child = spawn(process.execPath, [...process.execArgv, ...HEAP, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  // A signal for this process is meant for the sync: pass it on, then end as the sync ended.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (e) => {
    process.stderr.write(`oc-sync: could not start ${process.execPath}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  await import("../dist/cli.js");
}
