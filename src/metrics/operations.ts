/**
 * GetMetricStatistics, GetMetricData and ListMetrics over the calling
 * tenant's MetricStore. The store is named by the tenant id from the
 * authenticated principal, never by anything in the request, so a request
 * naming another tenant's function finds no series: an empty answer, as
 * CloudWatch gives for a metric that was never published.
 */
import type { JsonServiceCall } from "../aws-json/service";
import type { Statistic } from "./aggregate";
import { statisticOf } from "./aggregate";
import { MetricsInput, invalidCombination, invalidNextToken, invalidValue } from "./input";
import type { MetricRef, TimeRange } from "./metric-input";
import { checkDatapointCount, DIMENSION_FILTERS_MAX, NAME_MAX_CHARS, readMetric, readPeriod, readTimeRange, statisticNamed } from "./metric-input";
import { MetricStore } from "./metric-store";
import type { StoredBucket } from "./periods";
import { foldIntoPeriods, resolutionFor } from "./periods";

const STATISTICS_MAX = 5;
const EXTENDED_STATISTICS_MAX = 10;
const QUERIES_MAX = 500;
const MAX_DATAPOINTS_DEFAULT = 100_800;
const LIST_PAGE_SIZE = 500;
/** RecentlyActive's one value: the last three hours. */
const RECENTLY_ACTIVE_S = 3 * 3600;
const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

async function periodsOf(
  call: JsonServiceCall,
  ref: MetricRef,
  range: TimeRange,
  periodS: number,
  unit: string | undefined,
): Promise<{ unit?: string; periods: StoredBucket[] }> {
  const stored = await MetricStore.of(call.env, call.principal.tenantId).read({
    ...ref,
    resolution: resolutionFor(periodS),
    fromS: Math.floor(range.startS),
    toS: Math.ceil(range.endS),
  });
  // A Unit the metric was not recorded with selects nothing, as on CloudWatch.
  if (!stored || (unit !== undefined && unit !== stored.unit)) return { periods: [] };
  return { unit: stored.unit, periods: foldIntoPeriods(stored.buckets, Math.floor(range.startS), Math.ceil(range.endS), periodS) };
}

export async function getMetricStatistics(body: Record<string, unknown>, call: JsonServiceCall): Promise<unknown> {
  const input = new MetricsInput(body);
  const ref = readMetric(input);
  const range = readTimeRange(input);
  const periodS = readPeriod(input);
  const standard = input.strings("Statistics") ?? [];
  const extended = input.strings("ExtendedStatistics") ?? [];
  if (standard.length === 0 && extended.length === 0) throw invalidCombination("Must specify either Statistics or ExtendedStatistics.");
  if (standard.length > STATISTICS_MAX) throw invalidValue(`The collection Statistics must not have a size greater than ${STATISTICS_MAX}.`);
  if (extended.length > EXTENDED_STATISTICS_MAX) throw invalidValue(`The collection ExtendedStatistics must not have a size greater than ${EXTENDED_STATISTICS_MAX}.`);
  const stats = standard.map((name) => statisticNamed(name, "Statistics"));
  if (stats.some((stat) => typeof stat === "object")) throw invalidValue("Percentiles go in ExtendedStatistics, not Statistics.");
  const percentiles = extended.map((name) => statisticNamed(name, "ExtendedStatistics"));
  if (percentiles.some((stat) => typeof stat !== "object")) throw invalidValue("ExtendedStatistics takes percentiles (pNN.NN); put standard statistics in Statistics.");
  const unit = input.string("Unit");
  checkDatapointCount(range, periodS);

  const { unit: storedUnit, periods } = await periodsOf(call, ref, range, periodS, unit);
  const datapoints = periods.map(({ start, agg }) => {
    const point: Record<string, unknown> = { Timestamp: start };
    for (const stat of stats) point[stat as string] = statisticOf(agg, stat);
    if (percentiles.length > 0) {
      point.ExtendedStatistics = Object.fromEntries(percentiles.map((stat) => [(stat as { name: string }).name, statisticOf(agg, stat)]));
    }
    if (storedUnit) point.Unit = storedUnit;
    return point;
  });
  return { Label: ref.metric, Datapoints: datapoints };
}

interface DataQuery {
  id: string;
  label: string;
  ref: MetricRef;
  periodS: number;
  stat: Statistic;
  unit: string | undefined;
  returnData: boolean;
}

function readDataQuery(query: MetricsInput, seen: Set<string>): DataQuery {
  const id = query.string("Id", { required: true, min: 1, max: NAME_MAX_CHARS }) ?? "";
  if (!QUERY_ID.test(id)) throw invalidValue(`The value ${id} for parameter MetricDataQueries.member.Id is not valid: it must start with a lowercase letter and contain only letters, digits and underscores.`);
  if (seen.has(id)) throw invalidValue(`The value ${id} for field Id in MetricDataQueries is not unique.`);
  seen.add(id);
  if (query.string("Expression") !== undefined) {
    throw invalidValue(`Metric math expressions are not supported by cellfn (query ${id}); use MetricStat.`);
  }
  const metricStat = query.structure("MetricStat");
  if (!metricStat) throw invalidValue(`Exactly one of Expression and MetricStat must be specified for query ${id}.`);
  const ref = readMetric(metricStat.structure("Metric", true) ?? metricStat);
  const periodS = readPeriod(metricStat);
  const stat = statisticNamed(metricStat.string("Stat", { required: true }) ?? "", "Stat");
  return { id, label: query.string("Label") ?? ref.metric, ref, periodS, stat, unit: metricStat.string("Unit"), returnData: query.boolean("ReturnData") ?? true };
}

interface SeriesResult {
  Id: string;
  Label: string;
  Timestamps: number[];
  Values: number[];
  StatusCode: "Complete";
}

export async function getMetricData(body: Record<string, unknown>, call: JsonServiceCall): Promise<unknown> {
  const input = new MetricsInput(body);
  const seen = new Set<string>();
  const queries = (input.structures("MetricDataQueries", { required: true, max: QUERIES_MAX }) ?? []).map((query) => readDataQuery(query, seen));
  const range = readTimeRange(input);
  const scanBy = input.string("ScanBy") ?? "TimestampDescending";
  if (scanBy !== "TimestampDescending" && scanBy !== "TimestampAscending") {
    throw invalidValue(`The value ${scanBy} for parameter ScanBy is not valid (TimestampDescending or TimestampAscending).`);
  }
  const maxDatapoints = input.number("MaxDatapoints") ?? MAX_DATAPOINTS_DEFAULT;
  if (!Number.isInteger(maxDatapoints) || maxDatapoints < 1) throw invalidValue("The parameter MaxDatapoints must be a positive integer.");
  const skip = readOffsetToken(input.string("NextToken"));

  const results: SeriesResult[] = [];
  for (const query of queries.filter((q) => q.returnData)) {
    const { periods } = await periodsOf(call, query.ref, range, query.periodS, query.unit);
    const points = periods.flatMap(({ start, agg }) => {
      const value = statisticOf(agg, query.stat);
      return value === undefined ? [] : [{ start, value }];
    });
    if (scanBy === "TimestampDescending") points.reverse();
    results.push({ Id: query.id, Label: query.label, Timestamps: points.map((p) => p.start), Values: points.map((p) => p.value), StatusCode: "Complete" });
  }
  // Pages cut the concatenation of every query's datapoints at MaxDatapoints.
  let offset = 0;
  let taken = 0;
  const page = results.map((result) => {
    const from = Math.max(0, skip - offset);
    const count = Math.max(0, Math.min(result.Values.length - from, maxDatapoints - taken));
    offset += result.Values.length;
    taken += count;
    return { ...result, Timestamps: result.Timestamps.slice(from, from + count), Values: result.Values.slice(from, from + count) };
  });
  const total = results.reduce((n, r) => n + r.Values.length, 0);
  const next = skip + taken < total ? { NextToken: btoa(JSON.stringify({ offset: skip + taken })) } : {};
  return { MetricDataResults: page, Messages: [], ...next };
}

function readOffsetToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(atob(token)) as { offset?: unknown };
    if (typeof parsed.offset === "number" && Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // falls through to the error below
  }
  throw invalidNextToken();
}

export async function listMetrics(body: Record<string, unknown>, call: JsonServiceCall): Promise<unknown> {
  const input = new MetricsInput(body);
  const namespace = input.string("Namespace", { min: 1, max: NAME_MAX_CHARS });
  const metric = input.string("MetricName", { min: 1, max: NAME_MAX_CHARS });
  const filters = (input.structures("Dimensions", { max: DIMENSION_FILTERS_MAX }) ?? []).map((filter) => {
    const name = filter.string("Name", { required: true, min: 1, max: NAME_MAX_CHARS }) ?? "";
    const value = filter.string("Value", { min: 1, max: 1024 });
    return value === undefined ? { name } : { name, value };
  });
  const recently = input.string("RecentlyActive");
  if (recently !== undefined && recently !== "PT3H") throw invalidValue(`The value ${recently} for parameter RecentlyActive is not valid (PT3H).`);
  const skip = readOffsetToken(input.string("NextToken"));

  const series = await MetricStore.of(call.env, call.principal.tenantId).list({
    ...(namespace === undefined ? {} : { namespace }),
    ...(metric === undefined ? {} : { metric }),
    dimensions: filters,
    ...(recently === undefined ? {} : { seenSince: Math.floor(Date.now() / 1000) - RECENTLY_ACTIVE_S }),
  });
  const page = series.slice(skip, skip + LIST_PAGE_SIZE);
  const next = skip + LIST_PAGE_SIZE < series.length ? { NextToken: btoa(JSON.stringify({ offset: skip + LIST_PAGE_SIZE })) } : {};
  return {
    Metrics: page.map((s) => ({ Namespace: s.namespace, MetricName: s.metric, Dimensions: s.dimensions.map(([Name, Value]) => ({ Name, Value })) })),
    ...next,
  };
}
