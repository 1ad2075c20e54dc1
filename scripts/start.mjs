#!/usr/bin/env node
// `npm start`: run cellfn locally on a fresh clone (after `npm install`).
//
//   1. make sure .dev.vars holds ADMIN_TOKEN, KEY_DERIVATION_SECRET and
//      ALLOW_PRIVATE_EGRESS=true (existing values are kept, missing ones added);
//   2. apply the D1 migrations to the local database (never prompts);
//   3. exec `wrangler dev --port ${PORT:-8787} --ip 127.0.0.1`, forwarding
//      SIGINT/SIGTERM and exiting with its code.
//
// Plain Node ESM with built-ins only. Wrangler needs Node >= 22.12; the project
// pins it as the `node` devDependency, which `npm start` puts first on PATH.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MIN_NODE = [22, 12, 0];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEV_VARS = path.join(ROOT, ".dev.vars");
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
/** Values that mean "not set yet" (the placeholders of .dev.vars.example). */
const PLACEHOLDERS = new Set(["", "replace-me"]);

function log(message) {
  console.log(`[start] ${message}`);
}

function fail(message) {
  console.error(`\n[start] ${message}\n`);
  process.exit(1);
}

function checkNode() {
  const have = process.versions.node.split(".").map(Number);
  for (let i = 0; i < MIN_NODE.length; i++) {
    if (have[i] > MIN_NODE[i]) return;
    if (have[i] < MIN_NODE[i]) {
      fail(
        [
          `cellfn needs Node.js >= ${MIN_NODE.join(".")} (wrangler requires it), but this is Node.js ${process.versions.node}`,
          `(${process.execPath}).`,
          "",
          "Run it through npm instead:  npm start",
          "npm puts node_modules/.bin first on PATH, and the project pins Node 22 as the `node`",
          "devDependency, so `npm start` runs with node_modules/.bin/node. If node_modules is",
          "missing, run `npm install` first. To call the script directly use:",
          "  PATH=\"$PWD/node_modules/.bin:$PATH\" node scripts/start.mjs",
        ].join("\n"),
      );
    }
  }
}

function randomSecret() {
  return randomBytes(32).toString("base64url");
}

/** Ensures .dev.vars exists with every required key; returns the final values. */
function ensureDevVars() {
  const wanted = [
    ["ADMIN_TOKEN", randomSecret],
    ["KEY_DERIVATION_SECRET", randomSecret],
    ["ALLOW_PRIVATE_EGRESS", () => "true"],
    ["ASYNC_QUEUES_VOLATILE", () => "true"],
  ];
  const existed = existsSync(DEV_VARS);
  const original = existed ? readFileSync(DEV_VARS, "utf8") : "";
  const lines = original === "" ? [] : original.replace(/\r?\n$/, "").split(/\r?\n/);

  const values = new Map();
  const lineOf = new Map();
  lines.forEach((line, index) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!match) return;
    let value = match[2].trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    values.set(match[1], value);
    lineOf.set(match[1], index);
  });

  const added = [];
  for (const [key, make] of wanted) {
    const current = values.get(key);
    if (current !== undefined && !PLACEHOLDERS.has(current)) continue;
    const value = make();
    values.set(key, value);
    if (lineOf.has(key)) lines[lineOf.get(key)] = `${key}=${value}`;
    else lines.push(`${key}=${value}`);
    added.push(key);
  }

  if (added.length > 0) {
    if (!existed) lines.unshift("# Local secrets for `wrangler dev`, written by `npm start` (scripts/start.mjs). Not committed.");
    writeFileSync(DEV_VARS, `${lines.join("\n")}\n`, { mode: 0o600 });
    try {
      chmodSync(DEV_VARS, 0o600);
    } catch {
      // best effort (e.g. filesystems without POSIX modes)
    }
    log(`${existed ? "updated" : "created"} ${DEV_VARS} (set ${added.join(", ")})`);
  } else {
    log(`${DEV_VARS} already has ADMIN_TOKEN, KEY_DERIVATION_SECRET and ALLOW_PRIVATE_EGRESS; kept as is`);
  }
  if (values.get("ALLOW_PRIVATE_EGRESS") !== "true") {
    log(`note: ALLOW_PRIVATE_EGRESS=${values.get("ALLOW_PRIVATE_EGRESS")} in .dev.vars (local development normally uses true)`);
  }
  return values;
}

function applyMigrations() {
  log("applying D1 migrations locally: wrangler d1 migrations apply DB --local");
  // Wrangler asks "About to apply N migration(s) ... continue?" when stdin and
  // stdout are a TTY and CI is not set. With stdin not a TTY (and CI=true) it
  // takes the fallback answer "yes" without prompting.
  const result = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local"], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, CI: process.env.CI || "true" },
  });
  if (result.error) fail(`could not run wrangler: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`wrangler d1 migrations apply failed (${result.signal ?? `exit code ${result.status}`})`);
  }
}

function runDev(port, adminToken) {
  const args = [WRANGLER, "dev", "--port", port, "--ip", "127.0.0.1"];
  log(`starting: wrangler ${args.slice(1).join(" ")}`);
  log(`admin token: ADMIN_TOKEN in ${DEV_VARS}`);
  log(`  ADMIN_TOKEN=${adminToken}`);
  log(`  try: curl -s -X POST http://127.0.0.1:${port}/admin/tenants -H "Authorization: Bearer ${adminToken}" -d '{"name":"acme"}'`);
  log("WARNING: locally, a handler that never yields (a busy loop) cannot be stopped at its Timeout:");
  log("  workerd runs it to its end, and every tenant's invocations wait meanwhile (one process, one thread).");
  log("  On Cloudflare the CPU limit stops it. The invocation's log says so; see README \"CPU-bound handlers\".");

  // wrangler dev's local observability writes a trace of every request and
  // Durable Object call to SQLite on workerd's one thread (58 % of its fsyncs
  // under SQS load, README "The send leg"); cellfn has its own logs and
  // metrics, so it is off unless X_LOCAL_OBSERVABILITY=true.
  const env = { ...process.env, X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false" };
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: "inherit", env });
  const forward = (signal) => {
    // On Ctrl-C the terminal also signals wrangler directly (same process
    // group); forwarding covers `kill <pid of this script>` and SIGTERM.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  child.on("error", (err) => fail(`could not start wrangler dev: ${err.message}`));
  child.on("exit", (code, signal) => {
    if (signal) {
      const numbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
      process.exit(128 + (numbers[signal] ?? 1));
    }
    process.exit(code ?? 1);
  });
}

checkNode();
if (!existsSync(WRANGLER)) fail(`wrangler is not installed (${WRANGLER} missing). Run \`npm install\` first.`);
const port = process.env.PORT || "8787";
if (!/^\d+$/.test(port)) fail(`PORT must be a number, got ${JSON.stringify(port)}`);
const vars = ensureDevVars();
applyMigrations();
runDev(port, vars.get("ADMIN_TOKEN"));
