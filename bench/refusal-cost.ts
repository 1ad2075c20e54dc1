/**
 * `npm run bench:refusal-cost`: what a request refused at the door costs the
 * user worker's one workerd thread, next to a served warm invoke and to the
 * cheapest answer the Worker gives (`GET /healthz`), and what that cost
 * allows under overload (issue 18).
 *
 * Under `wrangler dev` one thread runs every request, isolate and Durable
 * Object (workerd has one; V8's helper threads only collect and compile).
 * A refusal is answered on that thread, so at k× its capacity the refusals
 * alone take k·r/s of it (r: a refusal's thread time, s: a served invoke's),
 * and what is left for admitted work caps goodput at
 * (1 − k·r/s) / (1 − r/s) of the peak, however well the door chooses.
 *
 * Each round starts cellfn twice (test/e2e/harness.ts, the user worker's own
 * socket): once as is, where BENCH_REFUSAL_CONCURRENCY (16) closed-loop
 * clients invoke a warm echo function, then bench:goodput's CPU-bound one
 * (BENCH_REFUSAL_SPIN iterations), then GET /healthz; once with the
 * test-only fault `door-refuse=1` (src/chaos/faults.ts: the door answers
 * every gated request with its real refusal, 429 TooManyRequestsException),
 * where the same clients send the same invoke. Each measurement runs
 * BENCH_REFUSAL_SECONDS (8) and reads the workerd main thread's CPU from
 * /proc (busy jiffies / answers). BENCH_REFUSAL_ROUNDS (2) rounds; prints
 * every figure and writes bench/results/refusal-cost-latest.json.
 */
import http from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTenantWithKey, ROOT, startPlatform, type Platform, type TenantCredentials } from "../test/e2e/harness";
import { FAULTS_UNLOCK_VALUE } from "../src/chaos/faults";
import { HANDLER_SOURCE, SPIN_DEFAULT, SPIN_HANDLER_SOURCE } from "./handler";
import { deployFunction } from "./lib/lambda";
import { envNumber } from "./lib/settings";
import { threadTimedLoop } from "./lib/thread-time";

const CONCURRENCY = Math.floor(envNumber("BENCH_REFUSAL_CONCURRENCY", 16));
const SECONDS = envNumber("BENCH_REFUSAL_SECONDS", 8);
const ROUNDS = Math.floor(envNumber("BENCH_REFUSAL_ROUNDS", 2));
const SPIN = envNumber("BENCH_REFUSAL_SPIN", SPIN_DEFAULT);
const INVOKE_PATH = "/2015-03-31/functions/echo/invocations";
const SPIN_PATH = "/2015-03-31/functions/spin/invocations";
const OFFERED = [1.5, 2, 3, 4];

interface Measurement {
  /** Answers by status. */
  statuses: Record<number, number>;
  perSecond: number;
  /** How busy the workerd thread was (0..1). */
  busy: number;
  /** Thread time per answer of the expected status, µs. */
  threadUs: number;
}

/** A closed loop of CONCURRENCY clients for SECONDS; the workerd thread's time per answer of `okStatus`. */
async function measure(platform: Platform, method: string, urlPath: string, headers: Record<string, string>, body: string, okStatus: number): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { statuses, seconds, busySeconds } = await threadTimedLoop(agent, CONCURRENCY, SECONDS, { port: platform.port, method, path: () => urlPath, headers, body });
  agent.destroy();
  const busy = busySeconds / seconds;
  const ok = statuses[okStatus] ?? 0;
  const answers = Object.values(statuses).reduce((a, b) => a + b, 0);
  if (ok < answers * 0.99) throw new Error(`${method} ${urlPath}: expected ${okStatus}, got ${JSON.stringify(statuses)}`);
  return { statuses, perSecond: answers / seconds, busy, threadUs: (busy * seconds * 1e6) / ok };
}

const invokeHeaders = (creds: TenantCredentials) => ({ authorization: `Bearer ${creds.token}`, "content-type": "application/json" });

interface Served {
  /** A warm invoke of the benchmarks' echo handler. */
  invoke: Measurement;
  /** A warm invoke of bench:goodput's CPU-bound handler at BENCH_REFUSAL_SPIN. */
  spin: Measurement;
  healthz: Measurement;
}

async function served(): Promise<Served> {
  const platform = await startPlatform({ via: "direct" });
  try {
    const creds = await createTenantWithKey(platform, "served");
    await deployFunction(platform, creds, "echo", HANDLER_SOURCE);
    await deployFunction(platform, creds, "spin", SPIN_HANDLER_SOURCE);
    await measure(platform, "POST", INVOKE_PATH, invokeHeaders(creds), '{"n":1}', 200); // warm-up
    const invoke = await measure(platform, "POST", INVOKE_PATH, invokeHeaders(creds), '{"n":1}', 200);
    const spin = await measure(platform, "POST", SPIN_PATH, invokeHeaders(creds), JSON.stringify({ spin: SPIN }), 200);
    const healthz = await measure(platform, "GET", "/healthz", {}, "", 200);
    return { invoke, spin, healthz };
  } finally {
    await platform.stop();
  }
}

async function refused(): Promise<Measurement> {
  const platform = await startPlatform({ via: "direct", vars: { CHAOS_FAULTS: "door-refuse=1", CHAOS_FAULTS_UNLOCK: FAULTS_UNLOCK_VALUE } });
  try {
    const creds = await createTenantWithKey(platform, "refused");
    await measure(platform, "POST", INVOKE_PATH, invokeHeaders(creds), '{"n":1}', 429); // warm-up
    return await measure(platform, "POST", INVOKE_PATH, invokeHeaders(creds), '{"n":1}', 429);
  } finally {
    await platform.stop();
  }
}

/** At k× capacity with refusals costing `ratio` of a served invoke: the goodput left for admitted work (of the peak) and the refusals' share of the thread. */
function ceilings(ratio: number) {
  // k·C arrive (C = 1/s, the thread's capacity for served invokes); a are admitted: a·s + (k·C − a)·r ≤ 1.
  return OFFERED.map((k) => {
    const ceiling = Math.max(0, (1 - k * ratio) / (1 - ratio));
    return { k, ceiling, refusalShare: (k - ceiling) * ratio };
  });
}

async function main(): Promise<void> {
  const rounds: Array<Served & { refusal: Measurement }> = [];
  const us = (n: number) => n.toFixed(0);
  const load = (m: Measurement) => `${m.perSecond.toFixed(0)}/s, ${(m.busy * 100).toFixed(0)} %`;
  console.log(`workerd thread time per answer (µs; answers/s and how busy the thread was), ${CONCURRENCY} closed-loop clients, ${SECONDS} s each, direct to the user worker's socket`);
  console.log(`| round | refused at the door (r) | GET /healthz | echo invoke (s) | spin ${SPIN} invoke (s) | r/s echo | r/s spin |`);
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (let round = 1; round <= ROUNDS; round++) {
    const result = { ...(await served()), refusal: await refused() };
    rounds.push(result);
    const { refusal, healthz, invoke, spin } = result;
    const cell = (m: Measurement) => `${us(m.threadUs)} (${load(m)})`;
    console.log(`| ${round} | ${cell(refusal)} | ${cell(healthz)} | ${cell(invoke)} | ${cell(spin)} | ${(refusal.threadUs / invoke.threadUs).toFixed(3)} | ${(refusal.threadUs / spin.threadUs).toFixed(3)} |`);
  }
  const mean = (f: (r: (typeof rounds)[number]) => number) => rounds.reduce((n, r) => n + f(r), 0) / rounds.length;
  const echoRatio = mean((r) => r.refusal.threadUs / r.invoke.threadUs);
  const spinRatio = mean((r) => r.refusal.threadUs / r.spin.threadUs);
  const echo = ceilings(echoRatio);
  const spin = ceilings(spinRatio);
  console.log(`\nmean r/s over ${rounds.length} rounds: ${echoRatio.toFixed(3)} (echo), ${spinRatio.toFixed(3)} (spin ${SPIN}, bench:goodput's handler)`);
  console.log("at k× capacity, what the refusals alone take of the thread and the goodput left for admitted work (of the peak), however the door chooses:");
  console.log("| k | echo: refusals' share | echo: goodput ceiling | spin: refusals' share | spin: goodput ceiling |");
  console.log("| --- | --- | --- | --- | --- |");
  const pct = (n: number) => `${(n * 100).toFixed(0)} %`;
  echo.forEach((e, i) => console.log(`| ${e.k} | ${pct(e.refusalShare)} | ${pct(e.ceiling)} | ${pct(spin[i]!.refusalShare)} | ${pct(spin[i]!.ceiling)} |`));
  console.log(`\nload average at the end: ${os.loadavg().map((n) => n.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(
    path.join(ROOT, "bench", "results", "refusal-cost-latest.json"),
    JSON.stringify({ at: new Date().toISOString(), loadAverage: os.loadavg(), settings: { CONCURRENCY, SECONDS, ROUNDS, SPIN }, rounds, echoRatio, spinRatio, ceilings: { echo, spin } }, null, 2),
  );
}

await main();
