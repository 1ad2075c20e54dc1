/**
 * `npm run bench:goodput`: goodput of synchronous invokes past the tipping
 * point, with admission control (src/invoke/admission.ts) on and off, in one
 * run, on this machine, over loopback.
 *
 * For each mode it starts cellfn (`wrangler dev`, ADMISSION_CONTROL=on|off),
 * creates two tenants with the same CPU-bound function (a loop of
 * BENCH_GOODPUT_SPIN iterations, a few ms of CPU), and drives it with an
 * open-loop generator in this process (node:http keep-alive, bearer auth):
 * requests arrive on a fixed schedule whatever the answers, as independent
 * clients do. Each client behaves as the AWS SDK v3's standard retry mode:
 * up to 3 attempts, throttles (429) and 5xx retried after a random delay up to
 * 500 ms × 2^attempt (100 ms for 5xx), a retry quota of 500 tokens (5 per
 * retry, 10 per timeout retry, 1 back per success), and a per-attempt timeout
 * of BENCH_GOODPUT_TIMEOUT_MS. A request is *good* when it succeeded within
 * that timeout of its first send: goodput is good requests per second.
 *
 * Capacity (the tipping point) is the closed-loop throughput at concurrency 4
 * with admission control off. Offered loads are multiples of it (0.5× … 4×).
 * Then the fairness case: tenant "victim" at 0.2× capacity alone, then beside
 * "flood" at 10× its rate.
 *
 * Prints a table per mode, the targets (goodput at 4× ≥ 90 % of peak; p99 of
 * admitted requests at 4× ≤ 2× its value at 0.8×; 429s answered ≤ 2 ms p99;
 * the victim keeps ≥ 90 % of its solo goodput), writes
 * bench/results/goodput-latest.json and bench/results/goodput.png.
 */
import http from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTenantWithKey, ROOT, startPlatform, type Platform, type TenantCredentials } from "../test/e2e/harness";
import { SPIN_DEFAULT, SPIN_HANDLER_SOURCE } from "./handler";
import { writeChart } from "./lib/chart";
import { postLocal } from "./lib/http";
import { deployFunction, percentile } from "./lib/lambda";
import { envNumber } from "./lib/settings";

const STEP_S = envNumber("BENCH_GOODPUT_STEP_S", 8);
const TIMEOUT_MS = envNumber("BENCH_GOODPUT_TIMEOUT_MS", 1_000);
const SPIN = envNumber("BENCH_GOODPUT_SPIN", SPIN_DEFAULT);
const MULTIPLES = (process.env.BENCH_GOODPUT_MULTIPLES ?? "0.5,0.8,1,1.5,2,3,4").split(",").map(Number);
const VERBOSE = process.env.BENCH_VERBOSE === "1";
/** Which modes to run (`off,on` for the comparison; one of them to iterate faster). */
const MODES = (process.env.BENCH_GOODPUT_MODES ?? "off,on").split(",") as ("on" | "off")[];
/**
 * Which sockets to drive (test/e2e/inner-socket.ts): "proxy" is wrangler dev's
 * `--port` (its proxy workerd queues every request in one Durable Object in
 * front of cellfn), "direct" the user worker's own socket, as the edge reaches
 * it on Cloudflare. Both by default, in one run, each with its own capacity.
 */
const VIAS = (process.env.BENCH_GOODPUT_VIA ?? "proxy,direct").split(",") as ("proxy" | "direct")[];
/** Gate on with its figures on every 429 (ADMISSION_CONTROL=diagnose): refusals by rule per step. */
const DIAGNOSE = process.env.BENCH_GOODPUT_DIAGNOSE === "1";
/** BENCH_GOODPUT_CAPACITY: take this capacity (invokes/s) instead of measuring it, so that two builds are offered the same loads. */
const FIXED_CAPACITY = envNumber("BENCH_GOODPUT_CAPACITY", 0) || undefined;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Target {
  port: number;
  creds: TenantCredentials;
}

interface StepStats {
  offered: number;
  good: number;
  late: number;
  failed: number;
  attempts: number;
  refused: number;
  timeouts: number;
  /** ms from first send, of good requests. */
  goodLatency: number[];
  /** ms per attempt answered 429. */
  refusalLatency: number[];
  /** BENCH_GOODPUT_DIAGNOSE=1: the door's limiter figures on the step's latest 429 (cumulative), and the smallest rate and bound seen on one. */
  door?: DoorFigures;
  minRate: number;
  minLimit: number;
}

/** The limiter's figures a 429 carries under ADMISSION_CONTROL=diagnose (src/invoke/admission.ts AdmissionStats; Infinity reads null). */
interface DoorFigures {
  limit: number;
  rate: number | null;
  admitted: number;
  refused: number;
  refusedBy: Record<"bound" | "share" | "rate" | "rateShare", number>;
  rateEngaged: number;
  lastLagMin: number | null;
}

const emptyStats = (): StepStats => ({
  offered: 0,
  good: 0,
  late: 0,
  failed: 0,
  attempts: 0,
  refused: 0,
  timeouts: 0,
  goodLatency: [],
  refusalLatency: [],
  minRate: Number.POSITIVE_INFINITY,
  minLimit: Number.POSITIVE_INFINITY,
});

/** Keeps the newest door figures a 429 carried (the counters only grow) and the smallest rate and bound. */
function noteDoor(stats: StepStats, header: string | string[] | undefined): void {
  if (typeof header !== "string") return;
  const door = JSON.parse(header) as DoorFigures;
  if (!stats.door || door.admitted + door.refused > stats.door.admitted + stats.door.refused) stats.door = door;
  stats.minRate = Math.min(stats.minRate, door.rate ?? Number.POSITIVE_INFINITY);
  stats.minLimit = Math.min(stats.minLimit, door.limit);
}

/** The AWS SDK v3 standard retry mode, as far as load is concerned. */
class SdkLikeClient {
  #quota = 500;
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 2_000 });
  constructor(readonly target: Target) {}

  async call(stats: StepStats): Promise<void> {
    const first = performance.now();
    stats.offered++;
    for (let attempt = 1; ; attempt++) {
      stats.attempts++;
      const sent = performance.now();
      let retryable: "throttle" | "error" | "timeout" | undefined;
      try {
        const reply = await postLocal(
          this.agent,
          this.target.port,
          "/2015-03-31/functions/work/invocations",
          { authorization: `Bearer ${this.target.creds.token}`, "content-type": "application/json" },
          JSON.stringify({ spin: SPIN }),
          TIMEOUT_MS,
        );
        if (reply.status === 200 && !reply.headers["x-amz-function-error"]) {
          this.#quota = Math.min(500, this.#quota + 1);
          const took = performance.now() - first;
          if (took <= TIMEOUT_MS) {
            stats.good++;
            stats.goodLatency.push(took);
          } else {
            stats.late++;
          }
          return;
        }
        if (VERBOSE && reply.status !== 429) process.stderr.write(`[goodput] answer ${reply.status}: ${reply.body.slice(0, 300)}\n`);
        if (reply.status === 429) {
          stats.refused++;
          stats.refusalLatency.push(performance.now() - sent);
          noteDoor(stats, reply.headers["x-cellfn-door"]);
          retryable = "throttle";
        } else if (reply.status >= 500) {
          retryable = "error";
        }
      } catch (err) {
        if (VERBOSE) process.stderr.write(`[goodput] ${String(err)}\n`);
        stats.timeouts++;
        retryable = "timeout";
      }
      const cost = retryable === "timeout" ? 10 : 5;
      if (retryable === undefined || attempt >= 3 || this.#quota < cost) {
        stats.failed++;
        return;
      }
      this.#quota -= cost;
      const base = retryable === "throttle" ? 500 : 100;
      await sleep(Math.random() * Math.min(20_000, base * 2 ** attempt));
    }
  }
}

/** Requests at `rate`/s on a fixed schedule for STEP_S; resolves when every request has ended. */
async function openLoop(client: SdkLikeClient, rate: number, stats: StepStats): Promise<void> {
  const total = Math.round(rate * STEP_S);
  const start = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    calls.push(client.call(stats));
  }
  await Promise.all(calls);
}

/** Closed loop: `concurrency` callers back to back for STEP_S; successes per second. */
async function capacity(client: SdkLikeClient, concurrency: number): Promise<number> {
  const stats = emptyStats();
  const end = performance.now() + STEP_S * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await client.call(stats);
    }),
  );
  return (stats.good + stats.late) / STEP_S;
}

interface ModeResult {
  mode: "on" | "off";
  via: "proxy" | "direct";
  capacityRps: number;
  steps: { multiple: number; rate: number; stats: StepStats }[];
  victimSolo: StepStats;
  victimFlooded: StepStats;
}

async function deploy(platform: Platform, creds: TenantCredentials): Promise<void> {
  await deployFunction(platform, creds, "work", SPIN_HANDLER_SOURCE);
}

async function warm(platform: Platform, creds: TenantCredentials): Promise<void> {
  const res = await fetch(`${platform.url}/2015-03-31/functions/work/invocations`, {
    method: "POST",
    headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/json" },
    body: JSON.stringify({ spin: SPIN }),
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200) throw new Error(`warm-up invoke: ${res.status} ${await res.text()}`);
}

async function runMode(mode: "on" | "off", via: "proxy" | "direct", capacityRps: number | undefined): Promise<{ result: ModeResult; capacityRps: number }> {
  const platform = await startPlatform({ vars: { ADMISSION_CONTROL: mode === "on" && DIAGNOSE ? "diagnose" : mode }, via, verbose: VERBOSE, ...(VERBOSE ? {} : { logLevel: "warn" as const }) });
  try {
    const victim = await createTenantWithKey(platform, "victim");
    const flood = await createTenantWithKey(platform, "flood");
    await Promise.all([deploy(platform, victim), deploy(platform, flood)]);
    const victimClient = new SdkLikeClient({ port: platform.port, creds: victim });
    // Warm up with no deadline: environments (cold starts take longer than a client's timeout here) and caches.
    await Promise.all([victim, flood].flatMap((creds) => Array.from({ length: 4 }, () => warm(platform, creds))));
    await capacity(victimClient, 4);
    const cap = capacityRps ?? (await capacity(victimClient, 4));
    process.stderr.write(`[goodput] ${via}, admission ${mode}: capacity ${cap.toFixed(0)} invokes/s\n`);
    const steps: ModeResult["steps"] = [];
    for (const multiple of MULTIPLES) {
      const stats = emptyStats();
      await openLoop(new SdkLikeClient({ port: platform.port, creds: victim }), cap * multiple, stats);
      steps.push({ multiple, rate: cap * multiple, stats });
      process.stderr.write(`[goodput] ${via}, admission ${mode}: ${multiple}× → goodput ${(stats.good / STEP_S).toFixed(0)}/s\n`);
      await sleep(2_000);
    }
    const victimSolo = emptyStats();
    await openLoop(new SdkLikeClient({ port: platform.port, creds: victim }), cap * 0.2, victimSolo);
    await sleep(2_000);
    const victimFlooded = emptyStats();
    await Promise.all([
      openLoop(new SdkLikeClient({ port: platform.port, creds: victim }), cap * 0.2, victimFlooded),
      openLoop(new SdkLikeClient({ port: platform.port, creds: flood }), cap * 2, emptyStats()),
    ]);
    return { result: { mode, via, capacityRps: cap, steps, victimSolo, victimFlooded }, capacityRps: cap };
  } finally {
    await platform.stop();
  }
}

function report(results: ModeResult[]): string {
  const lines: string[] = [];
  lines.push(`capacity: closed loop, concurrency 4, admission off unless only on ran, per socket; per-attempt timeout ${TIMEOUT_MS} ms; ${STEP_S} s per step`);
  lines.push(`load average at the end: ${os.loadavg().map((n) => n.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  for (const r of results) {
    lines.push("", `${r.via === "direct" ? "direct to the user worker's socket" : "through wrangler dev's proxy"}, admission control ${r.mode} (capacity ${r.capacityRps.toFixed(0)} invokes/s)`);
    lines.push("offered×  rate/s  goodput/s  late/s  failed/s  429s/s  timeouts/s  good p50  good p99  429 p99 (ms)");
    for (const { multiple, rate, stats } of r.steps) {
      const per = (n: number) => (n / STEP_S).toFixed(0).padStart(7);
      lines.push(
        `${String(multiple).padStart(7)}  ${rate.toFixed(0).padStart(6)}  ${per(stats.good).padStart(9)}  ${per(stats.late)}  ${per(stats.failed).padStart(8)}  ${per(stats.refused)}  ${per(stats.timeouts).padStart(10)}  ${percentile(stats.goodLatency, 50).toFixed(1).padStart(8)}  ${percentile(stats.goodLatency, 99).toFixed(1).padStart(8)}  ${percentile(stats.refusalLatency, 99).toFixed(1).padStart(7)}`,
      );
    }
    if (DIAGNOSE && r.mode === "on") lines.push(...refusalsByRule(r.steps));
    const peak = Math.max(...r.steps.map((s) => s.stats.good));
    const at4 = r.steps.find((s) => s.multiple === 4)?.stats;
    const at08 = r.steps.find((s) => s.multiple === 0.8)?.stats;
    const refusals = r.steps.flatMap((s) => s.stats.refusalLatency);
    const check = (ok: boolean) => (ok ? "PASS" : "MISS");
    if (at4) lines.push(`  goodput at 4× / peak: ${((at4.good / peak) * 100).toFixed(0)} % (target ≥ 90 %) ${check(at4.good >= 0.9 * peak)}`);
    if (at4 && at08) {
      const ratio = percentile(at4.goodLatency, 99) / percentile(at08.goodLatency, 99);
      lines.push(`  admitted p99 at 4× / at 0.8×: ${ratio.toFixed(2)} (target ≤ 2) ${check(ratio <= 2)}`);
    }
    if (refusals.length > 0) lines.push(`  429 answered in p99 ${percentile(refusals, 99).toFixed(2)} ms (target ≤ 2 ms) ${check(percentile(refusals, 99) <= 2)}`);
    const share = r.victimFlooded.good / Math.max(1, r.victimSolo.good);
    lines.push(`  victim goodput beside a 10× flood / solo: ${(share * 100).toFixed(0)} % (target ≥ 90 %) ${check(share >= 0.9)}`);
  }
  return lines.join("\n");
}

/** Per step: refusals per second by the rule that refused (differences of the cumulative figures the 429s carried). */
function refusalsByRule(steps: ModeResult["steps"]): string[] {
  const lines = ["  refused/s by rule (in-flight bound, its share, rate bucket, split under the rate), rate engagements, smallest rate and bound on a 429, last lag min"];
  let before: DoorFigures | undefined;
  for (const { multiple, stats } of steps) {
    const now = stats.door;
    if (!now) {
      lines.push(`  ${String(multiple).padStart(5)}×  no 429`);
      continue;
    }
    const by = (k: keyof DoorFigures["refusedBy"]) => ((now.refusedBy[k] - (before?.refusedBy[k] ?? 0)) / STEP_S).toFixed(0);
    lines.push(
      `  ${String(multiple).padStart(5)}×  bound ${by("bound")}  share ${by("share")}  rate ${by("rate")}  rateShare ${by("rateShare")}  engaged ${now.rateEngaged - (before?.rateEngaged ?? 0)}  min rate ${stats.minRate.toFixed(0)}/s  min bound ${stats.minLimit}  lag min ${now.lastLagMin ?? "∞"} ms`,
    );
    before = now;
  }
  return lines;
}

async function main(): Promise<void> {
  const results: ModeResult[] = [];
  for (const via of VIAS) {
    const off = MODES.includes("off") ? await runMode("off", via, FIXED_CAPACITY) : undefined;
    const on = MODES.includes("on") ? await runMode("on", via, off?.capacityRps ?? FIXED_CAPACITY) : undefined;
    results.push(...[on?.result, off?.result].filter((r) => r !== undefined));
  }
  const text = report(results);
  console.log(text);
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const summary = results.map((r) => ({
    mode: r.mode,
    via: r.via,
    capacityRps: r.capacityRps,
    steps: r.steps.map(({ multiple, rate, stats }) => ({
      multiple,
      rate,
      goodputPerS: stats.good / STEP_S,
      latePerS: stats.late / STEP_S,
      failedPerS: stats.failed / STEP_S,
      refusedPerS: stats.refused / STEP_S,
      timeoutsPerS: stats.timeouts / STEP_S,
      goodP50Ms: percentile(stats.goodLatency, 50),
      goodP99Ms: percentile(stats.goodLatency, 99),
      refusalP99Ms: percentile(stats.refusalLatency, 99),
    })),
    victimSoloGoodputPerS: r.victimSolo.good / STEP_S,
    victimFloodedGoodputPerS: r.victimFlooded.good / STEP_S,
  }));
  writeFileSync(
    path.join(dir, "goodput-latest.json"),
    JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), stepS: STEP_S, timeoutMs: TIMEOUT_MS, spin: SPIN, results: summary }, null, 2),
  );
  const x = MULTIPLES;
  await writeChart(
    {
      title: `cellfn sync invokes past the tipping point (${TIMEOUT_MS} ms client timeout; capacity ${results.map((r) => `${r.via} ${r.capacityRps.toFixed(0)}/s`).filter((v, i, a) => a.indexOf(v) === i).join(", ")})`,
      xLabel: "offered load (× capacity)",
      yLabel: "goodput (× capacity of its socket)",
      x,
      series: [
        ...results.map((r) => ({
          label: `${r.via}, admission ${r.mode}`,
          values: r.steps.map((s) => s.stats.good / STEP_S / r.capacityRps),
          color: r.mode === "on" ? "#1b7f3b" : "#c0392b",
          ...(r.via === "proxy" ? { dash: [3, 3] } : {}),
        })),
        { label: "offered", values: x, color: "#888", dash: [6, 4] },
      ],
    },
    path.join(dir, "goodput.png"),
  );
  console.log(`\nwrote bench/results/goodput-latest.json and bench/results/goodput.png`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
