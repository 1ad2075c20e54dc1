/**
 * Records metric samples off the invoke's hot path, as the log shipper does
 * with log lines: samples are folded in this isolate into one aggregate per
 * (tenant, series, second) and written to the tenant's MetricStore in one
 * call every METRICS_FLUSH_MS, under the waitUntil of the call that started
 * the batch. An invoke pays a few map updates, never a round trip.
 */
import type { Aggregate } from "./aggregate";
import { addSample, aggregateOf, emptyAggregate } from "./aggregate";
import type { Sample } from "./lambda-metrics";
import { LAMBDA_NAMESPACE } from "./lambda-metrics";
import { MetricStore } from "./metric-store";
import type { BucketWrite } from "./metric-store";

/**
 * How long samples wait in this isolate before they are written: one
 * MetricStore call per tenant and second (a second is the finest period
 * anyway), so its cost is spread over every invocation of that second.
 */
export const METRICS_FLUSH_MS = 1000;

const pending = new Map<string, Map<string, BucketWrite>>();

export function recordSamples(env: Env, tenantId: string, samples: readonly Sample[], waitUntil: (promise: Promise<unknown>) => void): void {
  if (samples.length === 0) return;
  let batch = pending.get(tenantId);
  if (!batch) {
    const created = new Map<string, BucketWrite>();
    pending.set(tenantId, created);
    waitUntil(flushLater(env, tenantId, created));
    batch = created;
  }
  for (const sample of samples) {
    const key = `${sample.metric}\u0000${JSON.stringify(sample.dimensions)}\u0000${sample.second}`;
    let write = batch.get(key);
    if (!write) {
      write = {
        namespace: LAMBDA_NAMESPACE,
        metric: sample.metric,
        dimensions: sample.dimensions,
        unit: sample.unit,
        second: sample.second,
        gauge: sample.gauge === true,
        agg: emptyAggregate(),
        ...(sample.derived ? { derived: { ...sample.derived } } : {}),
      };
      batch.set(key, write);
    } else if (sample.derived && write.derived) {
      write.derived.level = Math.max(write.derived.level, sample.derived.level);
    }
    if (write.gauge) write.agg = gaugeSum(write.agg, sample.value);
    else addSample(write.agg, sample.value);
  }
}

/**
 * Writes samples at once, awaited: for rare events on paths that await
 * their own writes anyway (a destination that could not be delivered to).
 */
export async function recordSamplesNow(env: Env, tenantId: string, samples: readonly Sample[]): Promise<void> {
  const writes = new Map<string, BucketWrite>();
  for (const sample of samples) {
    const agg = emptyAggregate();
    addSample(agg, sample.value);
    writes.set(`${sample.metric}\u0000${JSON.stringify(sample.dimensions)}`, {
      namespace: LAMBDA_NAMESPACE,
      metric: sample.metric,
      dimensions: sample.dimensions,
      unit: sample.unit,
      second: sample.second,
      gauge: false,
      agg,
    });
  }
  try {
    await MetricStore.of(env, tenantId).record([...writes.values()], Date.now());
  } catch (error) {
    console.error(`metrics: could not store ${samples.length} sample(s) of tenant ${tenantId}`, error);
  }
}

/** A gauge's second holds one value: the running sum of what was recorded for it. */
function gaugeSum(agg: Aggregate, value: number): Aggregate {
  return aggregateOf([agg.sum + value]);
}

async function flushLater(env: Env, tenantId: string, batch: Map<string, BucketWrite>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, METRICS_FLUSH_MS));
  pending.delete(tenantId);
  try {
    await MetricStore.of(env, tenantId).record([...batch.values()], Date.now());
  } catch (error) {
    // The invocations have answered already; their metrics must not fail anything else.
    console.error(`metrics: could not store ${batch.size} bucket(s) of tenant ${tenantId}`, error);
  }
}
