/**
 * `npm run soak`: the chaos workload (bench/chaos/workload.ts) without
 * injected faults, for SOAK_MINUTES (default 30) at half of saturation, to
 * show what stays flat: workerd's resident memory, per-invoke latency, and
 * nothing left behind (leases, concurrency slots, busy environments, Durable
 * Object storage beyond what the data needs).
 *
 * Saturation is measured first, in the same run: SOAK_PROBE_WORKERS closed-loop
 * workers run the mixed load back to back for SOAK_PROBE_S seconds; the soak
 * then runs the open-loop load at SOAK_LOAD_SHARE (0.5) of the ticks/s reached
 * (SOAK_RATE overrides it). Every minute it samples the RSS of the workerd
 * processes in wrangler's process group and the sync invokes' latency
 * (successful ones) of that minute; at the end it settles, checks the books
 * and the leases, and sizes the Durable Object storage on disk per class.
 * Exits 1 when something was lost, a lease is held, or memory after warm-up
 * (SOAK_WARMUP_MINUTES: one environment idle lifetime + 3) grew by more than 10 %.
 */
import { ENV_IDLE_MS } from "../src/invoke/partition-rules";
import { workerdRss } from "./lib/proc";
import { envNumber } from "./lib/settings";
import { formatVerdict, Session } from "./chaos/session";
import { runLoad } from "./chaos/workload";

const MINUTES = envNumber("SOAK_MINUTES", 30);
const PROBE_S = envNumber("SOAK_PROBE_S", 30);
const PROBE_WORKERS = envNumber("SOAK_PROBE_WORKERS", 16);
const LOAD_SHARE = envNumber("SOAK_LOAD_SHARE", 0.5);
const FAILURE_SHARE = envNumber("SOAK_FAILURE_SHARE", 0.05, true);
/**
 * Minutes left out of the memory comparison: the pool of execution environments
 * (each a Dynamic Worker isolate) grows until the first ones retire, ENV_IDLE_MS
 * after their last invoke, so memory can be steady only after one idle lifetime;
 * plus 3 minutes for caches and SQLite pages. (The 30-minute soak of 2026-12-04
 * grew 20 % from minute 4 and 1.7 % over its last 13 minutes.)
 */
const WARMUP_MINUTES = envNumber("SOAK_WARMUP_MINUTES", ENV_IDLE_MS / 60_000 + 3, true);
const MEMORY_GROWTH_LIMIT = 0.1;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

interface Minute {
  minute: number;
  ticks: number;
  syncOk: number;
  p50: number;
  p99: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const session = new Session({ verbose: process.env.SOAK_VERBOSE === "1" });
  try {
    await session.start();
    const pgid = session.platform.pgid;

    // Saturation: closed loop, PROBE_WORKERS ticks in flight at once (the open-loop generator with a rate it cannot reach).
    const probe = await runLoad(session.target, session.ledger, { ratePerSecond: 1000, durationMs: PROBE_S * 1000, failureShare: FAILURE_SHARE, maxInFlight: PROBE_WORKERS });
    const saturation = probe.ticks / PROBE_S;
    const rate = envNumber("SOAK_RATE", Math.max(1, saturation * LOAD_SHARE));
    session.log(`[soak] saturation ≈ ${saturation.toFixed(1)} ticks/s (${PROBE_WORKERS} in flight, ${PROBE_S} s); soak at ${rate.toFixed(1)} ticks/s for ${MINUTES} min`);
    session.ledger.syncLatencies.length = 0;

    const minutes: Minute[] = [];
    const started = Date.now();
    let lastTicks = 0;
    let ticksSoFar = 0;
    const load = runLoad(session.target, session.ledger, { ratePerSecond: rate, durationMs: MINUTES * 60_000, failureShare: FAILURE_SHARE, onTick: () => (ticksSoFar += 1) });
    for (let m = 1; m <= MINUTES; m++) {
      await new Promise((r) => setTimeout(r, Math.max(0, started + m * 60_000 - Date.now())));
      const lat = session.ledger.syncLatencies.filter(([at]) => at >= (m - 1) * 60_000 && at < m * 60_000).map(([, ms]) => ms);
      const row = { minute: m, ticks: ticksSoFar - lastTicks, syncOk: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), rssMb: workerdRss(pgid) / 1048576 };
      lastTicks = ticksSoFar;
      minutes.push(row);
      session.log(`[soak] minute ${m}: ${row.ticks} ticks, sync p50 ${row.p50} ms p99 ${row.p99} ms (${row.syncOk}), workerd RSS ${row.rssMb.toFixed(0)} MB`);
    }
    await load;
    const verdict = await session.verdict(300_000);
    const storage = await session.durableObjectBytes();

    console.log(`\nsoak: ${MINUTES} min at ${rate.toFixed(1)} ticks/s (saturation ≈ ${saturation.toFixed(1)} ticks/s, ${PROBE_WORKERS} in flight), failure share ${FAILURE_SHARE}`);
    console.log("| minute | load ticks | sync ok | sync p50 ms | sync p99 ms | workerd RSS MB |");
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of minutes) console.log(`| ${r.minute} | ${r.ticks} | ${r.syncOk} | ${r.p50} | ${r.p99} | ${r.rssMb.toFixed(0)} |`);
    const after = minutes.filter((r) => r.minute > WARMUP_MINUTES);
    const first = after[0];
    const last = after.at(-1);
    const growth = first && last ? last.rssMb / first.rssMb - 1 : 0;
    const peak = Math.max(...after.map((r) => r.rssMb));
    console.log(`\nworkerd RSS after warm-up (minute ${first?.minute ?? "-"} → ${last?.minute ?? "-"}): ${first?.rssMb.toFixed(0)} → ${last?.rssMb.toFixed(0)} MB (${(growth * 100).toFixed(1)} %), peak ${peak.toFixed(0)} MB`);
    if (first && last) console.log(`sync p50 minute ${first.minute} → ${last.minute}: ${first.p50} → ${last.p50} ms; p99 ${first.p99} → ${last.p99} ms`);
    console.log(`Durable Object storage on disk: ${Object.entries(storage).map(([k, b]) => `${k} ${(b / 1024).toFixed(0)} KB`).join(", ")}`);
    console.log(formatVerdict(verdict));
    const ok = verdict.lost === 0 && verdict.leasesHeld === 0 && growth <= MEMORY_GROWTH_LIMIT;
    console.log(ok ? "\nPASS" : "\nFAIL");
    process.exitCode = ok ? 0 : 1;
  } finally {
    await session.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
