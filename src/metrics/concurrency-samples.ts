/**
 * The concurrency metrics an invocation adds beyond ConcurrentExecutions,
 * with Lambda's names (docs: "Monitoring concurrency"). Pure.
 *
 * Account-wide (no dimensions): UnreservedConcurrentExecutions, the
 * invocations running on the tenant's unreserved pool (functions without
 * reserved concurrency, outside provisioned environments), and
 * ClaimedAccountConcurrency, that plus the allocated concurrency (every
 * reservation and the provisioned concurrency of unreserved functions: the
 * part of the limit no on-demand invocation can use). An invocation of a
 * reserved function adds 0 to the first, so a second in which only
 * reserved functions ran still shows the claimed allocation.
 *
 * Per provisioned config (FunctionName + Resource `name:qualifier`, and with
 * ExecutedVersion): ProvisionedConcurrencyInvocations and
 * ProvisionedConcurrencySpilloverInvocations (one is 1, the other 0, as
 * Errors is 0 or 1), ProvisionedConcurrentExecutions (a gauge like
 * ConcurrentExecutions, of invocations on provisioned environments) and
 * ProvisionedConcurrencyUtilization (that over the allocated environments).
 */
import type { Dimensions, InvocationFacts, Sample } from "./lambda-metrics";
import { busyShares, canonicalDimensions } from "./lambda-metrics";

/** What the lease and the invoke target knew about the invocation's concurrency. */
export interface ConcurrencyFacts {
  /** The function has no reserved concurrency. */
  unreserved: boolean;
  /** The tenant's concurrency limit minus what its unreserved pool may use. */
  allocatedConcurrency: number;
  /** Set when the executed version has a provisioned concurrency config. */
  provisioned?: ProvisionedFacts;
}

export interface ProvisionedFacts {
  /** The alias or version the config is on. */
  qualifier: string;
  /** Environments of the config initialised when the lease was granted. */
  allocated: number;
  /** The invocation ran on one of them (false: it spilled over to on-demand). */
  onProvisioned: boolean;
}

export function accountConcurrencySamples(facts: InvocationFacts, c: ConcurrencyFacts): Sample[] {
  const counts = c.unreserved && c.provisioned?.onProvisioned !== true;
  const derived = { metric: "ClaimedAccountConcurrency", level: Math.max(0, Math.round(c.allocatedConcurrency)) };
  return busyShares(facts.atMs, facts.durationMs).map(({ second, value }) => ({
    metric: "UnreservedConcurrentExecutions",
    unit: "Count",
    dimensions: [],
    value: counts ? value : 0,
    second,
    gauge: true,
    derived,
  }));
}

export function provisionedSamples(facts: InvocationFacts, p: ProvisionedFacts): Sample[] {
  const name: [string, string] = ["FunctionName", facts.functionName];
  const resource: [string, string] = ["Resource", `${facts.functionName}:${p.qualifier}`];
  const sets: Dimensions[] = [canonicalDimensions([name, resource]), canonicalDimensions([name, resource, ["ExecutedVersion", facts.executedVersion]])];
  const second = Math.floor(facts.atMs / 1000);
  const samples: Sample[] = [];
  for (const dimensions of sets) {
    samples.push(
      { metric: "ProvisionedConcurrencyInvocations", unit: "Count", dimensions, value: p.onProvisioned ? 1 : 0, second },
      { metric: "ProvisionedConcurrencySpilloverInvocations", unit: "Count", dimensions, value: p.onProvisioned ? 0 : 1, second },
    );
  }
  if (!p.onProvisioned) return samples;
  for (const share of busyShares(facts.atMs, facts.durationMs)) {
    for (const dimensions of sets) {
      samples.push({ metric: "ProvisionedConcurrentExecutions", unit: "Count", dimensions, value: share.value, second: share.second, gauge: true });
      if (p.allocated > 0) {
        samples.push({ metric: "ProvisionedConcurrencyUtilization", unit: "Count", dimensions, value: share.value / p.allocated, second: share.second, gauge: true });
      }
    }
  }
  return samples;
}
