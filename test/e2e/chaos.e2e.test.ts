/**
 * The reduced CI variant of `npm run chaos` (bench/chaos.ts, same code): a
 * short steady mixed load (sync, async with retries + OnFailure queue +
 * webhook test double, an SQS mapping with a DLQ, a Kinesis mapping with
 * bisect + OnFailure queue, durable executions in a wait) with misbehaving
 * handlers and poison records, Durable Object resets and duplicate / delayed
 * queue deliveries injected through the test-only CHAOS_FAULTS hook, and one
 * kill -9 of `wrangler dev` mid-run. The books: nothing the platform
 * accepted is lost, and no lease or concurrency slot is held once it settles.
 * Async events accepted before the kill are its regression test for the
 * restart that lost them (src/async/volatile-queues.ts).
 */
import { expect, it } from "vitest";
import { DEFAULT_FAULTS, runChaos } from "../../bench/chaos";
import { formatVerdict } from "../../bench/chaos/session";

it("mixed load with injected faults and a kill -9: nothing accepted lost, no lease held", { timeout: 420_000 }, async () => {
  const { verdict, ticks } = await runChaos({
    durationS: 20,
    ratePerSecond: 4,
    restarts: 1,
    failureShare: 0.1,
    settleS: 150,
    faults: DEFAULT_FAULTS,
    log: (line) => console.log(line),
  });
  const report = formatVerdict(verdict);
  console.log(`[chaos e2e] ${ticks} ticks\n${report}`);
  expect(verdict.restarts).toHaveLength(1);
  expect(verdict.rows.find((r) => r.kind === "async")?.accepted, report).toBeGreaterThan(0);
  expect(verdict.rows.reduce((n, r) => n + r.accepted, 0), report).toBeGreaterThan(20);
  expect(verdict.settled, report).toBe(true);
  expect(verdict.lost, report).toBe(0);
  expect(verdict.leasesHeld, report).toBe(0);
});
