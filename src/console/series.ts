/**
 * What the console's charts and tables show, computed from stored data:
 * chart series with one point per period (counts filled with 0, other
 * statistics left as gaps), and the fields of REPORT lines. Pure.
 */
import type { Statistic } from "../metrics/aggregate";
import { statisticOf } from "../metrics/aggregate";
import type { StoredBucket } from "../metrics/periods";
import { bucketStart, foldIntoPeriods, resolutionFor } from "../metrics/periods";

export interface ChartSeries {
  /** Period starts, epoch seconds. */
  t: number[];
  v: Array<number | null>;
}

/** The time ranges the function page offers, with the period each is charted at. */
export const CHART_RANGES = {
  "15m": { seconds: 900, periodS: 10 },
  "1h": { seconds: 3600, periodS: 60 },
  "3h": { seconds: 3 * 3600, periodS: 60 },
  "24h": { seconds: 86_400, periodS: 600 },
  "7d": { seconds: 7 * 86_400, periodS: 3600 },
} as const;
export type ChartRange = keyof typeof CHART_RANGES;

export function chartRange(raw: string | undefined): ChartRange {
  return raw !== undefined && Object.hasOwn(CHART_RANGES, raw) ? (raw as ChartRange) : "1h";
}

export function chartSeries(buckets: readonly StoredBucket[], fromS: number, toS: number, periodS: number, stat: Statistic, zeroWhenEmpty: boolean): ChartSeries {
  const folded = new Map(foldIntoPeriods(buckets, fromS, toS, periodS).map((p) => [p.start, p.agg]));
  const t: number[] = [];
  const v: Array<number | null> = [];
  for (let start = bucketStart(fromS, resolutionFor(periodS)); start < toS; start += periodS) {
    const agg = folded.get(start);
    t.push(start);
    v.push(agg ? (statisticOf(agg, stat) ?? null) : zeroWhenEmpty ? 0 : null);
  }
  return { t, v };
}

export interface ReportFields {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  initDurationMs?: number;
  status?: string;
}

/** The fields of a `REPORT RequestId: …\tDuration: … ms\t…` line; null for any other line. */
export function parseReport(line: string): ReportFields | null {
  if (!line.startsWith("REPORT RequestId: ")) return null;
  const fields = new Map<string, string>();
  for (const part of line.slice("REPORT ".length).split("\t")) {
    const colon = part.indexOf(": ");
    if (colon > 0) fields.set(part.slice(0, colon), part.slice(colon + 2));
  }
  const requestId = fields.get("RequestId");
  const duration = Number.parseFloat(fields.get("Duration") ?? "");
  if (!requestId || Number.isNaN(duration)) return null;
  const report: ReportFields = { requestId, durationMs: duration, billedDurationMs: Number.parseFloat(fields.get("Billed Duration") ?? "0") };
  const init = Number.parseFloat(fields.get("Init Duration") ?? "");
  if (!Number.isNaN(init)) report.initDurationMs = init;
  const status = fields.get("Status");
  if (status) report.status = status;
  return report;
}
