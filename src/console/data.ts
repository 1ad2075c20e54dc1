/**
 * What the console's pages show, read through the same tenant-scoped stores
 * the APIs use: a tenant's functions (D1 via its FunctionStore), their
 * metrics (its MetricStore), their logs (its LogGroups); and, for the
 * operator, tenants and the cells' queues. A tenant page only ever reads
 * through `scope`, which is built from the signed-in key's tenant.
 */
import { QueueManager } from "../async/queue-manager";
import { asyncLayout, roleQueueName, shardQueueName } from "../async/queues";
import type { AliasRow, FunctionRow, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { logGroupObject } from "../logs/groups";
import type { Statistic } from "../metrics/aggregate";
import { LAMBDA_NAMESPACE } from "../metrics/lambda-metrics";
import { MetricStore } from "../metrics/metric-store";
import { resolutionFor } from "../metrics/periods";
import type { TenantScope } from "../services/scope";
import type { ChartRange, ChartSeries, ReportFields } from "./series";
import { CHART_RANGES, chartSeries, parseReport } from "./series";

const FUNCTIONS_SHOWN_MAX = 200;
const SPARKLINE_SECONDS = 3600;
const SPARKLINE_PERIOD_S = 300;
const RECENT_INVOCATIONS_SHOWN = 25;
const RECENT_LOG_WINDOW_MS = 3600_000;
const LOG_LINES_SHOWN = 100;

interface MetricRead {
  metric: string;
  stat: Statistic;
  counts: boolean;
}

async function seriesOf(scope: TenantScope, functionName: string, reads: readonly MetricRead[], fromS: number, toS: number, periodS: number): Promise<ChartSeries[]> {
  const dimensions = [["FunctionName", functionName]] as const;
  const stored = await MetricStore.of(scope.env, scope.principal.tenantId).readMany(
    reads.map((read) => ({ namespace: LAMBDA_NAMESPACE, metric: read.metric, dimensions, resolution: resolutionFor(periodS), fromS, toS })),
  );
  return reads.map((read, i) => chartSeries(stored[i]?.buckets ?? [], fromS, toS, periodS, read.stat, read.counts));
}

export interface FunctionSummary {
  row: VersionRow;
  invocations: ChartSeries;
  errors: ChartSeries;
}

export async function functionSummaries(scope: TenantScope): Promise<FunctionSummary[]> {
  const rows = await scope.store.listLatest(undefined, FUNCTIONS_SHOWN_MAX);
  const toS = Math.ceil(Date.now() / 1000);
  const fromS = toS - SPARKLINE_SECONDS;
  const reads: MetricRead[] = [
    { metric: "Invocations", stat: "Sum", counts: true },
    { metric: "Errors", stat: "Sum", counts: true },
  ];
  return Promise.all(
    rows.map(async (row) => {
      const [invocations, errors] = await seriesOf(scope, row.functionName, reads, fromS, toS, SPARKLINE_PERIOD_S);
      return { row, invocations: invocations ?? { t: [], v: [] }, errors: errors ?? { t: [], v: [] } };
    }),
  );
}

export interface FunctionChart {
  title: string;
  unit: string;
  series: Array<{ label: string; data: ChartSeries }>;
}

export interface RecentInvocation extends ReportFields {
  timestamp: number;
  outcome: "success" | "error" | "timeout";
}

export interface FunctionDetail {
  fn: FunctionRow;
  latest: VersionRow;
  versions: VersionRow[];
  aliases: AliasRow[];
  charts: FunctionChart[];
  recent: RecentInvocation[];
}

/** Everything the function page shows; null when the tenant has no such function. */
export async function functionDetail(scope: TenantScope, name: string, range: ChartRange, opts: { iteratorAge?: boolean } = {}): Promise<FunctionDetail | null> {
  const [fn, latest] = await Promise.all([scope.store.getFunction(name), scope.store.getVersion(name, LATEST)]);
  if (!fn || !latest) return null;
  const { seconds, periodS } = CHART_RANGES[range];
  const toS = Math.ceil(Date.now() / 1000);
  const fromS = toS - seconds;
  const reads: MetricRead[] = [
    { metric: "Invocations", stat: "Sum", counts: true },
    { metric: "Errors", stat: "Sum", counts: true },
    { metric: "Throttles", stat: "Sum", counts: true },
    { metric: "Duration", stat: { percentile: 50, name: "p50" }, counts: false },
    { metric: "Duration", stat: { percentile: 99, name: "p99" }, counts: false },
    { metric: "Duration", stat: "Maximum", counts: false },
    { metric: "ConcurrentExecutions", stat: "Maximum", counts: false },
    ...(opts.iteratorAge ? [{ metric: "IteratorAge", stat: "Maximum", counts: false } as const] : []),
  ];
  const [versions, aliases, series, recent] = await Promise.all([
    scope.store.listVersions(name, 0, 50),
    scope.store.listAliases(name, undefined, 50),
    seriesOf(scope, name, reads, fromS, toS, periodS),
    recentInvocations(scope, latest.config.LoggingConfig.LogGroup),
  ]);
  const empty: ChartSeries = { t: [], v: [] };
  const charts: FunctionChart[] = [
    { title: "Invocations", unit: "Count", series: [{ label: "Invocations", data: series[0] ?? empty }] },
    { title: "Errors and throttles", unit: "Count", series: [{ label: "Errors", data: series[1] ?? empty }, { label: "Throttles", data: series[2] ?? empty }] },
    {
      title: "Duration",
      unit: "Milliseconds",
      series: [{ label: "p50", data: series[3] ?? empty }, { label: "p99", data: series[4] ?? empty }, { label: "Maximum", data: series[5] ?? empty }],
    },
    { title: "Concurrent executions", unit: "Count", series: [{ label: "Maximum", data: series[6] ?? empty }] },
  ];
  if (opts.iteratorAge) charts.push({ title: "Iterator age", unit: "Milliseconds", series: [{ label: "Maximum", data: series[7] ?? empty }] });
  return { fn, latest, versions: versions.filter((v) => v.version !== LATEST), aliases, charts, recent };
}

const RECENT_PATTERN = `?"REPORT RequestId" ?"Invoke Error" ?"Task timed out"`;

/** The last invocations of the function, from the REPORT lines of its log group (and its error lines for the outcome). */
async function recentInvocations(scope: TenantScope, logGroup: string): Promise<RecentInvocation[]> {
  const group = logGroupObject(scope.env, scope.principal.tenantId, logGroup);
  const { events } = await group.filter({ range: { start: Date.now() - RECENT_LOG_WINDOW_MS }, pattern: RECENT_PATTERN, limit: 5000 });
  const failed = new Set<string>();
  const reports: RecentInvocation[] = [];
  for (const event of events) {
    const report = parseReport(event.message);
    if (report) {
      reports.push({ ...report, timestamp: event.ts, outcome: report.status === "timeout" ? "timeout" : "success" });
      continue;
    }
    const requestId = /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/.exec(event.message)?.[1];
    if (requestId) failed.add(requestId);
  }
  return reports
    .map((r) => (r.outcome === "success" && failed.has(r.requestId) ? { ...r, outcome: "error" as const } : r))
    .slice(-RECENT_INVOCATIONS_SHOWN)
    .reverse();
}

export interface LogLines {
  lines: Array<{ timestamp: number; message: string }>;
  /** Where the next poll continues: the group's last event id, StartLiveTail's cursor. */
  cursor: number;
}

/**
 * The live tail of the function page: the lines ingested after `cursor`, read
 * as a StartLiveTail session reads them (by event id, so a line shipped late
 * with an earlier timestamp still shows), or, on the first poll, the last
 * LOG_LINES_SHOWN of the last hour and the cursor to go on from.
 */
export async function logLines(scope: TenantScope, logGroup: string, cursor: number | undefined): Promise<LogLines> {
  const group = logGroupObject(scope.env, scope.principal.tenantId, logGroup);
  const shown = (events: readonly { ts: number; message: string }[]) => events.slice(-LOG_LINES_SHOWN).map((e) => ({ timestamp: e.ts, message: e.message }));
  if (cursor !== undefined) {
    const read = await group.liveTail(cursor, { pattern: "" });
    return { lines: shown(read.events), cursor: read.cursor };
  }
  // The cursor first: a line ingested while the recent ones are read comes with the next poll, not twice.
  const { cursor: now } = await group.liveTail(null, { pattern: "" });
  const { events } = await group.filter({ range: { start: Date.now() - RECENT_LOG_WINDOW_MS }, pattern: "", limit: 10_000 });
  return { lines: shown(events.filter((e) => e.id <= now)), cursor: now };
}

export interface OperatorOverview {
  tenants: Array<{ id: string; name: string; accountId: string; cell: number; concurrencyLimit: number; throttlesLastHour: number; invocationsLastHour: number }>;
  cells: Array<{ cell: number; depths: Record<string, number>; sidelined: string[]; lowPriorityAfterSeconds: number | null }>;
}

const OPERATOR_TENANTS_MAX = 100;

export async function operatorOverview(env: Env): Promise<OperatorOverview> {
  const tenants = (await new TenantStore(database(env.DB)).listTenants()).slice(0, OPERATOR_TENANTS_MAX);
  const cellCount = Number(env.CELL_COUNT);
  const toS = Math.ceil(Date.now() / 1000);
  const window = { namespace: LAMBDA_NAMESPACE, dimensions: [], resolution: 60, fromS: toS - 3600, toS };
  const [usage, cells] = await Promise.all([
    Promise.all(tenants.map((t) => MetricStore.of(env, t.id).readMany([{ ...window, metric: "Throttles" }, { ...window, metric: "Invocations" }]))),
    QueueManager.allCells(env),
  ]);
  const total = (read: { buckets: Array<{ agg: { sum: number } }> } | null | undefined) => (read?.buckets ?? []).reduce((n, b) => n + b.agg.sum, 0);
  return {
    tenants: tenants.map((t, i) => ({
      id: t.id,
      name: t.name,
      accountId: t.accountId,
      cell: t.cell % cellCount,
      concurrencyLimit: t.concurrencyLimit,
      throttlesLastHour: total(usage[i]?.[0]),
      invocationsLastHour: total(usage[i]?.[1]),
    })),
    cells: cells.map((c) => ({
      cell: c.cell,
      depths: { ...allQueuesOf(env, c.cell), ...c.depths }, sidelined: c.tenants.filter((t) => t.sidelined).map((t) => t.tenantId), lowPriorityAfterSeconds: c.lowPriorityAfterSeconds,
    })),
  };
}

/** Every async queue of a cell at depth 0 (the manager reports only queues that have seen events). */
function allQueuesOf(env: Env, cell: number): Record<string, number> {
  const names = [
    ...Array.from({ length: asyncLayout(env).queuesPerCell }, (_, i) => shardQueueName(cell, i)),
    roleQueueName(cell, "sideline"),
    roleQueueName(cell, "lowpri"),
    roleQueueName(cell, "dlq"),
  ];
  return Object.fromEntries(names.map((name) => [name, 0]));
}
