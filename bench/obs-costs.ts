/**
 * Issue 13's two cost targets, read from bench:invoke's interleaved rounds:
 *
 *   metrics  (c) records Lambda's metrics, (c-nomet) is the same handler in a
 *            function whose recording the platform's METRICS_RECORDING
 *            switch turns off ("off:bench-nomet-", on the same `wrangler dev`):
 *            throughput (c)/(c-nomet) ≥ 0.98.
 *   logging  (c-log) is (c) whose handler writes one console line:
 *            (c-log) − (c) p50 ≤ 0.2 ms.
 *
 * Differences of two merged p50s moved by more than the target between quiet
 * runs (0.16 and 0.37 ms), so the verdict uses the median of the per-round
 * differences: each round runs the cases back to back under the same
 * background load, and one disturbed round cannot move a median. The merged
 * figures are printed next to it, and the server CPU per request (wrangler
 * dev + workerd, from /proc): on a machine other processes load, the CPU a
 * request costs moves less than its latency or throughput.
 */
import { percentile } from "./lib/lambda";

export const TARGET_METRICS_THROUGHPUT_RATIO = 0.98;
export const TARGET_LOGGING_P50_DELTA_MS = 0.2;

/** The measured part of one slice of one case (bench/invoke.ts's RunResult). */
export interface SliceRun {
  latencies: number[];
  elapsedS: number;
  /** CPU ms the servers used during the slice, when /proc could be read. */
  serverCpuMs?: number;
}

export interface CostCheck {
  concurrency: number;
  /** Median over the rounds of the per-round value: what `pass` is judged on. */
  median: number;
  /** The same figure over all rounds merged (p50 of every sample, or total throughput). */
  merged: number;
  perRound: number[];
  /** Server CPU ms per request: [base case, the other case], over all rounds. */
  cpuMsPerRequest: [number, number];
  target: number;
  pass: boolean;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const p50 = (runs: readonly SliceRun[]) => percentile(runs.flatMap((r) => r.latencies), 50);
const cpuPerRequest = (runs: readonly SliceRun[]) =>
  runs.reduce((n, r) => n + (r.serverCpuMs ?? Number.NaN), 0) / runs.reduce((n, r) => n + r.latencies.length, 0);
const rps = (runs: readonly SliceRun[]) => runs.reduce((n, r) => n + r.latencies.length, 0) / runs.reduce((s, r) => s + r.elapsedS, 0);

/** Pairs the i-th slice of each case (round i); rounds where either side got no sample are skipped. */
function perRound(base: readonly SliceRun[], other: readonly SliceRun[], value: (b: SliceRun, o: SliceRun) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(base.length, other.length); i++) {
    if (base[i]!.latencies.length && other[i]!.latencies.length) out.push(value(base[i]!, other[i]!));
  }
  return out;
}

/** Throughput with metrics over throughput without: (c)/(c-nomet). */
export function metricsCost(concurrency: number, recorded: readonly SliceRun[], notRecorded: readonly SliceRun[]): CostCheck {
  const rounds = perRound(notRecorded, recorded, (off, on) => rps([on]) / rps([off]));
  const m = median(rounds);
  const cpu: [number, number] = [cpuPerRequest(notRecorded), cpuPerRequest(recorded)];
  return { concurrency, median: m, merged: rps(recorded) / rps(notRecorded), perRound: rounds, cpuMsPerRequest: cpu, target: TARGET_METRICS_THROUGHPUT_RATIO, pass: m >= TARGET_METRICS_THROUGHPUT_RATIO };
}

/** p50 of the logging handler minus p50 of the plain one: (c-log) − (c). */
export function loggingCost(concurrency: number, plain: readonly SliceRun[], logged: readonly SliceRun[]): CostCheck {
  const rounds = perRound(plain, logged, (p, l) => p50([l]) - p50([p]));
  const m = median(rounds);
  const cpu: [number, number] = [cpuPerRequest(plain), cpuPerRequest(logged)];
  return { concurrency, median: m, merged: p50(logged) - p50(plain), perRound: rounds, cpuMsPerRequest: cpu, target: TARGET_LOGGING_P50_DELTA_MS, pass: m <= TARGET_LOGGING_P50_DELTA_MS };
}

const fmt = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

export function costLines(metrics: readonly CostCheck[], logging: readonly CostCheck[]): string[] {
  const lines: string[] = [];
  for (const c of metrics) {
    lines.push(
      `concurrency ${String(c.concurrency).padStart(2)}: metrics cost (c)/(c-nomet) throughput ${fmt(c.median, 3)} median of ${c.perRound.length} rounds ` +
        `(all rounds merged ${fmt(c.merged, 3)}; rounds ${fmt(Math.min(...c.perRound), 3)}..${fmt(Math.max(...c.perRound), 3)}) (target >= ${c.target}: ${c.pass ? "PASS" : "MISS"}); ` +
        `server CPU ms/request (c-nomet) ${fmt(c.cpuMsPerRequest[0], 2)}, (c) ${fmt(c.cpuMsPerRequest[1], 2)}, ratio ${fmt(c.cpuMsPerRequest[0] / c.cpuMsPerRequest[1], 3)}`,
    );
  }
  for (const c of logging) {
    lines.push(
      `concurrency ${String(c.concurrency).padStart(2)}: logging cost (c-log) - (c) p50 ${fmt(c.median, 2)} ms median of ${c.perRound.length} rounds ` +
        `(all rounds merged ${fmt(c.merged, 2)} ms; rounds ${fmt(Math.min(...c.perRound), 2)}..${fmt(Math.max(...c.perRound), 2)}) (target <= ${c.target} ms: ${c.pass ? "PASS" : "MISS"}); ` +
        `server CPU ms/request (c) ${fmt(c.cpuMsPerRequest[0], 2)}, (c-log) ${fmt(c.cpuMsPerRequest[1], 2)}`,
    );
  }
  return lines;
}

/**
 * The logging cost measured paired: (c) and (c-log) requests taken in turn by
 * the same closed-loop workers (bench/invoke.ts `mixedLoop`), so both see the
 * same background load and the same requests in flight. The verdict is on the
 * upper end of a 95 % bootstrap interval of the p50 difference: the target is
 * met only when the run resolves it (the interval says how well it did).
 */
export interface PairedCheck {
  concurrency: number;
  samples: [number, number];
  p50: [number, number];
  delta: number;
  interval: [number, number];
  target: number;
  pass: boolean;
}

const BOOTSTRAP_RESAMPLES = 400;

export function pairedLoggingCost(concurrency: number, plain: readonly number[], logged: readonly number[], random: () => number = Math.random): PairedCheck {
  const delta = percentile([...logged], 50) - percentile([...plain], 50);
  const resampledP50 = (values: readonly number[]) => {
    const draw = Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)]!);
    return percentile(draw, 50);
  };
  const deltas = Array.from({ length: BOOTSTRAP_RESAMPLES }, () => resampledP50(logged) - resampledP50(plain)).sort((a, b) => a - b);
  const interval: [number, number] = [percentile(deltas, 2.5), percentile(deltas, 97.5)];
  return {
    concurrency,
    samples: [plain.length, logged.length],
    p50: [percentile([...plain], 50), percentile([...logged], 50)],
    delta,
    interval,
    target: TARGET_LOGGING_P50_DELTA_MS,
    pass: interval[1] <= TARGET_LOGGING_P50_DELTA_MS,
  };
}

/**
 * The metrics cost measured paired: (c) and (c-nomet) taken in turn by the
 * same closed-loop workers. One closed-loop worker's throughput is the
 * inverse of its mean latency (Little's law), so at concurrency 1 the
 * throughput ratio (c)/(c-nomet) is mean(c-nomet) / mean(c) exactly; at
 * higher concurrency it is that ratio as long as the server shares its time
 * among the requests in flight (each request is many short event-loop turns),
 * and is diluted toward 1 where requests queue whole. The verdict is on the
 * LOWER end of a 95 % bootstrap interval of the ratio.
 */
export interface PairedMetricsCheck {
  concurrency: number;
  samples: [number, number];
  /** Mean latency ms: [metrics recorded (c), not recorded (c-nomet)]. */
  mean: [number, number];
  ratio: number;
  interval: [number, number];
  target: number;
  pass: boolean;
}

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;

export function pairedMetricsCost(concurrency: number, recorded: readonly number[], notRecorded: readonly number[], random: () => number = Math.random): PairedMetricsCheck {
  const resampledMean = (values: readonly number[]) => {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)]!;
    return sum / values.length;
  };
  const ratios = Array.from({ length: BOOTSTRAP_RESAMPLES }, () => resampledMean(notRecorded) / resampledMean(recorded)).sort((a, b) => a - b);
  const interval: [number, number] = [percentile(ratios, 2.5), percentile(ratios, 97.5)];
  return {
    concurrency,
    samples: [recorded.length, notRecorded.length],
    mean: [mean(recorded), mean(notRecorded)],
    ratio: mean(notRecorded) / mean(recorded),
    interval,
    target: TARGET_METRICS_THROUGHPUT_RATIO,
    pass: interval[0] >= TARGET_METRICS_THROUGHPUT_RATIO,
  };
}

export function pairedMetricsLines(checks: readonly PairedMetricsCheck[]): string[] {
  return checks.map(
    (c) =>
      `concurrency ${String(c.concurrency).padStart(2)}: metrics cost PAIRED throughput (c)/(c-nomet) = mean latency (c-nomet)/(c) ${fmt(c.ratio, 4)}, 95 % interval ${fmt(c.interval[0], 4)}..${fmt(c.interval[1], 4)} ` +
      `(mean ${fmt(c.mean[0], 3)} vs ${fmt(c.mean[1], 3)} ms; ${c.samples[0]} + ${c.samples[1]} samples) (target >= ${c.target}, judged on the interval's lower end: ${c.pass ? "PASS" : "MISS"})`,
  );
}

export function pairedLines(checks: readonly PairedCheck[]): string[] {
  return checks.map(
    (c) =>
      `concurrency ${String(c.concurrency).padStart(2)}: logging cost PAIRED (c-log) - (c) p50 ${fmt(c.delta, 3)} ms, 95 % interval ${fmt(c.interval[0], 3)}..${fmt(c.interval[1], 3)} ms ` +
      `(p50 ${fmt(c.p50[0], 2)} vs ${fmt(c.p50[1], 2)} ms; ${c.samples[0]} + ${c.samples[1]} samples) (target <= ${c.target} ms, judged on the interval's upper end: ${c.pass ? "PASS" : "MISS"})`,
  );
}
