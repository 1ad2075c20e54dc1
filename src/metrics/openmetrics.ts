/**
 * The Prometheus text exposition format (version 0.0.4, which Prometheus and
 * every OpenMetrics scraper read): `# HELP`, `# TYPE`, then one line per
 * sample, `name{label="value",…} number`. Pure; the operator's
 * `GET /admin/metrics` (src/routes/admin-metrics.ts) renders with it.
 *
 * Hand-written: the format is a dozen lines of escaping rules, and the
 * client libraries (prom-client) keep a global registry built for Node's
 * long-lived process, not for one answer per request in a Worker.
 */

export type MetricType = "gauge" | "counter";

export interface MetricFamily {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`. */
  name: string;
  help: string;
  type: MetricType;
  samples: Array<{ labels?: Record<string, string | number>; value: number }>;
}

/** Content-Type of the format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value: backslash, double quote and line feed escaped. */
function labelValue(value: string | number): string {
  return String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text: backslash and line feed escaped. */
function helpText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`metric name ${JSON.stringify(family.name)} is not valid`);
    lines.push(`# HELP ${family.name} ${helpText(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      for (const [label] of labels) if (!LABEL.test(label)) throw new Error(`label name ${JSON.stringify(label)} is not valid`);
      const set = labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${labelValue(v)}"`).join(",")}}`;
      lines.push(`${family.name}${set} ${numberText(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
