/**
 * `npm run bench:invoke`: invoke latency and throughput of cellfn against
 * its baselines, on this machine, over loopback.
 *
 * Starts cellfn (test/e2e/harness.ts: `wrangler dev`, fresh state, migrations)
 * and the baseline Worker (bench/baseline/, its own `wrangler dev` and port),
 * creates a tenant, a key and a function with the same tiny handler, warms
 * it, then drives each case with a closed-loop load generator in this Node
 * process (node:http, keep-alive; N workers issuing requests back to back):
 *
 *   (a) plain    baseline Worker, handler inline                      POST /plain
 *   (b) loader   baseline Worker → Worker Loader (fixed id) → RPC     POST /loader
 *   (c) cellfn   warm sync Invoke, `Authorization: Bearer <token>`    POST /2015-03-31/functions/{name}/invocations
 *                (the curl-style client; SigV4 is an extra row)
 *   (d) cold     cellfn sync Invoke on a new execution environment each time:
 *                UpdateFunctionConfiguration (Environment) before each request
 *                gives a new version key, so the lease picks a new environment
 *                id and the Worker Loader starts a new isolate. Only the invoke
 *                is timed; every sample is checked cold ("Init Duration" in
 *                its Tail log). Fewer samples, concurrency 1 only.
 *
 *   (f) url      the same function through its function URL (AuthType NONE), POST / with
 *                Host <url-id>.lambda-url.us-east-1.localhost: Host dispatch, payload 2.0
 *                event, response interpretation; issue 14's target: (f) p50 ≤ (c) p50 + 0.5 ms
 *
 * Breakdown rows, to see where the time goes: (c') SigV4 (aws4fetch) instead
 * of bearer; (x) DryRun (204 after auth + body checks + function lookup,
 * nothing runs); (y) cellfn's executor + shim alone in the baseline Worker
 * (no auth, lookup, lease, egress); (u) cellfn's lease Durable Objects alone
 * (acquire, release in waitUntil); (v)/(w) a bare DO RPC and one that commits
 * a SQLite write; (c") (c) with Tail logs, counting cold starts under load;
 * (z) a new Worker Loader isolate without the platform; (c-log) (c) on a handler
 * that also writes one console.log line, for the cost of logging (≤ 0.2 ms p50);
 * (c-nomet) (c) on a function whose metrics are not recorded (cellfn runs with
 * METRICS_RECORDING=off:bench-nomet-), for the cost of metrics (throughput
 * (c)/(c-nomet) ≥ 0.98). Both costs are judged on the median of per-round
 * differences (bench/obs-costs.ts).
 *
 * The cases of one concurrency run in interleaved rounds (this machine is
 * shared; background load drifts), and the CPU other processes used while
 * measuring is reported.
 *
 * Prints a table and the target checks, and writes bench/results/invoke-latest.json.
 * Last, (pc) provisioned vs on-demand: p99 of the first request after an idle
 * period against the warm p99 (bench/provisioned.ts).
 *
 * Knobs (environment): BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_EXTRA_DURATION_S (3),
 * BENCH_EXTRA_WARMUP_S (1), BENCH_ROUNDS (4), BENCH_COLD_SAMPLES (30), BENCH_CONCURRENCY ("1,16"),
 * BENCH_VERBOSE=1; provisioned row: BENCH_PC_IDLE_S (600), BENCH_PC_FUNCTIONS (5), BENCH_PC_ROUNDS (1),
 * BENCH_PC_WARM_SAMPLES (20), BENCH_PC=0 skips it, BENCH_ONLY=provisioned runs only it (cellfn alone,
 * results to bench/results/invoke-provisioned-latest.json); BENCH_ONLY=cold runs only the cold rows
 * (bench/cold.ts: interleaved, BENCH_COLD_SAMPLES (40) each, results to bench/results/invoke-cold-latest.json);
 * BENCH_ONLY=obs runs only (c), (c-log) and (c-nomet) (default 24 s measured in 12 rounds per concurrency,
 * results to bench/results/invoke-obs-latest.json). After each concurrency's rounds, (c) and (c-log) run
 * PAIRED for BENCH_PAIRED_S (10; 30 with BENCH_ONLY=obs): the same workers take them in turn, and the
 * logging verdict is the upper end of a bootstrap 95 % interval of their p50 difference (bench/obs-costs.ts);
 * then (c) and (c-nomet) the same way, and the metrics verdict is the lower end of a bootstrap 95 % interval
 * of mean latency (c-nomet)/(c), which is the throughput ratio of a closed loop (Little's law).
 * BENCH_CASES=b,c,dryrun,executor runs only those warm cases (and none of the rows after them), for a
 * quick before/after of the invoke path.
 *
 * cellfn's Invoke answers carry `Server-Timing: lease-held;dur=…` or `lease-partition;dur=…`
 * (src/invoke/routes.ts); the output counts them per cellfn row: how many leases were a
 * trip to the partition Durable Object.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { AwsClient } from "aws4fetch";
import { createTenantWithKey, ROOT, startPlatform, type Platform, type TenantCredentials } from "../test/e2e/harness";
import { makeZipBase64 } from "../test/fixtures/zips";
import { HANDLER_SOURCE } from "./handler";
import { coldOnly } from "./cold";
import { provisionedVsOnDemand, type ProvisionedBenchResult } from "./provisioned";
import { killBaselineNow, startBaseline, type Baseline } from "./lib/baseline";
import { postLocal, type Reply, type Target } from "./lib/http";
import { waitUntilActive } from "./lib/lambda";
import { procTable } from "./lib/proc";
import { envNumber } from "./lib/settings";
import { costLines, loggingCost, metricsCost, pairedLines, pairedLoggingCost, pairedMetricsCost, pairedMetricsLines, type CostCheck, type PairedCheck, type PairedMetricsCheck } from "./obs-costs";

// ---------------------------------------------------------------------------
// Settings

/** BENCH_ONLY=obs: only the rows of issue 13's cost targets, in more rounds. */
const OBS_ONLY = process.env.BENCH_ONLY === "obs";
/** BENCH_CASES=b,c,dryrun,executor: only these warm cases (keys as in the results), no cold/tail/provisioned rows after them. */
const CASE_KEYS = process.env.BENCH_CASES?.split(",").filter(Boolean);
const DURATION_S = envNumber("BENCH_DURATION_S", OBS_ONLY ? 24 : 8);
const WARMUP_S = envNumber("BENCH_WARMUP_S", 2);
const EXTRA_DURATION_S = envNumber("BENCH_EXTRA_DURATION_S", 3);
const EXTRA_WARMUP_S = envNumber("BENCH_EXTRA_WARMUP_S", 1);
const COLD_SAMPLES = Math.floor(envNumber("BENCH_COLD_SAMPLES", 30));
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? "1,16").split(",").map(Number).filter((n) => n > 0);
const VERBOSE = process.env.BENCH_VERBOSE === "1";
/** Upper bounds of one load run, whatever the durations say. */
const MAX_REQUESTS_PER_RUN = 500_000;
/** Measured time of each case is split into this many interleaved slices. */
const ROUNDS = Math.floor(envNumber("BENCH_ROUNDS", OBS_ONLY ? 12 : 4));
/** Seconds of the paired logging measure per concurrency ((c) and (c-log) in turn, same workers). */
const PAIRED_S = envNumber("BENCH_PAIRED_S", OBS_ONLY ? 30 : 10);
const REQUEST_TIMEOUT_MS = 10_000;
/** Targets from the issue. */
const TARGET_P50_DELTA_MS = 1;
const TARGET_THROUGHPUT_RATIO = 0.5;
/** Provisioned: p99 of the first request after idle within this factor of the warm p99. */
const TARGET_PC_AFTER_IDLE_RATIO = 1.2;
const PC_SETTINGS = {
  idleS: envNumber("BENCH_PC_IDLE_S", 600),
  functions: Math.floor(envNumber("BENCH_PC_FUNCTIONS", 5)),
  rounds: Math.floor(envNumber("BENCH_PC_ROUNDS", 1)),
  warmSamples: Math.floor(envNumber("BENCH_PC_WARM_SAMPLES", 20)),
};
const PC_ENABLED = process.env.BENCH_PC !== "0";
/** Issue 14: a NONE function URL costs at most this much p50 over the Invoke API (c). */
const TARGET_URL_P50_DELTA_MS = 0.5;

const RESULTS = path.join(ROOT, "bench", "results", OBS_ONLY ? "invoke-obs-latest.json" : "invoke-latest.json");
const FUNCTION_NAME = "bench-echo";
const COLD_FUNCTION_NAME = "bench-cold";
/** The same handler plus one console.log per invoke: (c-log) - (c) is what a function's own log line costs (issue 13: ≤ 0.2 ms p50). */
const LOGGING_FUNCTION_NAME = "bench-echo-logs";
const LOGGING_HANDLER_SOURCE = 'export const handler = async (event) => { console.log("order", event.n); return { ok: true, echo: event }; };\n';
/** The same handler in a function whose metrics cellfn does not record: (c)/(c-nomet) is what recording costs (issue 13: ≥ 0.98). */
const NOMET_PREFIX = "bench-nomet-";
const NOMET_FUNCTION_NAME = `${NOMET_PREFIX}echo`;
/** The cold case's handler importing the preinstalled AWS SDK (issue 11: ≤ +30 ms p50 over "bench-cold"). */
const COLD_SDK_FUNCTION_NAME = "bench-cold-sdk";
const SDK_HANDLER_SOURCE =
  "import { LambdaClient } from '@aws-sdk/client-lambda';\nconst client = new LambdaClient({});\n" +
  "export const handler = async (event) => ({ ok: true, echo: event, sdk: typeof client.send });\n";
/** The event every request carries (the handler echoes it). */
const EVENT = JSON.stringify({ bench: true, message: "hello", n: 42 });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

// ---------------------------------------------------------------------------
// Load generator

function send(agent: http.Agent, port: number, urlPath: string, headers: Record<string, string>, body: string): Promise<Reply> {
  return postLocal(agent, port, urlPath, headers, body, REQUEST_TIMEOUT_MS);
}

interface RunResult {
  /** Latencies (ms) of the requests that started inside the measured window and succeeded. */
  latencies: number[];
  /** Requests started inside the measured window (ok + errors). */
  requests: number;
  errors: Record<string, number>;
  /** Seconds from the window's start to the last measured reply. */
  elapsedS: number;
  /** One example of each error kind. */
  samples: Record<string, string>;
  /** Server-Timing durations (ms) of the measured successful replies, by metric name. */
  server: Record<string, number[]>;
  /** CPU time (ms) the servers (both wrangler dev and their workerd) used during the run, when measured. */
  serverCpuMs?: number;
}

/** `name;dur=1.5, other;dur=2` → pushes each duration into `into[name]`. */
function collectServerTiming(reply: Reply, into: Record<string, number[]>): void {
  const header = reply.headers["server-timing"];
  if (typeof header !== "string") return;
  for (const part of header.split(",")) {
    const match = /^\s*([\w.-]+)\s*;\s*dur=([\d.]+)/.exec(part);
    if (match) (into[match[1]!] ??= []).push(Number(match[2]));
  }
}

/**
 * Closed loop: `concurrency` workers, each sends a request, waits for the
 * whole reply, sends the next. Requests that start during the warm-up are
 * not measured; no request starts after the window closes.
 */
async function closedLoop(target: Target, concurrency: number, warmupS: number, durationS: number): Promise<RunResult> {
  return (await mixedLoop([target], concurrency, warmupS, durationS))[0]!;
}

/**
 * The closed loop over several targets at once: each worker takes them in
 * turn (worker i starts at target i mod n), so every target's requests run
 * under the same background load and the same mix of requests in flight;
 * one result per target. The paired logging measure (issue 13) uses it:
 * separate slices moved (c-log) − (c) by more than the 0.2 ms it judges.
 */
async function mixedLoop(targets: readonly Target[], concurrency: number, warmupS: number, durationS: number): Promise<RunResult[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const results: RunResult[] = targets.map(() => ({ latencies: [], requests: 0, errors: {}, samples: {}, server: {}, elapsedS: 0 }));
  const lastEnd = targets.map(() => 0);
  let issued = 0;
  const start = performance.now();
  const windowStart = start + warmupS * 1000;
  const windowEnd = windowStart + durationS * 1000;
  const fail = (out: RunResult, kind: string, detail: string, measured: boolean) => {
    if (!measured) return;
    out.errors[kind] = (out.errors[kind] ?? 0) + 1;
    out.samples[kind] ??= detail.slice(0, 300);
  };

  const worker = async (index: number) => {
    for (let turn = index; issued < MAX_REQUESTS_PER_RUN; turn++) {
      const which = turn % targets.length;
      const target = targets[which]!;
      const out = results[which]!;
      const urlPath = target.path(index);
      const headers = await target.headers(urlPath, target.body);
      const t0 = performance.now();
      if (t0 >= windowEnd) return;
      issued++;
      const measured = t0 >= windowStart;
      if (measured) out.requests++;
      try {
        const reply = await send(agent, target.port, urlPath, headers, target.body);
        const t1 = performance.now();
        if (reply.status === 429) fail(out, "429", reply.body, measured);
        else if (reply.status !== target.okStatus) fail(out, `http ${reply.status}`, reply.body, measured);
        else {
          const problem = target.check?.(reply);
          if (problem) fail(out, problem, reply.body, measured);
          else if (measured) {
            out.latencies.push(t1 - t0);
            collectServerTiming(reply, out.server);
          }
        }
        if (measured) lastEnd[which] = Math.max(lastEnd[which]!, t1);
      } catch (err) {
        fail(out, "network", err instanceof Error ? err.message : String(err), measured);
        if (measured) lastEnd[which] = Math.max(lastEnd[which]!, performance.now());
        await sleep(10); // a refused connection must not spin
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  agent.destroy();
  results.forEach((out, i) => (out.elapsedS = Math.max(1e-9, (lastEnd[i]! - windowStart) / 1000)));
  return results;
}

function merge(runs: RunResult[]): RunResult {
  const out: RunResult = { latencies: [], requests: 0, errors: {}, samples: {}, server: {}, elapsedS: 0 };
  for (const run of runs) {
    for (const ms of run.latencies) out.latencies.push(ms);
    out.requests += run.requests;
    out.elapsedS += run.elapsedS;
    for (const [kind, count] of Object.entries(run.errors)) out.errors[kind] = (out.errors[kind] ?? 0) + count;
    for (const [kind, sample] of Object.entries(run.samples)) out.samples[kind] ??= sample;
    for (const [name, values] of Object.entries(run.server)) for (const v of values) (out.server[name] ??= []).push(v);
    if (run.serverCpuMs !== undefined) out.serverCpuMs = (out.serverCpuMs ?? 0) + run.serverCpuMs;
  }
  return out;
}

/** One request at a time, `samples` times, with `before(i)` (untimed) ahead of each. */
async function sampled(
  target: Target,
  samples: number,
  before: (i: number) => Promise<void>,
  checkEach?: (reply: Reply) => string | undefined,
  onReply?: (reply: Reply) => void,
): Promise<RunResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const detail: Record<string, string> = {};
  let busyMs = 0;
  for (let i = 0; i < samples; i++) {
    await before(i);
    const urlPath = target.path(i);
    const headers = await target.headers(urlPath, target.body);
    const t0 = performance.now();
    let kind: string | undefined;
    let text = "";
    try {
      const reply = await send(agent, target.port, urlPath, headers, target.body);
      text = reply.body;
      onReply?.(reply);
      if (reply.status === 429) kind = "429";
      else if (reply.status !== target.okStatus) kind = `http ${reply.status}`;
      else kind = target.check?.(reply) ?? checkEach?.(reply);
    } catch (err) {
      kind = "network";
      text = err instanceof Error ? err.message : String(err);
    }
    const ms = performance.now() - t0;
    busyMs += ms;
    if (kind) {
      errors[kind] = (errors[kind] ?? 0) + 1;
      detail[kind] ??= text.slice(0, 300);
    } else latencies.push(ms);
  }
  agent.destroy();
  return { latencies, requests: samples, errors, samples: detail, server: {}, elapsedS: busyMs / 1000 };
}

// ---------------------------------------------------------------------------
// Statistics and the table

interface Row {
  key: string;
  label: string;
  concurrency: number;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  /** Successful replies per second of the measured window (for sampled rows: 1 / mean latency). */
  rps: number;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: Record<string, string>;
  /** p50 of each Server-Timing metric the target sent (baseline diagnostic routes; cellfn's lease source). */
  serverP50: Record<string, number>;
  /** How many measured replies carried each Server-Timing metric (cellfn: lease-held / lease-partition). */
  serverCounts: Record<string, number>;
  /** Server CPU (both wrangler dev + workerd) per successful request, ms; robust to other load on the machine. */
  cpuMsPerRequest: number;
  note?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function toRow(key: string, label: string, concurrency: number, run: RunResult, note?: string): Row {
  const sorted = [...run.latencies].sort((x, y) => x - y);
  const errors = Object.values(run.errors).reduce((n, c) => n + c, 0);
  const mean = sorted.length ? sorted.reduce((n, v) => n + v, 0) / sorted.length : Number.NaN;
  return {
    key,
    label,
    concurrency,
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean,
    max: sorted.at(-1) ?? Number.NaN,
    rps: sorted.length / run.elapsedS,
    errors,
    errorKinds: run.errors,
    errorSamples: run.samples,
    cpuMsPerRequest: run.serverCpuMs !== undefined && sorted.length ? run.serverCpuMs / sorted.length : Number.NaN,
    serverP50: Object.fromEntries(Object.entries(run.server).map(([name, values]) => [name, percentile([...values].sort((x, y) => x - y), 50)])),
    serverCounts: Object.fromEntries(Object.entries(run.server).map(([name, values]) => [name, values.length])),
    ...(note ? { note } : {}),
  };
}

const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "-");

function table(rows: Row[]): string {
  const withServer = rows.some((r) => Object.keys(r.serverP50).length > 0);
  const head = ["case", "conc", "n", "p50 ms", "p99 ms", "req/s", "CPU ms/req", ...(withServer ? ["server p50 ms"] : []), "errors"];
  const body = rows.map((r) => [
    r.label,
    String(r.concurrency),
    String(r.samples),
    f2(r.p50),
    f2(r.p99),
    f0(r.rps),
    f2(r.cpuMsPerRequest),
    ...(withServer ? [Object.entries(r.serverP50).map(([name, ms]) => `${name} ${f2(ms)}`).join(", ") || "-"] : []),
    r.errors === 0 ? "0" : `${r.errors} (${Object.entries(r.errorKinds).map(([k, v]) => `${k}: ${v}`).join(", ")})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((line) => line[i]!.length)));
  const left = (i: number) => i === 0 || i === head.length - 1 || head[i] === "server p50 ms";
  const fmt = (cells: string[]) => cells.map((c, i) => (left(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(fmt)].join("\n");
}

// ---------------------------------------------------------------------------
// CPU accounting: this machine is shared, so measure how much CPU other
// processes took while we measured (Linux /proc; jiffies).

interface CpuSample {
  /** Busy jiffies of the whole machine (all CPUs). */
  total: number;
  /** Busy jiffies of this process and its descendants (wrangler, workerd, esbuild). */
  ours: number;
  /** Busy jiffies of the descendants only: the two `wrangler dev` and their workerd (the servers). */
  servers: number;
  at: number;
}

function cpuSample(): CpuSample | undefined {
  try {
    const { total, own, descendants } = procTable();
    const servers = descendants.reduce((n, d) => n + d.used, 0);
    return { total, ours: servers + own, servers, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** Share of the machine's CPU capacity (0..1) others used between two samples, and ours. */
function cpuShares(from: CpuSample | undefined, to: CpuSample | undefined): { others: number; ours: number } | undefined {
  if (!from || !to) return undefined;
  const capacity = ((to.at - from.at) / 1000) * 100 * os.cpus().length; // USER_HZ = 100
  if (capacity <= 0) return undefined;
  const total = to.total - from.total;
  const ours = to.ours - from.ours;
  return { others: Math.max(0, total - ours) / capacity, ours: ours / capacity };
}

// ---------------------------------------------------------------------------
// cellfn setup

function lambdaHeaders(creds: TenantCredentials, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${creds.token}`, "content-type": "application/json", ...extra };
}

async function lambdaCall(platform: Platform, creds: TenantCredentials, method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${platform.url}${urlPath}`, {
    method,
    headers: lambdaHeaders(creds),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}

/** `source`: index.mjs's text, or the zip's files. */
async function createFunction(platform: Platform, creds: TenantCredentials, name: string, source: string | Record<string, string> = HANDLER_SOURCE): Promise<void> {
  const res = await lambdaCall(platform, creds, "POST", "/2015-03-31/functions", {
    FunctionName: name,
    Runtime: "nodejs22.x",
    Role: `arn:aws:iam::${creds.accountId}:role/bench`,
    Handler: "index.handler",
    Code: { ZipFile: makeZipBase64(typeof source === "string" ? { "index.mjs": source } : source) },
  });
  if (res.status !== 201) throw new Error(`CreateFunction ${name}: HTTP ${res.status}: ${res.text}`);
  await waitUntilActive(platform, creds, name, 30_000);
}

/** Gives `name` a NONE function URL and the public statement it needs; returns the URL's Host. */
async function createFunctionUrl(platform: Platform, creds: TenantCredentials, name: string): Promise<string> {
  const created = await lambdaCall(platform, creds, "POST", `/2021-10-31/functions/${name}/url`, { AuthType: "NONE" });
  if (created.status !== 201) throw new Error(`CreateFunctionUrlConfig ${name}: HTTP ${created.status}: ${created.text}`);
  const grant = await lambdaCall(platform, creds, "POST", `/2015-03-31/functions/${name}/policy`, {
    StatementId: "bench-url",
    Action: "lambda:InvokeFunctionUrl",
    Principal: "*",
    FunctionUrlAuthType: "NONE",
  });
  if (grant.status !== 201) throw new Error(`AddPermission ${name}: HTTP ${grant.status}: ${grant.text}`);
  return new URL((JSON.parse(created.text) as { FunctionUrl: string }).FunctionUrl).host;
}

/** A function URL reply: the handler's object as JSON, its echo the payload 2.0 event of the request. */
const urlCheck = (reply: Reply): string | undefined => {
  try {
    const body = JSON.parse(reply.body) as { ok?: boolean; echo?: { version?: string } };
    return body.ok === true && body.echo?.version === "2.0" ? undefined : "wrong body";
  } catch {
    return "not JSON";
  }
};

const echoCheck = (reply: Reply): string | undefined => {
  if (reply.headers["x-amz-function-error"]) return "function error";
  return reply.body.startsWith('{"ok":true,') ? undefined : "unexpected body";
};

const invokePath = (name: string) => `/2015-03-31/functions/${name}/invocations`;

/** The REPORT line's fields from an X-Amz-Log-Result (base64 Tail). */
function reportOf(reply: Reply): { initMs?: number; durationMs?: number } {
  const header = reply.headers["x-amz-log-result"];
  if (typeof header !== "string") return {};
  const text = Buffer.from(header, "base64").toString("utf8");
  const init = /Init Duration: ([\d.]+) ms/.exec(text);
  const duration = /\tDuration: ([\d.]+) ms/.exec(text);
  return {
    ...(init ? { initMs: Number(init[1]) } : {}),
    ...(duration ? { durationMs: Number(duration[1]) } : {}),
  };
}

/**
 * The switch behind (c-nomet) works: after the rounds, CloudWatch's
 * GetMetricStatistics counts the invocations of (c)'s function and has no
 * datapoint for (c-nomet)'s. Waits out the recorder's 200 ms batch first.
 */
async function metricsSwitchCheck(platform: Platform, creds: TenantCredentials): Promise<{ recorded: number; notRecorded: number; pass: boolean; line: string }> {
  await sleep(1000);
  const invocations = async (name: string): Promise<number> => {
    const now = Math.floor(Date.now() / 1000);
    const res = await fetch(`${platform.url}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/x-amz-json-1.0", "x-amz-target": "GraniteServiceVersion20100801.GetMetricStatistics" },
      body: JSON.stringify({
        Namespace: "AWS/Lambda",
        MetricName: "Invocations",
        Dimensions: [{ Name: "FunctionName", Value: name }],
        StartTime: now - 3600,
        EndTime: now + 60,
        Period: 3600,
        Statistics: ["Sum"],
      }),
    });
    if (res.status !== 200) throw new Error(`GetMetricStatistics ${name}: HTTP ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { Datapoints?: Array<{ Sum?: number }> };
    return (body.Datapoints ?? []).reduce((n, d) => n + (d.Sum ?? 0), 0);
  };
  const recorded = await invocations(FUNCTION_NAME);
  const notRecorded = await invocations(NOMET_FUNCTION_NAME);
  const pass = recorded > 0 && notRecorded === 0;
  return {
    recorded,
    notRecorded,
    pass,
    line: `metrics switch: Invocations recorded for ${FUNCTION_NAME} ${recorded}, for ${NOMET_FUNCTION_NAME} ${notRecorded} (expected > 0 and 0: ${pass ? "PASS" : "MISS"})`,
  };
}

/** Mean ms of what src/invoke/run.ts does per invocation for the egress token, run in Node. */
async function timeEgressToken(): Promise<number> {
  const { deriveEgressSecret, signInvocationToken } = await import("../src/runtime/lineage");
  const lineage = { requestId: crypto.randomUUID(), functionArn: "arn:aws:lambda:us-east-1:000000000000:function:bench-echo", counts: { "0badc0de": 1 } };
  const once = async () => signInvocationToken(await deriveEgressSecret("bench-master-secret"), lineage);
  for (let i = 0; i < 200; i++) await once();
  const n = 2000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  return (performance.now() - t0) / n;
}

/** Per cellfn row: leases held here vs trips to the partition (Server-Timing of the measured replies). */
function leaseSourceLines(rows: Row[]): string[] {
  return rows.flatMap((r) => {
    const held = r.serverCounts["lease-held"] ?? 0;
    const trips = r.serverCounts["lease-partition"] ?? 0;
    if (held + trips === 0) return [];
    return [
      `lease source ${r.label} @${r.concurrency}: held here ${held}, partition trips ${trips} (one per ${trips ? f0((held + trips) / trips) : "-"} invokes; ` +
        `trip p50 ${f2(r.serverP50["lease-partition"] ?? Number.NaN)} ms)`,
    ];
  });
}

// ---------------------------------------------------------------------------
// Main

/** The provisioned rows (pc-*) and their target check. */
function provisionedRows(result: ProvisionedBenchResult): { rows: Row[]; check: Record<string, number | boolean> } {
  const asRun = (latencies: number[]): RunResult => ({
    latencies,
    requests: latencies.length,
    errors: {},
    elapsedS: latencies.reduce((n, v) => n + v, 0) / 1000,
    samples: {},
    server: {},
  });
  const idle = `first request after ${PC_SETTINGS.idleS} s idle`;
  const rows = [
    toRow("pc-first", `(pc) provisioned: ${idle}`, 1, asRun(result.provisionedFirst), `${result.provisionedColdFirsts} cold (Init Duration)`),
    toRow("pc-warm", "(pc) provisioned: warm", 1, asRun(result.provisionedWarm)),
    toRow("od-first", `(pc) on-demand: ${idle}`, 1, asRun(result.onDemandFirst), `${result.onDemandColdFirsts} cold (Init Duration)`),
    toRow("od-warm", "(pc) on-demand: warm", 1, asRun(result.onDemandWarm)),
  ];
  const [first, warm] = rows;
  const ratio = (first?.p99 ?? Number.NaN) / (warm?.p99 ?? Number.NaN);
  return { rows, check: { afterIdleP99OverWarmP99: ratio, target: TARGET_PC_AFTER_IDLE_RATIO, pass: ratio <= TARGET_PC_AFTER_IDLE_RATIO } };
}

function provisionedLine(check: Record<string, number | boolean>): string {
  const ratio = Number(check.afterIdleP99OverWarmP99);
  return `provisioned vs on-demand: provisioned p99 after ${PC_SETTINGS.idleS} s idle / its warm p99 = ${f2(ratio)} (target ≤ ${TARGET_PC_AFTER_IDLE_RATIO}): ${check.pass ? "PASS" : "MISS"}`;
}

/** BENCH_ONLY=provisioned: cellfn alone, the provisioned rows only. */
async function provisionedOnly(): Promise<void> {
  const platform = await startPlatform({ verbose: VERBOSE });
  try {
    const creds = await createTenantWithKey(platform, "bench-pc");
    const { rows, check } = provisionedRows(await provisionedVsOnDemand(platform, creds, { ...PC_SETTINGS, log }));
    process.stdout.write(`\n${table(rows)}\n${rows.filter((r) => r.note).map((r) => `note: ${r.label}: ${r.note}`).join("\n")}\n${provisionedLine(check)}\n`);
    const out = path.join(ROOT, "bench", "results", "invoke-provisioned-latest.json");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), settings: PC_SETTINGS, rows, check }, null, 2)}\n`);
    log(`results written to ${path.relative(ROOT, out)}`);
  } finally {
    await platform.stop();
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === "provisioned") return provisionedOnly();
  if (process.env.BENCH_ONLY === "cold") {
    process.on("exit", killBaselineNow);
    return coldOnly({
      startBaseline, createFunction, lambdaCall, lambdaHeaders, sampled, merge, toRow, table, reportOf, echoCheck, invokePath, log,
      names: { warm: FUNCTION_NAME, cold: COLD_FUNCTION_NAME, sdk: COLD_SDK_FUNCTION_NAME, sdkSource: SDK_HANDLER_SOURCE, event: EVENT },
      verbose: VERBOSE,
    });
  }
  const begun = Date.now();
  let platform: Platform | undefined;
  let baseline: Baseline | undefined;
  process.on("exit", killBaselineNow);
  const onSignal = (signal: NodeJS.Signals) => {
    killBaselineNow();
    log(`${signal}: stopping`);
    process.exit(130); // the harness's exit hook takes cellfn's wrangler down
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    log(`starting cellfn and the baseline Worker (${os.cpus().length} CPUs, node ${process.version})`);
    const bootStarted = Date.now();
    const [p, b] = await Promise.allSettled([startPlatform({ verbose: VERBOSE, vars: { METRICS_RECORDING: `off:${NOMET_PREFIX}` } }), startBaseline(VERBOSE)]);
    if (p.status === "fulfilled") platform = p.value;
    if (b.status === "fulfilled") baseline = b.value;
    if (p.status === "rejected") throw p.reason;
    if (b.status === "rejected") throw b.reason;
    const cellfn = platform!;
    const base = baseline!;
    log(`cellfn at ${cellfn.url}, baseline at ${base.url} (${((Date.now() - bootStarted) / 1000).toFixed(1)} s)`);

    const creds = await createTenantWithKey(cellfn, "bench");
    await createFunction(cellfn, creds, FUNCTION_NAME);
    await createFunction(cellfn, creds, COLD_FUNCTION_NAME);
    await createFunction(cellfn, creds, LOGGING_FUNCTION_NAME, LOGGING_HANDLER_SOURCE);
    await createFunction(cellfn, creds, NOMET_FUNCTION_NAME);
    await createFunction(cellfn, creds, COLD_SDK_FUNCTION_NAME, SDK_HANDLER_SOURCE);
    const urlHost = await createFunctionUrl(cellfn, creds, FUNCTION_NAME);
    const aws = new AwsClient({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, service: "lambda", region: "us-east-1" });

    const targets = {
      plain: { port: base.port, path: () => "/plain", headers: () => ({ "content-type": "application/json" }), body: EVENT, okStatus: 200, check: echoCheck },
      loader: { port: base.port, path: () => "/loader", headers: () => ({ "content-type": "application/json" }), body: EVENT, okStatus: 200, check: echoCheck },
      executor: {
        port: base.port,
        path: (w: number) => `/executor?slot=${w}`,
        headers: () => ({ "content-type": "application/json" }),
        body: EVENT,
        okStatus: 200,
        check: echoCheck,
      },
      bearer: { port: cellfn.port, path: () => invokePath(FUNCTION_NAME), headers: () => lambdaHeaders(creds), body: EVENT, okStatus: 200, check: echoCheck },
      url: { port: cellfn.port, path: () => "/", headers: () => ({ host: urlHost, "content-type": "application/json" }), body: EVENT, okStatus: 200, check: urlCheck },
      logging: { port: cellfn.port, path: () => invokePath(LOGGING_FUNCTION_NAME), headers: () => lambdaHeaders(creds), body: EVENT, okStatus: 200, check: echoCheck },
      nomet: { port: cellfn.port, path: () => invokePath(NOMET_FUNCTION_NAME), headers: () => lambdaHeaders(creds), body: EVENT, okStatus: 200, check: echoCheck },
      sigv4: {
        port: cellfn.port,
        path: () => invokePath(FUNCTION_NAME),
        headers: async (urlPath: string, body: string) => {
          const signed = await aws.sign(`${cellfn.url}${urlPath}`, { method: "POST", headers: { "content-type": "application/json" }, body });
          return Object.fromEntries(signed.headers);
        },
        body: EVENT,
        okStatus: 200,
        check: echoCheck,
      },
      quota: { port: base.port, path: () => "/quota", headers: () => ({ "content-type": "application/json" }), body: "{}", okStatus: 200 },
      lease: { port: base.port, path: () => "/lease", headers: () => ({ "content-type": "application/json" }), body: "{}", okStatus: 200 },
      doNoop: { port: base.port, path: () => "/do-noop", headers: () => ({ "content-type": "application/json" }), body: "{}", okStatus: 200 },
      doWrite: { port: base.port, path: () => "/do-write", headers: () => ({ "content-type": "application/json" }), body: "{}", okStatus: 200 },
      dryrun: {
        port: cellfn.port,
        path: () => invokePath(FUNCTION_NAME),
        headers: () => lambdaHeaders(creds, { "x-amz-invocation-type": "DryRun" }),
        body: EVENT,
        okStatus: 204,
      },
    } satisfies Record<string, Target>;

    // Smoke each target once (clear failure before any load), then warm cellfn.
    for (const [name, target] of Object.entries(targets) as [string, Target][]) {
      const agent = new http.Agent({ keepAlive: false });
      const urlPath = target.path(0);
      const reply = await send(agent, target.port, urlPath, await target.headers(urlPath, target.body), target.body);
      agent.destroy();
      const problem = reply.status !== target.okStatus ? `HTTP ${reply.status}` : target.check?.(reply);
      if (problem) throw new Error(`smoke test of ${name} failed (${problem}): ${reply.body.slice(0, 500)}`);
    }
    for (let i = 0; i < 20; i++) {
      for (const name of [FUNCTION_NAME, LOGGING_FUNCTION_NAME, NOMET_FUNCTION_NAME]) {
        const res = await lambdaCall(cellfn, creds, "POST", invokePath(name), JSON.parse(EVENT));
        if (res.status !== 200) throw new Error(`warm-up invoke: HTTP ${res.status}: ${res.text}`);
      }
    }
    log(`tenant ${creds.tenantId}, functions ${FUNCTION_NAME} and ${COLD_FUNCTION_NAME} ready; handler: ${HANDLER_SOURCE.trim()}`);

    const rows: Row[] = [];
    const loadAvg: Record<string, number[]> = { start: os.loadavg() };
    const cpuPhases: Array<{ phase: string; others: number; ours: number }> = [];
    /** Every measured slice, by `<key>@<concurrency>`, in round order (for the per-round cost figures). */
    const slices = new Map<string, RunResult[]>();
    /**
     * Each case warms up alone, then the cases take turns in ROUNDS slices
     * (order rotated every round), so drifting background load on this
     * shared machine hits every case alike instead of whichever ran last.
     */
    type Case = { key: string; label: string; target: Target; warmupS: number; durationS: number };
    const compare = async (cases: Case[], concurrency: number) => {
      const runs = new Map<string, RunResult[]>();
      for (const { label, target, warmupS } of cases) {
        log(`${label} @${concurrency}: ${warmupS} s warm-up`);
        await closedLoop(target, concurrency, warmupS, 0);
        await sleep(200);
      }
      const cpuFrom = cpuSample();
      log(`measuring ${cases.length} cases @${concurrency} in ${ROUNDS} interleaved rounds (${cases.map((x) => `${x.key} ${x.durationS / ROUNDS} s`).join(", ")} per round)`);
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < cases.length; i++) {
          const { key, target, durationS } = cases[(i + round) % cases.length]!;
          const before = cpuSample();
          const run = await closedLoop(target, concurrency, 0, durationS / ROUNDS);
          const after = cpuSample();
          if (before && after) run.serverCpuMs = (after.servers - before.servers) * 10; // jiffies: USER_HZ = 100
          runs.set(key, [...(runs.get(key) ?? []), run]);
          await sleep(100); // let cellfn's lease releases (waitUntil) drain between slices
        }
      }
      const cpu = cpuShares(cpuFrom, cpuSample());
      if (cpu) cpuPhases.push({ phase: `@${concurrency}`, ...cpu });
      for (const { key, label } of cases) {
        slices.set(`${key}@${concurrency}`, runs.get(key) ?? []);
        const row = toRow(key, label, concurrency, merge(runs.get(key) ?? []));
        rows.push(row);
        if (VERBOSE) log(JSON.stringify(row));
      }
    };

    // The cases of one concurrency take turns in the same rounds, so the
    // differences used below compare like with like.
    const full = (key: string, label: string, target: Target): Case => ({ key, label, target, warmupS: WARMUP_S, durationS: DURATION_S });
    const extra = (key: string, label: string, target: Target): Case => ({ key, label, target, warmupS: EXTRA_WARMUP_S, durationS: EXTRA_DURATION_S });
    const OBS_KEYS = ["c", "c-log", "c-nomet"];
    const pairedChecks: PairedCheck[] = [];
    const pairedMetricsChecks: PairedMetricsCheck[] = [];
    for (const c of CONCURRENCIES) {
      const cases: Case[] = [
          full("a", "(a) plain Worker", targets.plain),
          full("b", "(b) Worker Loader, no platform", targets.loader),
          full("c", "(c) cellfn warm invoke, bearer", targets.bearer),
          full("f", "(f) cellfn warm function URL, NONE", targets.url),
          extra("c-sigv4", "(c') cellfn warm invoke, SigV4", targets.sigv4),
          full("c-log", "(c-log) cellfn warm invoke, handler logs a line", targets.logging),
          full("c-nomet", "(c-nomet) cellfn warm invoke, metrics not recorded", targets.nomet),
          extra("dryrun", "(x) cellfn DryRun: auth+lookup, 204", targets.dryrun),
          extra("executor", "(y) cellfn executor+shim only", targets.executor),
          extra("lease", "(u) cellfn lease DOs only", targets.lease),
          extra("quota", "(q) TenantQuota take only", targets.quota),
          ...(c === 1
            ? [extra("do-noop", "(v) DO RPC, no storage", targets.doNoop), extra("do-write", "(w) DO RPC + 1 SQLite write", targets.doWrite)]
            : []),
      ];
      const keys = OBS_ONLY ? OBS_KEYS : CASE_KEYS;
      await compare(keys ? cases.filter((x) => keys.includes(x.key)) : cases, c);
      if (!CASE_KEYS || (CASE_KEYS.includes("c") && CASE_KEYS.includes("c-log"))) {
        log(`(c) and (c-log) paired @${c}: taken in turn by the same workers for ${PAIRED_S} s`);
        const [plain, logged] = await mixedLoop([targets.bearer, targets.logging], c, 1, PAIRED_S);
        pairedChecks.push(pairedLoggingCost(c, plain!.latencies, logged!.latencies));
      }
      if (!CASE_KEYS || (CASE_KEYS.includes("c") && CASE_KEYS.includes("c-nomet"))) {
        log(`(c) and (c-nomet) paired @${c}: taken in turn by the same workers for ${PAIRED_S} s`);
        const [recorded, notRecorded] = await mixedLoop([targets.bearer, targets.nomet], c, 1, PAIRED_S);
        pairedMetricsChecks.push(pairedMetricsCost(c, recorded!.latencies, notRecorded!.latencies));
      }
    }
    const metricsSwitch = !CASE_KEYS || CASE_KEYS.includes("c-nomet") ? await metricsSwitchCheck(cellfn, creds) : undefined;

    const top = Math.max(...CONCURRENCIES);
    const coldInit: number[] = [];
    let provisionedCheck: Record<string, number | boolean> | undefined;
    let tokenMs = Number.NaN;
    // BENCH_ONLY=obs stops here: the rows below are not issue 13's.
    if (!OBS_ONLY && !CASE_KEYS) {
      // Does the warm run at the highest concurrency start new environments?
      // Same requests as (c) with X-Amz-Log-Type: Tail; count REPORT lines with Init Duration.
      let tailReplies = 0;
      let tailCold = 0;
      log(`(c) with Tail logs @${top} for ${EXTRA_DURATION_S} s: counting cold starts during warm load`);
      const tailRun = await closedLoop(
        {
          ...targets.bearer,
          headers: () => lambdaHeaders(creds, { "x-amz-log-type": "Tail" }),
          check: (reply) => {
            tailReplies++;
            if (reportOf(reply).initMs !== undefined) tailCold++;
            return echoCheck(reply);
          },
        },
        top,
        0,
        EXTRA_DURATION_S,
      );
      rows.push(toRow("c-tail", "(c\") cellfn warm invoke, bearer + Tail log", top, tailRun, `${tailCold} of ${tailReplies} replies were cold starts`));
      await sleep(300);

      // (d) cold: a new version key before each invoke, so a new environment id and a new isolate.
      const coldRun = (name: string) =>
        sampled(
          {
            port: cellfn.port,
            path: () => invokePath(name),
            headers: () => lambdaHeaders(creds, { "x-amz-log-type": "Tail" }),
            body: EVENT,
            okStatus: 200,
            check: echoCheck,
          },
          COLD_SAMPLES,
          async (i) => {
            const res = await lambdaCall(cellfn, creds, "PUT", `/2015-03-31/functions/${name}/configuration`, {
              Environment: { Variables: { BENCH_COLD_SAMPLE: `${Date.now()}-${i}` } },
            });
            if (res.status !== 200) throw new Error(`UpdateFunctionConfiguration: HTTP ${res.status}: ${res.text}`);
          },
          (reply) => (reportOf(reply).initMs === undefined ? "not cold (no Init Duration)" : undefined),
          (reply) => {
            const { initMs } = reportOf(reply);
            if (initMs !== undefined && name === COLD_FUNCTION_NAME) coldInit.push(initMs);
          },
        );
      log(`(d) cold invoke: ${COLD_SAMPLES} samples at concurrency 1`);
      rows.push(toRow("d", "(d) cellfn cold invoke, bearer", 1, await coldRun(COLD_FUNCTION_NAME), "sequential samples; req/s = 1 / mean latency"));
      log(`(d-sdk) cold invoke importing @aws-sdk/client-lambda: ${COLD_SAMPLES} samples at concurrency 1`);
      rows.push(toRow("d-sdk", "(d-sdk) cellfn cold invoke, handler imports @aws-sdk/client-lambda", 1, await coldRun(COLD_SDK_FUNCTION_NAME), "sequential samples; target ≤ (d) + 30 ms p50"));

      log(`(z) cold Worker Loader load, no platform: ${COLD_SAMPLES} samples at concurrency 1`);
      const coldLoaderTag = Date.now().toString(36);
      const coldLoader = await sampled(
        { ...targets.loader, path: (i) => `/loader?id=bench-cold-${coldLoaderTag}-${i}` },
        COLD_SAMPLES,
        async () => {},
      );
      rows.push(toRow("z", "(z) cold Worker Loader load, no platform", 1, coldLoader, "sequential samples; req/s = 1 / mean latency"));

      if (PC_ENABLED) {
        log(`(pc) provisioned vs on-demand after ${PC_SETTINGS.idleS} s idle (BENCH_PC=0 skips it)`);
        const pc = provisionedRows(await provisionedVsOnDemand(cellfn, creds, { ...PC_SETTINGS, log }));
        rows.push(...pc.rows);
        provisionedCheck = pc.check;
      }

      // The egress token is pure CPU (derive + sign, two HMAC-SHA256); time it here.
      tokenMs = await timeEgressToken();
    }

    // ---- Report
    const find = (key: string, c: number) => rows.find((r) => r.key === key && r.concurrency === c);
    const lines: string[] = [];
    lines.push("");
    lines.push(`cellfn invoke benchmark: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, loopback, closed loop`);
    lines.push(
      `warm rows: ${WARMUP_S} s warm-up + ${DURATION_S} s measured (breakdown rows: ${EXTRA_WARMUP_S} s + ${EXTRA_DURATION_S} s), ${ROUNDS} interleaved rounds; ` +
        `cold rows: ${COLD_SAMPLES} sequential samples at concurrency 1 only`,
    );
    lines.push("");
    const isCase = (r: Row) => ["a", "b", "c", "f", "d"].includes(r.key);
    const order = (key: string) => ["a", "b", "c", "f", "d"].indexOf(key);
    lines.push(table(rows.filter(isCase).sort((p, q) => p.concurrency - q.concurrency || order(p.key) - order(q.key))));
    lines.push("");
    lines.push("breakdown rows (same rounds as the cases above at their concurrency; c\" and z ran after):");
    lines.push(table(rows.filter((r) => !isCase(r))));
    lines.push("");

    const checks: Array<{ concurrency: number; p50DeltaMs: number; throughputRatioCB: number; throughputRatioCA: number; p50RatioCB: number; p50RatioCA: number; p50Pass: boolean; throughputPass: boolean }> = [];
    for (const c of CONCURRENCIES) {
      const a = find("a", c);
      const b = find("b", c);
      const cc = find("c", c);
      if (!b || !cc) continue;
      const check = {
        concurrency: c,
        p50DeltaMs: cc.p50 - b.p50,
        throughputRatioCB: cc.rps / b.rps,
        throughputRatioCA: cc.rps / (a?.rps ?? Number.NaN),
        p50RatioCB: cc.p50 / b.p50,
        p50RatioCA: cc.p50 / (a?.p50 ?? Number.NaN),
        p50Pass: cc.p50 - b.p50 <= TARGET_P50_DELTA_MS,
        throughputPass: cc.rps / b.rps >= TARGET_THROUGHPUT_RATIO,
      };
      checks.push(check);
      lines.push(
        `concurrency ${String(c).padStart(2)}: c/b p50 delta ${f2(check.p50DeltaMs)} ms (target <= ${TARGET_P50_DELTA_MS} ms: ${check.p50Pass ? "PASS" : "MISS"}); ` +
          `c/b throughput ${check.throughputRatioCB.toFixed(3)} (target >= ${TARGET_THROUGHPUT_RATIO}: ${check.throughputPass ? "PASS" : "MISS"}); ` +
          `c/a throughput ${check.throughputRatioCA.toFixed(3)}; c/b p50 ${check.p50RatioCB.toFixed(2)}x; c/a p50 ${check.p50RatioCA.toFixed(2)}x`,
      );
    }
    if (provisionedCheck) lines.push(provisionedLine(provisionedCheck));
    const urlChecks: Array<{ concurrency: number; p50DeltaMs: number; throughputRatio: number; p50Pass: boolean }> = [];
    for (const c of CONCURRENCIES) {
      const cc = find("c", c);
      const ff = find("f", c);
      if (!cc || !ff) continue;
      const check = { concurrency: c, p50DeltaMs: ff.p50 - cc.p50, throughputRatio: ff.rps / cc.rps, p50Pass: ff.p50 - cc.p50 <= TARGET_URL_P50_DELTA_MS };
      urlChecks.push(check);
      lines.push(
        `concurrency ${String(c).padStart(2)}: function URL (f) vs Invoke (c): p50 delta ${f2(check.p50DeltaMs)} ms (target <= ${TARGET_URL_P50_DELTA_MS} ms: ${check.p50Pass ? "PASS" : "MISS"}); ` +
          `throughput f/c ${check.throughputRatio.toFixed(3)}`,
      );
    }
    // What logging adds: the same warm invoke of a handler that writes one line (START/END/REPORT are shipped in both).
    // Issue 13's costs, from the same rounds: metrics (c)/(c-nomet) and logging (c-log) - (c).
    const costOf = (pair: [string, string], check: (c: number, x: RunResult[], y: RunResult[]) => CostCheck): CostCheck[] =>
      CONCURRENCIES.flatMap((c) => {
        const x = slices.get(`${pair[0]}@${c}`);
        const y = slices.get(`${pair[1]}@${c}`);
        return x && y ? [check(c, x, y)] : [];
      });
    const metricsChecks = costOf(["c", "c-nomet"], metricsCost);
    const loggingChecks = costOf(["c", "c-log"], loggingCost);
    lines.push(...costLines(metricsChecks, loggingChecks));
    lines.push(...pairedLines(pairedChecks));
    lines.push(...pairedMetricsLines(pairedMetricsChecks));
    if (metricsSwitch) lines.push(metricsSwitch.line);
    const obsPass = (pairedMetricsChecks.length ? pairedMetricsChecks : metricsChecks).every((m) => m.pass) && pairedChecks.every((l) => l.pass) && metricsSwitch?.pass !== false;
    lines.push(...leaseSourceLines(rows));
    const allPass = (OBS_ONLY || checks.length > 0) && checks.every((c) => c.p50Pass && c.throughputPass) && urlChecks.every((c) => c.p50Pass) && obsPass;
    lines.push(`targets: ${allPass ? "PASS" : "MISS"}`);

    // Where the time goes (p50 differences; an additive approximation, and
    // p50s of separate runs on a shared machine: read them to ±1-2 ms).
    const p50 = (key: string, c: number) => find(key, c)?.p50 ?? Number.NaN;
    const rps = (key: string, c: number) => find(key, c)?.rps ?? Number.NaN;
    const attribution: Record<string, number> = {};
    const cpuAttribution: Record<string, number> = {};
    if (!OBS_ONLY && CONCURRENCIES.includes(1)) {
      const a = p50("a", 1), b = p50("b", 1), y = p50("executor", 1), x = p50("dryrun", 1), u = p50("lease", 1), c = p50("c", 1);
      Object.assign(attribution, {
        httpAndWranglerDevMs: a,
        loaderRpcMs: b - a,
        executorAndShimOverLoaderMs: y - b,
        authBodyLookupMs: x - a,
        leaseMs: u - a,
        unexplainedMs: c - a - (b - a) - (y - b) - (x - a) - (u - a),
        sigv4OverBearerMs: p50("c-sigv4", 1) - c,
        doRpcMs: p50("do-noop", 1) - a,
        doRpcWithCommitMs: p50("do-write", 1) - a,
        egressTokenMs: tokenMs,
      });
      const line = (what: string, how: string, ms: number) => lines.push(`  ${what.padEnd(46)} ${how.padEnd(22)} ${f2(ms).padStart(8)} ms`);
      lines.push("");
      lines.push(`where (c)'s p50 of ${f2(c)} ms goes at concurrency 1 (differences of p50s, approximate):`);
      line("HTTP + wrangler dev + handler inline", "(a)", a);
      line("Worker Loader RPC, minimal entrypoint", "(b) - (a)", b - a);
      line("cellfn executor + shim (init + invoke RPCs)", "(y) - (b)", y - b);
      line("auth + body checks + function lookup", "(x) - (a)", x - a);
      line("lease: AssignmentPartition + TenantQuota DOs", "(u) - (a)", u - a);
      line("egress token (2 HMACs, timed in Node)", "", tokenMs);
      line("unexplained remainder", "(c) - sum of the above", attribution.unexplainedMs! - tokenMs);
      const sp = (key: string, metric: string) => find(key, 1)?.serverP50[metric] ?? Number.NaN;
      lines.push(
        `  server-side p50 (Server-Timing, baseline Worker; workerd's clock moves in whole ms): Worker Loader RPC ${f2(sp("b", "rpc"))} ms; executor ${f2(sp("executor", "executor"))} ms; ` +
          `lease acquire ${f2(sp("lease", "acquire"))}  ms (it includes a TenantQuota.take; that alone: ${f2(sp("quota", "take"))} ms); DO RPC ${f2(sp("do-noop", "rpc"))} ms; DO RPC + commit ${f2(sp("do-write", "rpc"))} ms`,
      );
      lines.push(`  for scale: one DO RPC (v) - (a) ${f2(attribution.doRpcMs!)} ms; one DO RPC whose reply waits for a SQLite commit (w) - (a) ${f2(attribution.doRpcWithCommitMs!)} ms`);
      line("SigV4 instead of bearer (extra)", "(c') - (c)", attribution.sigv4OverBearerMs!);
      if (coldInit.length) {
        const sortedInit = [...coldInit].sort((p, q) => p - q);
        lines.push(
          `  cold: (d) - (c) p50 ${f2(p50("d", 1) - c)} ms; Init Duration in REPORT p50 ${f2(percentile(sortedInit, 50))} ms; ` +
            `a new Worker Loader isolate without the platform (z) - (b) p50 ${f2(p50("z", 1) - b)} ms`,
        );
      }
    }
    if (!OBS_ONLY && top > 1) {
      // CPU per request under load (at concurrency 1 it is inflated by per-request wake-ups
      // in every process and jiffy rounding; at the top concurrency it is steadier).
      const cpu = (key: string) => find(key, top)?.cpuMsPerRequest ?? Number.NaN;
      const parts = {
        executor: cpu("executor") - cpu("b"),
        authLookup: cpu("dryrun") - cpu("a"),
        lease: cpu("lease") - cpu("a"),
        quotaHalf: cpu("quota") - cpu("a"),
      };
      const rest = cpu("c") - cpu("b") - parts.executor - parts.authLookup - parts.lease;
      Object.assign(cpuAttribution, { concurrency: top, ...parts, rest, cOverB: cpu("c") - cpu("b") });
      lines.push(
        `server CPU per request at concurrency ${top} (both wrangler dev + workerd): (a) ${f2(cpu("a"))}, (b) ${f2(cpu("b"))}, (c) ${f2(cpu("c"))} ms; ` +
          `(c) - (b) ${f2(cpu("c") - cpu("b"))} ms = lease (u)-(a) ${f2(parts.lease)} [its TenantQuota half alone (q)-(a) ${f2(parts.quotaHalf)}] ` +
          `+ executor (y)-(b) ${f2(parts.executor)} + auth/lookup (x)-(a) ${f2(parts.authLookup)} + rest ${f2(rest)} ms`,
      );
      lines.push(
        `throughput at concurrency ${top} (req/s): (b) ${f0(rps("b", top))}, (y) executor only ${f0(rps("executor", top))}, ` +
          `(x) DryRun ${f0(rps("dryrun", top))}, (u) lease DOs only ${f0(rps("lease", top))}, (c) ${f0(rps("c", top))}`,
      );
    }
    for (const r of rows.filter((row) => row.note)) lines.push(`note: ${r.label} @${r.concurrency}: ${r.note}`);
    loadAvg.end = os.loadavg();
    const fmtLoad = (l: number[] | undefined) => (l ? l.map((v) => v.toFixed(2)).join(" ") : "-");
    lines.push(`load average (1/5/15 min): start ${fmtLoad(loadAvg.start)}, end ${fmtLoad(loadAvg.end)} (${os.cpus().length} CPUs)`);
    if (cpuPhases.length) {
      lines.push(
        "CPU of the machine used while measuring (this benchmark + its wrangler/workerd | other processes): " +
          cpuPhases.map((p) => `${p.phase} ${(p.ours * 100).toFixed(0)}% | ${(p.others * 100).toFixed(0)}%`).join("; "),
      );
      const worst = Math.max(...cpuPhases.map((p) => p.others));
      if (worst > 0.1) {
        lines.push(
          `WARNING: other processes used up to ${(worst * 100).toFixed(0)}% of the machine's CPU during measurement; ` +
            "absolute latencies are inflated (the interleaved rounds keep the ratios fairer).",
        );
      }
    }

    const errorRows = rows.filter((r) => r.errors > 0);
    if (errorRows.length) {
      lines.push("");
      lines.push(`WARNING: ${errorRows.length} row(s) had errors; their numbers only count successful requests:`);
      for (const r of errorRows) {
        for (const [kind, sample] of Object.entries(r.errorSamples)) lines.push(`  ${r.label} @${r.concurrency}: ${kind} x${r.errorKinds[kind]}: ${sample}`);
      }
    } else {
      lines.push("");
      lines.push("no errors (every counted request answered 2xx with the expected body; 429s and non-2xx would be counted as errors)");
    }
    lines.push(`total run time ${((Date.now() - begun) / 1000).toFixed(0)} s`);
    process.stdout.write(`${lines.join("\n")}\n`);

    mkdirSync(path.dirname(RESULTS), { recursive: true });
    const wranglerVersion = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "wrangler", "package.json"), "utf8")).version as string;
    writeFileSync(
      RESULTS,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, wrangler: wranglerVersion, platform: `${os.platform()} ${os.release()}` },
          settings: { durationS: DURATION_S, warmupS: WARMUP_S, extraDurationS: EXTRA_DURATION_S, extraWarmupS: EXTRA_WARMUP_S, coldSamples: COLD_SAMPLES, concurrencies: CONCURRENCIES, event: EVENT, handler: HANDLER_SOURCE.trim() },
          targets: { p50DeltaMs: TARGET_P50_DELTA_MS, throughputRatio: TARGET_THROUGHPUT_RATIO, urlP50DeltaMs: TARGET_URL_P50_DELTA_MS },
          rows,
          coldInitDurationsMs: coldInit,
          checks,
          provisionedCheck,
          urlChecks,
          loggingChecks,
          pairedChecks,
          pairedMetricsChecks,
          metricsChecks,
          metricsSwitch,
          loadAverage: loadAvg,
          cpuPhases,
          attribution,
          cpuAttribution,
          pass: allPass,
          hadErrors: errorRows.length > 0,
        },
        null,
        2,
      )}\n`,
    );
    log(`results written to ${path.relative(ROOT, RESULTS)}`);
    if (errorRows.length) process.exitCode = 1;
  } finally {
    log("shutting down");
    await Promise.allSettled([platform?.stop(), baseline?.stop()]);
  }
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
