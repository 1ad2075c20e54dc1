/**
 * The places that see a Lambda event call these; each builds the event's
 * samples (./lambda-metrics.ts) and hands them to the batching recorder.
 * Never throws: metrics must not fail the invocation that produced them.
 * METRICS_RECORDING (./recording-switch.ts) can turn them off for benchmarks.
 */
import type { ConcurrencyFacts } from "./concurrency-samples";
import { accountConcurrencySamples, provisionedSamples } from "./concurrency-samples";
import type { AsyncMetric, DurableOutcome, FunctionEvent, Sample } from "./lambda-metrics";
import {
  asyncCountSamples,
  asyncEventAgeSamples,
  durableEndedSamples,
  durableStartedSamples,
  invocationSamples,
  iteratorAgeSamples,
  recursionStoppedSamples,
  throttleSamples,
} from "./lambda-metrics";
import { recordSamples, recordSamplesNow } from "./recorder";
import { metricsRecordedFor } from "./recording-switch";

type WaitUntil = (promise: Promise<unknown>) => void;

export interface InvocationMetrics {
  tenantId: string;
  functionName: string;
  qualifier: string | undefined;
  executedVersion: string;
}

function eventOf(m: InvocationMetrics): FunctionEvent {
  return { functionName: m.functionName, ...(m.qualifier === undefined ? {} : { qualifier: m.qualifier }), executedVersion: m.executedVersion, atMs: Date.now() };
}

/** Hands the event's samples to the recorder, unless METRICS_RECORDING leaves this function out. */
function record(env: Env, m: Pick<InvocationMetrics, "tenantId" | "functionName">, samples: () => Sample[], waitUntil: WaitUntil): void {
  if (metricsRecordedFor(env, m.functionName)) recordSamples(env, m.tenantId, samples(), waitUntil);
}

export function recordInvocation(
  env: Env,
  m: InvocationMetrics,
  result: { durationMs: number; initDurationMs?: number; functionError?: string },
  concurrency: ConcurrencyFacts,
  waitUntil: WaitUntil,
): void {
  record(
    env,
    m,
    () => {
      const facts = {
        ...eventOf(m),
        durationMs: result.durationMs,
        error: result.functionError !== undefined,
        ...(result.initDurationMs === undefined ? {} : { initDurationMs: result.initDurationMs }),
      };
      const samples = invocationSamples(facts);
      samples.push(...accountConcurrencySamples(facts, concurrency));
      if (concurrency.provisioned) samples.push(...provisionedSamples(facts, concurrency.provisioned));
      return samples;
    },
    waitUntil,
  );
}

export function recordThrottle(env: Env, m: InvocationMetrics, waitUntil: WaitUntil): void {
  record(env, m, () => throttleSamples(eventOf(m)), waitUntil);
}

export function recordRecursionStopped(env: Env, m: InvocationMetrics, waitUntil: WaitUntil): void {
  record(env, m, () => recursionStoppedSamples(eventOf(m)), waitUntil);
}

export function recordAsyncEvent(env: Env, m: InvocationMetrics, metric: AsyncMetric, waitUntil: WaitUntil): void {
  record(env, m, () => asyncCountSamples(eventOf(m), metric), waitUntil);
}

export function recordAsyncEventAge(env: Env, m: InvocationMetrics, ageMs: number, waitUntil: WaitUntil): void {
  record(env, m, () => asyncEventAgeSamples(eventOf(m), ageMs), waitUntil);
}

export function recordIteratorAge(env: Env, m: InvocationMetrics, ageMs: number, waitUntil: WaitUntil): void {
  record(env, m, () => iteratorAgeSamples(eventOf(m), ageMs), waitUntil);
}

/** Which metric counts a record that could not be delivered: a destination's, or the dead-letter queue's (Lambda's DeadLetterErrors). */
export type DeliveryFailureMetric = Extract<AsyncMetric, "DestinationDeliveryFailures" | "DeadLetterErrors">;

/** A destination or the dead-letter queue did not take an event's record. */
export function recordDeliveryFailureMetric(env: Env, m: Pick<InvocationMetrics, "tenantId" | "functionName">, metric: DeliveryFailureMetric = "DestinationDeliveryFailures"): Promise<void> {
  if (!metricsRecordedFor(env, m.functionName)) return Promise.resolve();
  const event = { functionName: m.functionName, executedVersion: "$LATEST", atMs: Date.now() };
  return recordSamplesNow(env, m.tenantId, asyncCountSamples(event, metric));
}

/** A durable execution was started (DurableExecutionStarted). */
export function recordDurableStarted(env: Env, m: InvocationMetrics, waitUntil: WaitUntil): void {
  record(env, m, () => durableStartedSamples(eventOf(m)), waitUntil);
}

/** A durable execution ended: its outcome, how long it ran, how many operations it had. */
export function recordDurableEnded(env: Env, m: InvocationMetrics, end: { outcome: DurableOutcome; runningMs: number; operations: number }, waitUntil: WaitUntil): void {
  record(env, m, () => durableEndedSamples(eventOf(m), end.outcome, end.runningMs, end.operations), waitUntil);
}
