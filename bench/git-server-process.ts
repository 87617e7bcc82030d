// The loopback git server in a process of its own, so a benchmark's CPU figure for oc-sync does
// not include the server's work. Prints its port, serves until killed.
import { startGitServer } from "../test/support/git-http-server.js";

const [root, token] = process.argv.slice(2);
const server = await startGitServer({ root: root!, tokens: [token!] });
console.log(server.port);
