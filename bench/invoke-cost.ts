/**
 * `npm run bench:invoke-cost`: what a warm invoke costs the one workerd
 * thread that serves it, next to a bare Worker Loader call (issue 10's
 * baseline), split into the parts that can be measured apart.
 *
 * A closed loop's throughput on a saturated thread is 1 / (thread time per
 * request), so issue 10's target (cellfn ≥ 0.9× the bare loader's
 * throughput at concurrency 16) is a budget: cellfn's warm invoke may cost
 * at most 1/0.9 of a bare loader call's thread time. `bench:invoke` measures
 * the same ratio through wrangler dev's proxy, a second workerd process that
 * both cases share, which hides part of the difference; here both Workers
 * are reached on their own sockets (test/e2e/inner-socket.ts), as the edge
 * reaches a Worker on Cloudflare.
 *
 * Starts cellfn (test/e2e/harness.ts, with METRICS_RECORDING=off:nomet-)
 * and the baseline Worker (bench/baseline/) side by side, then measures in
 * interleaved slices (BENCH_COST_SLICE_S (2) each, BENCH_COST_ROUNDS (12)
 * rounds, the cases in a new random order each round, so that the machine's
 * drift spreads over all of them) with BENCH_COST_CONCURRENCY (16)
 * closed-loop clients:
 *
 *   cellfn   GET /healthz              the app's floor: workerd, the entry, Hono's router
 *   cellfn   DryRun invoke             + auth, the function's lookup, the 204
 *   cellfn   warm invoke               the echo handler, bearer auth
 *   cellfn   warm invoke, no metrics   the same on a function whose metrics are not recorded
 *   baseline GET /healthz              a plain Worker's floor
 *   baseline POST /plain               the handler inline
 *   baseline POST /loader              the bare Worker Loader call (issue 10's (b))
 *   baseline POST /executor            cellfn's runtime (executor + shim) alone, warm
 *
 * The thread time of a slice is the busiest workerd main thread's busy
 * jiffies (/proc; only the measured Worker is loaded). Prints µs per answer
 * for each case (pooled over slices, and the median of slices), the
 * differences that make up a warm invoke, and what 0.9× leaves; writes
 * bench/results/invoke-cost-latest.json.
 */
import http from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTenantWithKey, ROOT, startPlatform, type Platform } from "../test/e2e/harness";
import { findInnerPort } from "../test/e2e/inner-socket";
import { HANDLER_SOURCE } from "./handler";
import { startBaseline, type Baseline } from "./lib/baseline";
import { deployFunction, percentile } from "./lib/lambda";
import { envNumber } from "./lib/settings";
import { threadTimedLoop, type LoopRequest } from "./lib/thread-time";

const CONCURRENCY = Math.floor(envNumber("BENCH_COST_CONCURRENCY", 16));
const SLICE_S = envNumber("BENCH_COST_SLICE_S", 2);
const ROUNDS = Math.floor(envNumber("BENCH_COST_ROUNDS", 12));
const TARGET_RATIO = 0.9;
const NOMET_PREFIX = "nomet-";
const BODY = JSON.stringify({ bench: true, message: "hello", n: 42 });

/** The executor case's `path(worker)` gives each client its own environment. */
interface Case extends LoopRequest {
  key: string;
  label: string;
  ok: number;
}

interface Tally {
  answers: number;
  /** Answers of another status (a failed slice is reported, never hidden). */
  other: number;
  busySeconds: number;
  seconds: number;
  /** µs of thread per answer, each slice. */
  slices: number[];
}

async function slice(agent: http.Agent, c: Case, seconds: number): Promise<{ answers: number; other: number; busySeconds: number; seconds: number }> {
  const loop = await threadTimedLoop(agent, CONCURRENCY, seconds, c);
  const answers = loop.statuses[c.ok] ?? 0;
  const all = Object.values(loop.statuses).reduce((a, b) => a + b, 0);
  return { answers, other: all - answers, busySeconds: loop.busySeconds, seconds: loop.seconds };
}

function cases(platform: Platform, token: string, baselinePort: number): Case[] {
  const invoke = (name: string) => `/2015-03-31/functions/${name}/invocations`;
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const json = { "content-type": "application/json" };
  const at = (port: number, key: string, label: string, method: string, p: string | ((worker: number) => string), headers: Record<string, string>, ok = 200): Case => ({
    key, label, port, method, path: typeof p === "string" ? () => p : p, headers, body: method === "GET" ? "" : BODY, ok,
  });
  return [
    at(platform.port, "healthz", "cellfn GET /healthz", "GET", "/healthz", {}),
    at(platform.port, "dryrun", "cellfn DryRun invoke", "POST", invoke("echo"), { ...auth, "x-amz-invocation-type": "DryRun" }, 204),
    at(platform.port, "invoke", "cellfn warm invoke", "POST", invoke("echo"), auth),
    at(platform.port, "nomet", "cellfn warm invoke, no metrics", "POST", invoke(`${NOMET_PREFIX}echo`), auth),
    at(baselinePort, "b-healthz", "baseline GET /healthz", "GET", "/healthz", {}),
    at(baselinePort, "plain", "baseline handler inline", "POST", "/plain", json),
    at(baselinePort, "loader", "baseline bare Worker Loader call", "POST", "/loader", json),
    at(baselinePort, "executor", "baseline cellfn executor + shim", "POST", (worker) => `/executor?slot=${worker}`, json),
  ];
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function main(): Promise<void> {
  let platform: Platform | undefined;
  let baseline: Baseline | undefined;
  try {
    const [p, b] = await Promise.allSettled([startPlatform({ via: "direct", vars: { METRICS_RECORDING: `off:${NOMET_PREFIX}` } }), startBaseline()]);
    if (p.status === "fulfilled") platform = p.value;
    if (b.status === "fulfilled") baseline = b.value;
    if (p.status === "rejected") throw p.reason;
    if (b.status === "rejected") throw b.reason;
    const baselinePort = await findInnerPort(baseline!.pgid, [baseline!.port], '{"ok":true}');
    const creds = await createTenantWithKey(platform!, "cost");
    await deployFunction(platform!, creds, "echo", HANDLER_SOURCE);
    await deployFunction(platform!, creds, `${NOMET_PREFIX}echo`, HANDLER_SOURCE);
    const all = cases(platform!, creds.token, baselinePort);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
    for (const c of all) await slice(agent, c, 3); // warm every case (isolates, leases, caches, JIT)
    const tallies = new Map<string, Tally>(all.map((c) => [c.key, { answers: 0, other: 0, busySeconds: 0, seconds: 0, slices: [] }]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of shuffled(all)) {
        const m = await slice(agent, c, SLICE_S);
        const t = tallies.get(c.key)!;
        t.answers += m.answers;
        t.other += m.other;
        t.busySeconds += m.busySeconds;
        t.seconds += m.seconds;
        if (m.answers > 0) t.slices.push((m.busySeconds * 1e6) / m.answers);
      }
      process.stderr.write(`round ${round}/${ROUNDS}\n`);
    }
    agent.destroy();

    const us = (key: string) => {
      const t = tallies.get(key)!;
      return t.answers === 0 ? NaN : (t.busySeconds * 1e6) / t.answers;
    };
    console.log(`workerd thread time per answer, ${CONCURRENCY} closed-loop clients, ${ROUNDS} interleaved rounds of ${SLICE_S} s slices, each Worker on its own socket`);
    console.log("| case | µs per answer (pooled) | median of slices | answers/s | thread busy | other answers |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const c of all) {
      const t = tallies.get(c.key)!;
      console.log(`| ${c.label} | ${us(c.key).toFixed(0)} | ${percentile(t.slices, 50).toFixed(0)} | ${(t.answers / t.seconds).toFixed(0)} | ${((t.busySeconds / t.seconds) * 100).toFixed(0)} % | ${t.other} |`);
    }
    const parts = {
      appFloorOverBaseline: us("healthz") - us("b-healthz"),
      authAndLookup: us("dryrun") - us("healthz"),
      invokeBeyondDryRun: us("invoke") - us("dryrun"),
      metrics: us("invoke") - us("nomet"),
      bareLoaderCall: us("loader") - us("b-healthz"),
      runtimeOverBareLoader: us("executor") - us("loader"),
    };
    const budget = us("loader") / TARGET_RATIO;
    const ratio = us("loader") / us("invoke");
    console.log("\nwhat the figures say (µs of thread per request):");
    console.log(`- cellfn's app floor over a plain Worker's (healthz − healthz): ${parts.appFloorOverBaseline.toFixed(0)}`);
    console.log(`- auth + the function's lookup (DryRun − healthz): ${parts.authAndLookup.toFixed(0)}`);
    console.log(`- a warm invoke beyond DryRun (door, lease, runtime, user isolate, logs, metrics): ${parts.invokeBeyondDryRun.toFixed(0)}`);
    console.log(`- of which metrics recording (invoke − no metrics): ${parts.metrics.toFixed(0)}`);
    console.log(`- a bare Worker Loader call (loader − baseline healthz): ${parts.bareLoaderCall.toFixed(0)}`);
    console.log(`- cellfn's runtime (executor + shim) over the bare loader call (executor − loader): ${parts.runtimeOverBareLoader.toFixed(0)}`);
    console.log(`- thread-time ratio bare loader / cellfn invoke = closed-loop throughput ratio at saturation: ${ratio.toFixed(3)} (issue 10: ≥ ${TARGET_RATIO})`);
    console.log(`- ${TARGET_RATIO}× allows a warm invoke ${budget.toFixed(0)} µs: ${(budget - us("loader")).toFixed(0)} µs over a bare loader call, against ${(us("invoke") - us("loader")).toFixed(0)} µs measured`);
    console.log(`\nload average at the end: ${os.loadavg().map((n) => n.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
    mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(
      path.join(ROOT, "bench", "results", "invoke-cost-latest.json"),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          loadAverage: os.loadavg(),
          settings: { CONCURRENCY, SLICE_S, ROUNDS },
          cases: Object.fromEntries(all.map((c) => [c.key, { label: c.label, usPerAnswer: us(c.key), ...tallies.get(c.key)! }])),
          parts,
          ratio,
          budgetUs: budget,
        },
        null,
        2,
      ),
    );
  } finally {
    await Promise.allSettled([platform?.stop(), baseline?.stop()]);
  }
}

await main();
