/**
 * `npm run chaos`: steady mixed load against `wrangler dev` while faults are
 * injected, then the books (README, "Chaos: nothing accepted is lost").
 *
 * Load (bench/chaos/workload.ts): sync invokes, async invokes with 2 retries,
 * an OnFailure SQS queue and a webhook OnSuccess destination, SQS messages
 * through a mapping with a DLQ, Kinesis records through a mapping with bisect
 * + OnFailure queue, durable executions that suspend in a wait; a share of
 * events misbehave (throw, process.exit, an uncaught exception, a timeout)
 * or are poison. Faults: `wrangler dev` restarted CHAOS_RESTARTS times on the
 * same state, alternately kill -9 and a clean stop; Durable Object resets and
 * duplicate / delayed queue deliveries with the probabilities of CHAOS_FAULTS
 * (src/chaos/faults.ts); the webhook answers ok, 500, slowly or never, in turn.
 *
 * Knobs (environment): CHAOS_DURATION_S (120), CHAOS_RATE (load ticks/s, 15),
 * CHAOS_RESTARTS (4), CHAOS_FAILURE_SHARE (0.1), CHAOS_SETTLE_S (300),
 * CHAOS_FAULTS (DEFAULT_FAULTS below; "none" for none), CHAOS_VERBOSE=1.
 * Exits 1 when anything accepted was lost or a lease is still held.
 */
import { envNumber } from "./lib/settings";
import { runLoad } from "./chaos/workload";
import { formatVerdict, Session, type Verdict } from "./chaos/session";

export const DEFAULT_FAULTS =
  "sqs-send=0.02,sqs-delete=0.05,lease-release=0.02,durable-checkpoint=0.05,stream-poll=0.05,queue-duplicate=0.1,queue-delay=0.05";

export interface ChaosSettings {
  durationS: number;
  ratePerSecond: number;
  restarts: number;
  failureShare: number;
  settleS: number;
  faults: string;
  verbose?: boolean;
  log?: (line: string) => void;
}

/** One chaos run; the CI variant (test/e2e/chaos.e2e.test.ts) calls this with small numbers. */
export async function runChaos(settings: ChaosSettings): Promise<{ verdict: Verdict; ticks: number; skipped: number; output: string }> {
  const session = new Session({ faults: settings.faults, verbose: settings.verbose, log: settings.log });
  try {
    await session.start();
    session.log(`[chaos] platform up at ${session.platform.url}; load ${settings.ratePerSecond} ticks/s for ${settings.durationS} s, ${settings.restarts} restart(s), faults: ${settings.faults || "none"}`);
    const durationMs = settings.durationS * 1000;
    const load = runLoad(session.target, session.ledger, { ratePerSecond: settings.ratePerSecond, durationMs, failureShare: settings.failureShare });
    const started = Date.now();
    for (let k = 1; k <= settings.restarts; k++) {
      const at = started + (k * durationMs) / (settings.restarts + 1);
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      await session.restart(k % 2 === 1);
    }
    const { ticks, skipped } = await load;
    session.log(`[chaos] load done: ${ticks} ticks (${skipped} skipped); refused: ${JSON.stringify(session.ledger.refused)}`);
    for (const sample of session.ledger.refusalSamples.slice(0, settings.verbose ? 50 : 8)) session.log(`[chaos]   refused ${sample}`);
    const verdict = await session.verdict(settings.settleS * 1000);
    return { verdict, ticks, skipped, output: session.platform.output() };
  } finally {
    await session.close();
  }
}

async function main(): Promise<void> {
  const faults = process.env.CHAOS_FAULTS === "none" ? "" : (process.env.CHAOS_FAULTS ?? DEFAULT_FAULTS);
  const settings: ChaosSettings = {
    durationS: envNumber("CHAOS_DURATION_S", 120),
    ratePerSecond: envNumber("CHAOS_RATE", 15),
    restarts: envNumber("CHAOS_RESTARTS", 4, true),
    failureShare: envNumber("CHAOS_FAILURE_SHARE", 0.1, true),
    settleS: envNumber("CHAOS_SETTLE_S", 300),
    faults,
    verbose: process.env.CHAOS_VERBOSE === "1",
  };
  const { verdict, ticks } = await runChaos(settings);
  console.log(`\nchaos run: ${settings.durationS} s at ${settings.ratePerSecond} ticks/s (${ticks} ticks), ${settings.restarts} restarts, failure share ${settings.failureShare}`);
  console.log(formatVerdict(verdict));
  const ok = verdict.lost === 0 && verdict.leasesHeld === 0;
  console.log(ok ? "\nPASS: nothing lost, no lease held" : `\nFAIL: ${verdict.lost} lost, ${verdict.leasesHeld} leases/slots held`);
  process.exitCode = ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}
