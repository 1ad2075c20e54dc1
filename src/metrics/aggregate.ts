/**
 * The statistic set of one metric over one time bucket, as CloudWatch keeps
 * it: sample count, sum, minimum, maximum, and a distribution for the
 * percentiles. The distribution is a sparse log-scale histogram (buckets
 * HISTOGRAM_GROWTH apart), so a percentile is within HISTOGRAM_RELATIVE_ERROR
 * of the exact one whatever the number of samples, and two buckets merge by
 * adding counts. Pure: no bindings.
 */

/** Neighbouring histogram buckets are 1 % apart: a percentile is off by at most half of that. */
const HISTOGRAM_GROWTH = 1.01;
export const HISTOGRAM_RELATIVE_ERROR = (HISTOGRAM_GROWTH - 1) / 2;
const LOG_GROWTH = Math.log(HISTOGRAM_GROWTH);
/** Histogram key of zero and negative samples (Lambda's metrics are never negative). */
const NON_POSITIVE = "z";

export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Histogram bucket index (or "z") → samples in it. */
  histogram: Record<string, number>;
}

export function emptyAggregate(): Aggregate {
  return { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, histogram: {} };
}

function bucketOf(value: number): string {
  return value > 0 ? String(Math.round(Math.log(value) / LOG_GROWTH)) : NON_POSITIVE;
}

function valueOfBucket(key: string): number {
  return key === NON_POSITIVE ? 0 : HISTOGRAM_GROWTH ** Number(key);
}

/** Adds one sample (in place). */
export function addSample(target: Aggregate, value: number): void {
  target.count += 1;
  target.sum += value;
  if (value < target.min) target.min = value;
  if (value > target.max) target.max = value;
  const key = bucketOf(value);
  target.histogram[key] = (target.histogram[key] ?? 0) + 1;
}

/** Adds every sample of `source` to `target` (in place). */
export function mergeInto(target: Aggregate, source: Aggregate): void {
  target.count += source.count;
  target.sum += source.sum;
  if (source.min < target.min) target.min = source.min;
  if (source.max > target.max) target.max = source.max;
  for (const [key, n] of Object.entries(source.histogram)) target.histogram[key] = (target.histogram[key] ?? 0) + n;
}

export function aggregateOf(values: readonly number[]): Aggregate {
  const result = emptyAggregate();
  for (const value of values) addSample(result, value);
  return result;
}

/**
 * The `p`th percentile (0 < p ≤ 100) by nearest rank: the smallest sample
 * with at least p % of the samples at or below it, read from the histogram
 * and kept within the bucket's true minimum and maximum.
 */
export function percentile(agg: Aggregate, p: number): number | undefined {
  if (agg.count === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * agg.count));
  // The extremes are known exactly.
  if (rank === agg.count) return agg.max;
  if (rank === 1) return agg.min;
  const keys = Object.keys(agg.histogram).sort((a, b) => (a === NON_POSITIVE ? -1 : b === NON_POSITIVE ? 1 : Number(a) - Number(b)));
  let seen = 0;
  for (const key of keys) {
    seen += agg.histogram[key] ?? 0;
    if (seen >= rank) return Math.min(agg.max, Math.max(agg.min, valueOfBucket(key)));
  }
  return agg.max;
}

/** `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`, or a percentile `p0.0`–`p100`. */
export type Statistic = "SampleCount" | "Average" | "Sum" | "Minimum" | "Maximum" | { percentile: number; name: string };

export const STANDARD_STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"] as const;
const PERCENTILE = /^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$/;

/** Reads a statistic name as CloudWatch writes it; undefined if it is not one cellfn computes. */
export function parseStatistic(name: string): Statistic | undefined {
  if ((STANDARD_STATISTICS as readonly string[]).includes(name)) return name as Statistic;
  if (!PERCENTILE.test(name)) return undefined;
  return { percentile: Number(name.slice(1)), name };
}

/** The statistic's value over the aggregate; undefined for an empty one. */
export function statisticOf(agg: Aggregate, stat: Statistic): number | undefined {
  if (agg.count === 0) return undefined;
  if (typeof stat === "object") return percentile(agg, stat.percentile);
  switch (stat) {
    case "SampleCount":
      return agg.count;
    case "Average":
      return agg.sum / agg.count;
    case "Sum":
      return agg.sum;
    case "Minimum":
      return agg.min;
    case "Maximum":
      return agg.max;
  }
}
