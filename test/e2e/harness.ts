/**
 * End-to-end harness (runs in Node, not in workerd): boots the real platform
 * with `wrangler dev` on a free port against a fresh, throw-away state
 * directory, and gives tests the admin API and a real AWS SDK Lambda client.
 *
 *   const platform = await startPlatform();          // in beforeAll
 *   const acme = await createTenantWithKey(platform, "acme");
 *   const lambda = lambdaClient(platform, acme);
 *   ...
 *   await platform.stop();                            // in afterAll
 *
 * Wrangler needs Node >= 22.12. It is spawned from node_modules/.bin with
 * node_modules/.bin first on PATH, so its `#!/usr/bin/env node` resolves to the
 * Node 22 pinned as the `node` devDependency whatever Node runs vitest.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { CreateFunctionCommand, type CreateFunctionCommandInput, LambdaClient, type LambdaClientConfig, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2 } from "@aws-sdk/client-lambda";
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { TEST_API_REQUEST_RATE } from "../fixtures/tenant-limits";
import { makeZip } from "../fixtures/zips";
import { findInnerPort } from "./inner-socket";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const WRANGLER = path.join(BIN, "wrangler");

const BOOT_TIMEOUT_MS = 90_000;
/** Overridable (CELLFN_E2E_MIGRATE_TIMEOUT_MS) for benches; 180 s by default, as the shared test machine can be very loaded (load average 15+ on 2 cores). */
const MIGRATE_TIMEOUT_MS = Number(process.env.CELLFN_E2E_MIGRATE_TIMEOUT_MS ?? 180_000);
const STOP_GRACE_MS = 5_000;
const OUTPUT_LIMIT = 256 * 1024;

export interface Platform {
  /** Base URL, e.g. http://127.0.0.1:43817 (no trailing slash). */
  url: string;
  port: number;
  adminToken: string;
  keyDerivationSecret: string;
  /** The throw-away `--persist-to` directory (D1, R2, ... state). */
  stateDir: string;
  /** Everything wrangler printed so far (stdout and stderr, capped). */
  output(): string;
  /**
   * Kills wrangler's whole process group and removes the state directory. Idempotent.
   * `hard`: kill -9 at once (a crash: no clean shutdown of workerd) instead of SIGTERM first.
   */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** wrangler's process group id (workerd runs in it too). */
  pgid: number;
  /** wrangler dev's inspector proxy (CDP; bench/lib/inspector.ts). */
  inspectorPort: number;
  /** Which socket `url` and `port` address (StartOptions.via). */
  via: "proxy" | "direct";
  /** wrangler dev's own `--port` (its proxy worker), whichever `via`. */
  proxyPort: number;
}

export interface StartOptions {
  /** Extra `--var NAME:value` bindings (override the defaults below). */
  vars?: Record<string, string>;
  /** Echo wrangler's output to this process's stderr (also on with CELLFN_E2E_VERBOSE=1). */
  verbose?: boolean;
  /** How long to wait for GET /healthz to answer 200 (default 90 s). */
  bootTimeoutMs?: number;
  /** wrangler's `--log-level` (benches: `warn` spares the per-request log lines their load would print). */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  /**
   * Reuse this `--persist-to` directory (a restart: pass the previous
   * platform's `stateDir`, `adminToken` and `keyDerivationSecret` in `vars`).
   * The caller owns it: stop() leaves it in place.
   */
  stateDir?: string;
  /**
   * Which socket `url` and `port` address: "proxy" (default) is wrangler
   * dev's `--port`, its proxy workerd in front of the user worker; "direct"
   * is the user worker's own entry socket behind it (test/e2e/inner-socket.ts),
   * as the Cloudflare edge would reach it, for benches that measure queues.
   */
  via?: "proxy" | "direct";
}

export interface TenantCredentials {
  tenantId: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bearer form of the key: `Authorization: Bearer <token>`. */
  token: string;
}

export interface AdminResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: T;
  text: string;
}

// ---------------------------------------------------------------------------
// Platform lifecycle

/** Process groups still running and state dirs still present, cleaned up synchronously if this process exits first. */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
    liveGroups.clear();
    for (const dir of liveDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
    liveDirs.clear();
  };
  process.on("exit", killAll);
  // wrangler runs in its own process group, so a Ctrl-C of the test run does
  // not reach it: take it down with us, then keep the default behaviour
  // (re-raise) unless someone else handles the signal.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work`, printing a line every `everyMs` while it is still running, so
 * a suite's setup that overruns its hook timeout says which step it was in
 * (vitest abandons a timed-out hook without a trace of where it stood).
 */
export async function watched<T>(label: string, work: () => Promise<T>, everyMs = 30_000): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => {
    console.log(`[e2e] still waiting on ${label} after ${Math.round((Date.now() - started) / 1000)} s`);
  }, everyMs);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

function secret(): string {
  return randomBytes(32).toString("base64url");
}

/** The environment every wrangler child process gets (also used by bench/). */
export function wranglerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`,
    // Deterministic and offline: no telemetry, no fetch of the Request.cf
    // object from workers.cloudflare.com, no colours in captured output.
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    // wrangler dev's local observability (on by default with [observability]
    // in wrangler.toml) streams a tail of every request and Durable Object
    // call to a collector in the same workerd and writes each trace to its
    // own SQLite Durable Object: an fsync on workerd's one thread per trace,
    // 58 % of that thread's fsyncs in bench:queues' probes (strace, 2026-12-04).
    // Cloudflare runs observability outside the Worker, so tests and benches
    // leave it off; X_LOCAL_OBSERVABILITY=true turns it back on.
    X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
    FORCE_COLOR: "0",
    NO_COLOR: "1",
  };
}

/** Runs a wrangler command to completion (no stdin, so it never prompts). */
async function runWrangler(args: string[], timeoutMs: number): Promise<string> {
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    // `d1 migrations apply` asks for confirmation unless it is non-interactive:
    // stdin is not a TTY here and CI=true, so it takes the default "yes".
    env: { ...wranglerEnv(), CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  let output = "";
  const collect = (chunk: Buffer) => (output += stripVTControlCharacters(chunk.toString()));
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const timer = setTimeout(() => child.pid && killGroup(child.pid, "SIGKILL"), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c, s) => resolve([c, s]));
  }).finally(() => {
    clearTimeout(timer);
    if (child.pid !== undefined) liveGroups.delete(child.pid);
  });
  if (code !== 0) {
    throw new Error(
      `wrangler ${args.join(" ")} failed (${signal ?? `exit code ${code}`}${signal === "SIGKILL" ? `, timeout ${timeoutMs} ms` : ""}):\n${output}`,
    );
  }
  return output;
}

/**
 * Boots the platform: fresh temp state dir, `wrangler d1 migrations apply DB
 * --local --persist-to <dir>`, then `wrangler dev` on a free port with random
 * secrets passed as `--var`, and waits for GET /healthz to answer 200.
 */
export async function startPlatform(options: StartOptions = {}): Promise<Platform> {
  if (!existsSync(WRANGLER)) throw new Error(`${WRANGLER} not found: run \`npm install\` first.`);
  installExitHook();
  const verbose = options.verbose ?? process.env.CELLFN_E2E_VERBOSE === "1";
  const bootTimeoutMs = options.bootTimeoutMs ?? BOOT_TIMEOUT_MS;
  const ownsState = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), "cellfn-e2e-")));
  if (ownsState) liveDirs.add(stateDir);
  const removeState = async () => {
    if (!ownsState) return;
    await rm(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    liveDirs.delete(stateDir);
  };

  const migrateStarted = Date.now();
  try {
    const migrateOutput = await watched("wrangler d1 migrations apply", () =>
      runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], MIGRATE_TIMEOUT_MS),
    );
    if (verbose) process.stderr.write(`${migrateOutput}[harness] migrations applied in ${Date.now() - migrateStarted} ms\n`);
  } catch (err) {
    await removeState();
    throw err;
  }

  const [port, inspectorPort] = await Promise.all([freePort(), freePort()]);
  const adminToken = options.vars?.ADMIN_TOKEN ?? secret();
  const keyDerivationSecret = options.vars?.KEY_DERIVATION_SECRET ?? secret();
  const vars: Record<string, string> = {
    ADMIN_TOKEN: adminToken,
    KEY_DERIVATION_SECRET: keyDerivationSecret,
    ALLOW_PRIVATE_EGRESS: "true",
    // wrangler dev's queues live in memory: keep queued async events across restarts (src/async/volatile-queues.ts).
    ASYNC_QUEUES_VOLATILE: "true",
    ...options.vars,
  };
  const args = [
    "dev",
    "--port", String(port),
    "--ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", stateDir,
    "--show-interactive-dev-session=false",
    ...(options.logLevel ? ["--log-level", options.logLevel] : []),
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];

  const child: ChildProcess = spawn(WRANGLER, args, {
    cwd: ROOT,
    env: wranglerEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: stop() kills wrangler and its workerd children together
  });
  const pgid = child.pid;
  if (pgid === undefined) {
    await removeState();
    throw new Error("could not spawn wrangler dev");
  }
  liveGroups.add(pgid);

  let output = "";
  const collect = (chunk: Buffer) => {
    const text = stripVTControlCharacters(chunk.toString());
    output += text;
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
    if (verbose) process.stderr.write(text);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.on("error", (err) => {
      output += `\n[harness] spawn error: ${err.message}\n`;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { hard?: boolean } = {}) =>
    (stopping ??= (async () => {
      if (!exited) killGroup(pgid, stopOptions.hard ? "SIGKILL" : "SIGTERM");
      await Promise.race([exitPromise, sleep(STOP_GRACE_MS)]);
      // wrangler may be gone while workerd (same group) lingers, or vice versa.
      const deadline = Date.now() + STOP_GRACE_MS;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(pgid)) killGroup(pgid, "SIGKILL");
      await Promise.race([exitPromise, sleep(STOP_GRACE_MS)]);
      liveGroups.delete(pgid);
      await removeState();
    })());

  const url = `http://127.0.0.1:${port}`;
  const platform: Platform = {
    url,
    port,
    via: "proxy",
    proxyPort: port,
    adminToken,
    keyDerivationSecret,
    stateDir,
    output: () => output,
    stop,
    pgid,
    inspectorPort,
  };

  const started = Date.now();
  let lastProblem = "no answer yet";
  let noted = started;
  while (true) {
    if (Date.now() - noted >= 30_000) {
      noted = Date.now();
      console.log(`[e2e] wrangler dev on ${url} has not answered /healthz after ${Math.round((noted - started) / 1000)} s (last: ${lastProblem})`);
    }
    if (exited) {
      await stop();
      throw new Error(
        `wrangler dev exited before /healthz answered (${exited.signal ?? `exit code ${exited.code}`}).\n` +
          `command: wrangler ${redact(args, vars).join(" ")}\n--- wrangler output ---\n${output}`,
      );
    }
    // wrangler dev stays up after a failed build (it waits for a file change);
    // nothing will fix the code during a test run, so fail now.
    if (/\[ERROR\] Build failed/.test(output)) {
      await sleep(500); // let the rest of the error message arrive
      await stop();
      throw new Error(
        `wrangler dev could not build the Worker.\n` +
          `command: wrangler ${redact(args, vars).join(" ")}\n--- wrangler output ---\n${output}`,
      );
    }
    if (Date.now() - started > bootTimeoutMs) {
      await stop();
      throw new Error(
        `wrangler dev did not answer GET ${url}/healthz with 200 within ${bootTimeoutMs} ms (last: ${lastProblem}).\n` +
          `command: wrangler ${redact(args, vars).join(" ")}\n--- wrangler output ---\n${output}`,
      );
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastProblem = `HTTP ${res.status}`;
    } catch (err) {
      lastProblem = err instanceof Error ? `${err.name}: ${(err.cause as Error | undefined)?.message ?? err.message}` : String(err);
    }
    await sleep(200);
  }
  if (options.via === "direct") {
    try {
      const inner = await findInnerPort(pgid, [port, inspectorPort], JSON.stringify({ ok: true }));
      Object.assign(platform, { url: `http://127.0.0.1:${inner}`, port: inner, via: "direct" });
    } catch (err) {
      await stop();
      throw err;
    }
  }
  if (verbose) process.stderr.write(`[harness] platform up at ${platform.url} (${platform.via}) after ${Date.now() - started} ms\n`);
  return platform;
}

/**
 * Stops `platform` and boots it again on the same persisted state (D1, R2,
 * Durable Objects with their alarms) with the same ADMIN_TOKEN and
 * KEY_DERIVATION_SECRET, so tenants' keys keep working; `vars` are the
 * other `--var`s it was started with. The port changes: make new clients
 * from the returned platform (queue URLs are read by path, any host works).
 * `hard`: kill -9 instead of a clean stop (workerd gets no chance to flush).
 * The state directory must be the caller's (started with `stateDir`);
 * otherwise stop() would have removed it.
 */
export async function restartPlatform(platform: Platform, options: Omit<StartOptions, "stateDir"> & { hard?: boolean } = {}): Promise<Platform> {
  const { hard, ...startOptions } = options;
  await platform.stop({ hard });
  if (!existsSync(platform.stateDir)) {
    throw new Error(`restartPlatform: ${platform.stateDir} is gone; start the platform with a stateDir of your own to restart it`);
  }
  const vars = { ADMIN_TOKEN: platform.adminToken, KEY_DERIVATION_SECRET: platform.keyDerivationSecret, ...options.vars };
  return startPlatform({ ...startOptions, stateDir: platform.stateDir, vars });
}

function redact(args: string[], vars: Record<string, string>): string[] {
  const secrets = new Set(Object.entries(vars).filter(([k]) => k !== "ALLOW_PRIVATE_EGRESS").map(([, v]) => v));
  return args.map((arg) => {
    const colon = arg.indexOf(":");
    return colon > 0 && secrets.has(arg.slice(colon + 1)) ? `${arg.slice(0, colon)}:<redacted>` : arg;
  });
}

// ---------------------------------------------------------------------------
// Admin API

/**
 * Calls the admin API with `Authorization: Bearer <adminToken>` (or `token`,
 * or no Authorization header with `token: null`). Never throws on HTTP errors.
 */
export async function adminFetch<T = any>(
  platform: Platform,
  method: string,
  urlPath: string,
  body?: unknown,
  options: { token?: string | null; timeoutMs?: number } = {},
): Promise<AdminResponse<T>> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? platform.adminToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${platform.url}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

function expectStatus(res: AdminResponse, status: number, what: string): void {
  if (res.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${res.text}`);
  }
}

/** Creates a tenant (with `limits` over the test defaults) and one key for it through the admin API. */
export async function createTenantWithKey(
  platform: Platform,
  name: string,
  scope: "full" | "invoke" = "full",
  limits: { concurrencyLimit?: number; apiRequestRate?: number } = {},
): Promise<TenantCredentials> {
  const tenant = await adminFetch(platform, "POST", "/admin/tenants", { name, apiRequestRate: TEST_API_REQUEST_RATE, ...limits });
  expectStatus(tenant, 201, `POST /admin/tenants {"name":${JSON.stringify(name)}}`);
  const { tenantId, accountId } = tenant.body as { tenantId: string; accountId: string };
  const key = await createKey(platform, tenantId, `${name}-${scope}`, scope);
  return { tenantId, accountId, ...key };
}

/** Adds a key to an existing tenant. */
export async function createKey(
  platform: Platform,
  tenantId: string,
  name: string,
  scope: "full" | "invoke" = "full",
): Promise<{ accessKeyId: string; secretAccessKey: string; token: string }> {
  const key = await adminFetch(platform, "POST", `/admin/tenants/${encodeURIComponent(tenantId)}/keys`, { name, scope });
  expectStatus(key, 201, `POST /admin/tenants/${tenantId}/keys`);
  const { accessKeyId, secretAccessKey, token } = key.body as {
    accessKeyId: string;
    secretAccessKey: string;
    token: string;
  };
  return { accessKeyId, secretAccessKey, token };
}

// ---------------------------------------------------------------------------
// Lambda API

/**
 * What every test client of the platform shares: its endpoint and region,
 * `creds`, no retries (`maxAttempts: 1`, so a failing call fails once and
 * visibly) and bounded connections and requests.
 */
function clientConfig(platform: Platform, creds: { accessKeyId: string; secretAccessKey: string }) {
  return {
    endpoint: platform.url,
    region: "us-east-1",
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  };
}

/** A real AWS SDK v3 Lambda client pointed at the platform (clientConfig; `opts` override). */
export function lambdaClient(
  platform: Platform,
  creds: { accessKeyId: string; secretAccessKey: string },
  opts: Partial<LambdaClientConfig> = {},
): LambdaClient {
  return new LambdaClient({ ...clientConfig(platform, creds), ...opts });
}

/** A real AWS SDK v3 SQS client pointed at the platform (clientConfig; `opts` override). */
export function sqsClient(
  platform: Platform,
  creds: { accessKeyId: string; secretAccessKey: string },
  opts: Partial<SQSClientConfig> = {},
): SQSClient {
  return new SQSClient({ ...clientConfig(platform, creds), ...opts });
}

/** The SDK waiters' settings for tests: poll every 1-2 s, give up after a minute. */
const WAITER = { maxWaitTime: 60, minDelay: 1, maxDelay: 2 } as const;

/**
 * Waits, with the SDK's own waiters, until a new function is Active
 * (`waitUntilFunctionActiveV2`) or an update has finished
 * (`waitUntilFunctionUpdatedV2`), as a deployment script does: bundling runs
 * after CreateFunction / Update* answer.
 */
export async function untilActive(client: LambdaClient, name: string): Promise<void> {
  await waitUntilFunctionActiveV2({ client, ...WAITER }, { FunctionName: name });
}

export async function untilUpdated(client: LambdaClient, name: string): Promise<void> {
  await waitUntilFunctionUpdatedV2({ client, ...WAITER }, { FunctionName: name });
}

/**
 * CreateFunction of a one-file Node.js function (`source` as index.js,
 * handler `index.handler`; `settings` add to or override the rest), then
 * waits until it is Active.
 */
export async function createActiveFunction(
  client: LambdaClient,
  name: string,
  source: string,
  settings: Partial<Omit<CreateFunctionCommandInput, "FunctionName" | "Code">> = {},
): Promise<void> {
  await client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::123456789012:role/lambda-role",
      Code: { ZipFile: makeZip({ "index.js": source }) },
      ...settings,
    }),
  );
  await untilActive(client, name);
}
