/**
 * Recursive loop detection, as Lambda does it: every invocation knows how many
 * times each function has run in the chain of invocations that one event
 * started (its lineage, carried in `X-Amzn-Trace-Id` through the egress
 * gateway, in SQS messages' `AWSTraceHeader`, and in async events). When a
 * function would run more than MAX_RECURSIVE_INVOCATIONS times in one chain
 * and its RecursiveLoop setting is `Terminate` (the default), the invocation
 * is stopped: sync callers get RecursiveInvocationException, async events and
 * queue messages go where failures go.
 *
 * A fan-out (one function invoking another many times) or a long chain of
 * different functions is never stopped: only one function's own count matters.
 */
import type { LineageCounts } from "../runtime/lineage";
import { arnHash, MAX_LINEAGE_ENTRIES } from "../runtime/lineage";

/** Lambda stops the 17th invocation of a function in one chain ("more than 16 times"). */
export const MAX_RECURSIVE_INVOCATIONS = 16;

export const RECURSIVE_LOOP_VALUES = ["Terminate", "Allow"] as const;
export type RecursiveLoop = (typeof RECURSIVE_LOOP_VALUES)[number];

/** An event that does not come from a function. */
export const NO_LINEAGE: LineageCounts = Object.freeze({});

/**
 * The lineage of an invocation of `unqualifiedArn` caused by a chain with
 * `incoming` counts: the function's own count goes up by one. When there are
 * more entries than a header keeps, the smallest counts (the least loop-like)
 * are dropped.
 */
export function lineageOfInvocation(incoming: LineageCounts, unqualifiedArn: string): LineageCounts {
  const hash = arnHash(unqualifiedArn);
  const others = Object.entries(incoming).filter(([h]) => h !== hash);
  return Object.fromEntries([[hash, (incoming[hash] ?? 0) + 1], ...largest(others, MAX_LINEAGE_ENTRIES - 1)]);
}

/** Whether the invocation with `lineage` is a loop Lambda would stop. */
export function stopsRecursion(lineage: LineageCounts, unqualifiedArn: string, setting: RecursiveLoop): boolean {
  return setting === "Terminate" && (lineage[arnHash(unqualifiedArn)] ?? 0) > MAX_RECURSIVE_INVOCATIONS;
}

/** Several sources' chains as one (a batch of queue messages): the largest count of each function. */
export function mergeLineages(lineages: readonly LineageCounts[]): LineageCounts {
  const merged: Record<string, number> = {};
  for (const lineage of lineages) {
    for (const [hash, count] of Object.entries(lineage)) merged[hash] = Math.max(merged[hash] ?? 0, count);
  }
  return Object.fromEntries(largest(Object.entries(merged), MAX_LINEAGE_ENTRIES));
}

function largest(entries: [string, number][], n: number): [string, number][] {
  return entries.sort(([, a], [, b]) => b - a).slice(0, n);
}
