/**
 * The request parts GetMetricStatistics, GetMetricData and ListMetrics share:
 * a metric (namespace, name, dimensions), a time range, a period, a
 * statistic. Each check answers with CloudWatch's error and message.
 */
import type { Statistic } from "./aggregate";
import { parseStatistic } from "./aggregate";
import type { MetricsInput } from "./input";
import { invalidCombination, invalidValue } from "./input";
import type { Dimensions } from "./lambda-metrics";
import { canonicalDimensions } from "./lambda-metrics";
import { isValidPeriod } from "./periods";

/** CloudWatch's limits (API reference, GetMetricStatistics / GetMetricData / ListMetrics). */
export const NAME_MAX_CHARS = 255;
export const DIMENSIONS_MAX = 30;
export const DIMENSION_FILTERS_MAX = 10;
export const DATAPOINTS_PER_STATISTICS_CALL_MAX = 1440;

export interface MetricRef {
  namespace: string;
  metric: string;
  dimensions: Dimensions;
}

export function readMetric(input: MetricsInput): MetricRef {
  const namespace = input.string("Namespace", { required: true, min: 1, max: NAME_MAX_CHARS }) ?? "";
  const metric = input.string("MetricName", { required: true, min: 1, max: NAME_MAX_CHARS }) ?? "";
  const pairs: Array<[string, string]> = [];
  for (const dimension of input.structures("Dimensions", { max: DIMENSIONS_MAX }) ?? []) {
    const name = dimension.string("Name", { required: true, min: 1, max: NAME_MAX_CHARS }) ?? "";
    const value = dimension.string("Value", { required: true, min: 1, max: 1024 }) ?? "";
    if (pairs.some(([seen]) => seen === name)) throw invalidValue(`No metric may have more than one dimension named ${name}.`);
    pairs.push([name, value]);
  }
  return { namespace, metric, dimensions: canonicalDimensions(pairs) };
}

export interface TimeRange {
  startS: number;
  endS: number;
}

export function readTimeRange(input: MetricsInput): TimeRange {
  const startS = input.timestamp("StartTime", true) ?? 0;
  const endS = input.timestamp("EndTime", true) ?? 0;
  if (endS <= startS) throw invalidValue("The parameter StartTime must be less than the parameter EndTime.");
  return { startS, endS };
}

export function readPeriod(input: MetricsInput, member = "Period"): number {
  const period = input.number(member, true) ?? 0;
  if (period <= 0) throw invalidValue(`The parameter ${member} must be greater than 0.`);
  if (!isValidPeriod(period)) throw invalidValue(`The parameter ${member} must be 1, 5, 10, 20, 30, or a multiple of 60.`);
  return period;
}

export function statisticNamed(name: string, member: string): Statistic {
  const stat = parseStatistic(name);
  if (!stat) throw invalidValue(`The value ${name} for parameter ${member} is not a statistic cellfn supports (SampleCount, Average, Sum, Minimum, Maximum, or a percentile pNN.NN).`);
  return stat;
}

export function checkDatapointCount(range: TimeRange, periodS: number): void {
  const requested = Math.ceil((range.endS - range.startS) / periodS);
  if (requested > DATAPOINTS_PER_STATISTICS_CALL_MAX) {
    throw invalidCombination(
      `You have requested up to ${requested.toLocaleString("en-US")} datapoints, which exceeds the limit of ${DATAPOINTS_PER_STATISTICS_CALL_MAX.toLocaleString("en-US")}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  }
}
