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
 * ConcurrentExecutions as the average number of invocations running during
 * each second: the invocation's busy milliseconds in every second it
 * overlapped, out of 1000. A second's value is the sum over invocations.
 */
function concurrencySamples(facts: InvocationFacts): Sample[] {
  const endMs = facts.atMs;
  const startMs = endMs - Math.max(0, facts.durationMs);
  const samples: Sample[] = [];
  for (let second = Math.floor(startMs / 1000); second * 1000 < endMs || second === Math.floor(startMs / 1000); second++) {
    const overlapMs = Math.min(endMs, (second + 1) * 1000) - Math.max(startMs, second * 1000);
    const value = Math.max(overlapMs, 0) / 1000;
    for (const dimensions of dimensionSets(facts).slice(0, 2)) {
      samples.push({ metric: "ConcurrentExecutions", unit: "Count", dimensions, value, second, gauge: true });
    }
  }
  return samples;
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
