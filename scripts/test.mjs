// `npm test` after the type check: the workerd suites (vitest.config.ts) and the
// end-to-end suites (vitest.e2e.config.ts) side by side. They share nothing: the
// workerd pool runs in-process Miniflare instances, each e2e file starts its own
// `wrangler dev` on free ports with its own state directory. Side by side the
// whole run takes about as long as the workerd suites alone (the e2e suites
// spend most of their time waiting on `wrangler dev`), which keeps CI well inside
// its limit as the suites grow.
//
// Each line is prefixed with its suite's name; the exit code is non-zero when
// either suite fails, and the summary says which and repeats the failed suite's
// last lines (vitest's list of failed tests), since CI's log keeps only its
// tail. A concurrent-run helper package would do the same, but this is 60
// lines and npm's own runner has no such mode.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { stripVTControlCharacters } from "node:util";

const suites = [
  { name: "workerd", script: "test:workers" },
  { name: "e2e", script: "test:e2e" },
];

const children = [];
const TAIL_LINES = 200;

function run({ name, script }) {
  const started = Date.now();
  const tail = [];
  const child = spawn("npm", ["run", "-s", script], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  children.push(child);
  for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    // vitest colours its output whenever CI is set; a log file (CI's) gets plain text.
    const plain = out.isTTY ? (line) => line : stripVTControlCharacters;
    createInterface({ input: stream }).on("line", (line) => {
      out.write(`[${name}] ${plain(line)}\n`);
      tail.push(stripVTControlCharacters(line));
      if (tail.length > TAIL_LINES) tail.shift();
    });
  }
  return new Promise((resolve) => {
    child.on("close", (code, signal) => resolve({ name, tail, code: code ?? 1, signal, seconds: Math.round((Date.now() - started) / 1000) }));
  });
}

// A Ctrl-C or CI timeout ends both suites (and their wrangler dev / workerd children).
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(130);
  });
}

const results = await Promise.all(suites.map(run));
for (const r of results.filter((r) => r.code !== 0)) {
  console.log(`\n==================== ${r.name}: its last ${r.tail.length} lines ====================`);
  for (const line of r.tail) console.log(`[${r.name}] ${line}`);
}
console.log("\n==================== npm test summary ====================");
for (const r of results) {
  console.log(`${r.name.padEnd(8)} ${r.code === 0 ? "passed" : `FAILED (exit ${r.code}${r.signal ? `, ${r.signal}` : ""})`} in ${r.seconds} s`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
