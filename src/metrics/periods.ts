/**
 * Time rules of the metrics store and its API: the two bucket resolutions,
 * how long each is kept, which periods CloudWatch accepts, and how stored
 * buckets fold into the datapoints of a period. Pure.
 */
import type { Aggregate } from "./aggregate";
import { emptyAggregate, mergeInto } from "./aggregate";

/** High-resolution (1 s) buckets, kept 3 hours as CloudWatch keeps sub-minute data. */
export const SECOND_RESOLUTION_S = 1;
export const SECOND_RETENTION_S = 3 * 3600;
/** Standard (1 min) buckets, kept 15 days. */
export const MINUTE_RESOLUTION_S = 60;
export const MINUTE_RETENTION_S = 15 * 86_400;

/** Periods below a minute CloudWatch accepts for high-resolution metrics. */
const SUB_MINUTE_PERIODS_S = [1, 5, 10, 20, 30];

/** A period CloudWatch accepts: 1, 5, 10, 20, 30, or a multiple of 60 seconds. */
export function isValidPeriod(periodS: number): boolean {
  return Number.isInteger(periodS) && periodS > 0 && (SUB_MINUTE_PERIODS_S.includes(periodS) || periodS % 60 === 0);
}

/** The resolution a period is computed from: seconds for sub-minute periods, minutes otherwise. */
export function resolutionFor(periodS: number): number {
  return periodS < MINUTE_RESOLUTION_S ? SECOND_RESOLUTION_S : MINUTE_RESOLUTION_S;
}

export function bucketStart(epochS: number, resolutionS: number): number {
  return Math.floor(epochS / resolutionS) * resolutionS;
}

export interface StoredBucket {
  /** Start of the bucket, epoch seconds. */
  start: number;
  agg: Aggregate;
}

/**
 * Folds buckets into periods of `periodS` starting at `startS` (rounded down
 * to the resolution), keeping those that start before `endS`. Returns the
 * non-empty periods in ascending time.
 */
export function foldIntoPeriods(buckets: readonly StoredBucket[], startS: number, endS: number, periodS: number): StoredBucket[] {
  const origin = bucketStart(startS, resolutionFor(periodS));
  const periods = new Map<number, Aggregate>();
  for (const bucket of buckets) {
    if (bucket.start < origin || bucket.start >= endS) continue;
    const start = origin + Math.floor((bucket.start - origin) / periodS) * periodS;
    let agg = periods.get(start);
    if (!agg) periods.set(start, (agg = emptyAggregate()));
    mergeInto(agg, bucket.agg);
  }
  return [...periods].sort((a, b) => a[0] - b[0]).map(([start, agg]) => ({ start, agg }));
}
