/**
 * Which CloudWatch samples a Lambda event produces, with AWS/Lambda's names,
 * units and dimension sets: every sample is counted in the account-wide
 * series (no dimensions), the function's (`FunctionName`), and for a
 * qualified call the alias or version's (`FunctionName` + `Resource`
 * `name:qualifier`, and with `ExecutedVersion`). Pure.
 */

export const LAMBDA_NAMESPACE = "AWS/Lambda";

export type Unit = "Count" | "Milliseconds";
/** Dimension name → value pairs, sorted by name: the canonical form a series is keyed by. */
export type Dimensions = ReadonlyArray<readonly [string, string]>;

export interface Sample {
  metric: string;
  unit: Unit;
  dimensions: Dimensions;
  value: number;
  /** Epoch seconds of the bucket the sample belongs to. */
  second: number;
  /**
   * A gauge's samples in one second add up to that second's one value (the
   * busy milliseconds behind ConcurrentExecutions) instead of being separate samples.
   */
  gauge?: true;
  /**
   * A gauge's companion series: `metric` keeps, per second, this gauge's
   * value plus `level`, a whole number every writer of that second knows
   * alike (the highest one written counts once, however many isolates
   * wrote). ClaimedAccountConcurrency is UnreservedConcurrentExecutions
   * plus the allocated concurrency.
   */
  derived?: { metric: string; level: number };
}

export interface FunctionEvent {
  functionName: string;
  /** The qualifier the caller named (alias or version), if any. */
  qualifier?: string;
  executedVersion: string;
  atMs: number;
}

export function canonicalDimensions(pairs: Iterable<readonly [string, string]>): Dimensions {
  return [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function dimensionSets(event: FunctionEvent): Dimensions[] {
  const name: [string, string] = ["FunctionName", event.functionName];
  const sets: Dimensions[] = [[], [name]];
  if (event.qualifier !== undefined) {
    const resource: [string, string] = ["Resource", `${event.functionName}:${event.qualifier}`];
    sets.push(canonicalDimensions([name, resource]), canonicalDimensions([name, resource, ["ExecutedVersion", event.executedVersion]]));
  }
  return sets;
}

function samplesOf(event: FunctionEvent, metric: string, unit: Unit, value: number): Sample[] {
  const second = Math.floor(event.atMs / 1000);
  return dimensionSets(event).map((dimensions) => ({ metric, unit, dimensions, value, second }));
}

export interface InvocationFacts extends FunctionEvent {
  durationMs: number;
  initDurationMs?: number;
  error: boolean;
}

/** A finished invocation: Invocations, Errors, Duration, InitDuration (cold starts), ConcurrentExecutions. */
export function invocationSamples(facts: InvocationFacts): Sample[] {
  const samples = [
    ...samplesOf(facts, "Invocations", "Count", 1),
    ...samplesOf(facts, "Errors", "Count", facts.error ? 1 : 0),
    ...samplesOf(facts, "Duration", "Milliseconds", facts.durationMs),
  ];
  if (facts.initDurationMs !== undefined) samples.push(...samplesOf(facts, "InitDuration", "Milliseconds", facts.initDurationMs));
  samples.push(...concurrencySamples(facts));
  return samples;
}

/**
 * The share of each second an invocation that ended at `endMs` after
 * `durationMs` was running in (0..1): summed over invocations, the average
 * number of invocations running during that second.
 */
export function busyShares(endMs: number, durationMs: number): Array<{ second: number; value: number }> {
  const startMs = endMs - Math.max(0, durationMs);
  const first = Math.floor(startMs / 1000);
  const shares: Array<{ second: number; value: number }> = [];
  for (let second = first; second * 1000 < endMs || second === first; second++) {
    const overlapMs = Math.min(endMs, (second + 1) * 1000) - Math.max(startMs, second * 1000);
    shares.push({ second, value: Math.max(overlapMs, 0) / 1000 });
  }
  return shares;
}

/** ConcurrentExecutions, account-wide and per function: a gauge of busyShares. */
function concurrencySamples(facts: InvocationFacts): Sample[] {
  const sets = dimensionSets(facts).slice(0, 2);
  return busyShares(facts.atMs, facts.durationMs).flatMap(({ second, value }) =>
    sets.map((dimensions): Sample => ({ metric: "ConcurrentExecutions", unit: "Count", dimensions, value, second, gauge: true })),
  );
}

/** A request refused with 429 before any code ran. */
export function throttleSamples(event: FunctionEvent): Sample[] {
  return samplesOf(event, "Throttles", "Count", 1);
}

/** An invocation stopped by recursive loop detection (src/invoke/recursion.ts). */
export function recursionStoppedSamples(event: FunctionEvent): Sample[] {
  return samplesOf(event, "RecursiveInvocationsDropped", "Count", 1);
}

/** Asynchronous invocation events, named as Lambda names them. */
export type AsyncMetric = "AsyncEventsReceived" | "AsyncEventsDropped" | "DeadLetterErrors" | "DestinationDeliveryFailures";

export function asyncCountSamples(event: FunctionEvent, metric: AsyncMetric): Sample[] {
  return samplesOf(event, metric, "Count", 1);
}

/** How long an event waited between being queued and its (first or retried) invocation. */
export function asyncEventAgeSamples(event: FunctionEvent, ageMs: number): Sample[] {
  return samplesOf(event, "AsyncEventAge", "Milliseconds", Math.max(0, ageMs));
}

/**
 * A stream mapping's batch handed to the function: how old its last record
 * was (Lambda's IteratorAge, "the age of the last record in the event").
 */
export function iteratorAgeSamples(event: FunctionEvent, ageMs: number): Sample[] {
  return samplesOf(event, "IteratorAge", "Milliseconds", Math.max(0, ageMs));
}

/** How a durable execution ended, as its DurableExecution<Outcome> metric names it. */
export type DurableOutcome = "Succeeded" | "Failed" | "TimedOut" | "Stopped";

/** A durable execution was started (DurableExecutionStarted), account-wide and per function. */
export function durableStartedSamples(event: FunctionEvent): Sample[] {
  return samplesOf(unqualified(event), "DurableExecutionStarted", "Count", 1);
}

/**
 * A durable execution ended: its outcome's count, DurableExecutionDuration
 * (wall-clock milliseconds it was RUNNING) and DurableExecutionOperations
 * (the operations it ran), account-wide and per function.
 */
export function durableEndedSamples(event: FunctionEvent, outcome: DurableOutcome, runningMs: number, operations: number): Sample[] {
  const at = unqualified(event);
  return [
    ...samplesOf(at, `DurableExecution${outcome}`, "Count", 1),
    ...samplesOf(at, "DurableExecutionDuration", "Milliseconds", Math.max(0, runningMs)),
    ...samplesOf(at, "DurableExecutionOperations", "Count", operations),
  ];
}

/** Durable executions are counted per function (their ARN names the version, not how it was invoked). */
function unqualified(event: FunctionEvent): FunctionEvent {
  return { functionName: event.functionName, executedVersion: event.executedVersion, atMs: event.atMs };
}
