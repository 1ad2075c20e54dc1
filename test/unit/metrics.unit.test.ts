import { describe, expect, it } from "vitest";
import { aggregateOf, HISTOGRAM_RELATIVE_ERROR, mergeInto, parseStatistic, percentile, statisticOf } from "../../src/metrics/aggregate";
import { accountConcurrencySamples, provisionedSamples } from "../../src/metrics/concurrency-samples";
import { canonicalDimensions, durableEndedSamples, durableStartedSamples, invocationSamples, throttleSamples } from "../../src/metrics/lambda-metrics";
import { foldIntoPeriods, isValidPeriod, resolutionFor } from "../../src/metrics/periods";
import { metricsRecordedFor, parseRecordingSwitch, recordsFor } from "../../src/metrics/recording-switch";

// Metric aggregation: statistics and percentiles over known samples, the
// merge of buckets, periods, and which samples an invocation produces.

const ONE_TO_THOUSAND = Array.from({ length: 1000 }, (_, i) => i + 1);

describe("aggregates", () => {
  it("counts, sums and bounds exactly", () => {
    const agg = aggregateOf([5, 1, 9, 3]);
    expect(statisticOf(agg, "SampleCount")).toBe(4);
    expect(statisticOf(agg, "Sum")).toBe(18);
    expect(statisticOf(agg, "Average")).toBe(4.5);
    expect(statisticOf(agg, "Minimum")).toBe(1);
    expect(statisticOf(agg, "Maximum")).toBe(9);
  });

  it("reads percentiles by nearest rank within the histogram's error", () => {
    const agg = aggregateOf(ONE_TO_THOUSAND);
    for (const [p, exact] of [[50, 500], [90, 900], [99, 990], [99.9, 999]] as const) {
      const value = percentile(agg, p) ?? 0;
      expect(Math.abs(value - exact) / exact).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR);
    }
    expect(percentile(agg, 100)).toBe(1000);
  });

  it("gives the exact value when all samples are equal, and nothing for an empty bucket", () => {
    expect(percentile(aggregateOf([42, 42, 42]), 50)).toBe(42);
    expect(statisticOf(aggregateOf([]), "Average")).toBeUndefined();
    expect(percentile(aggregateOf([0, 0, 7]), 50)).toBe(0);
  });

  it("merges buckets as if their samples had been one", () => {
    const merged = aggregateOf(ONE_TO_THOUSAND.slice(0, 400));
    mergeInto(merged, aggregateOf(ONE_TO_THOUSAND.slice(400)));
    const whole = aggregateOf(ONE_TO_THOUSAND);
    expect(merged).toEqual(whole);
  });

  it("parses CloudWatch statistic names", () => {
    expect(parseStatistic("Average")).toBe("Average");
    expect(parseStatistic("p99")).toEqual({ percentile: 99, name: "p99" });
    expect(parseStatistic("p99.9")).toEqual({ percentile: 99.9, name: "p99.9" });
    expect(parseStatistic("p100")).toEqual({ percentile: 100, name: "p100" });
    expect(parseStatistic("p101")).toBeUndefined();
    expect(parseStatistic("tm99")).toBeUndefined();
    expect(parseStatistic("average")).toBeUndefined();
  });
});

describe("METRICS_RECORDING, the benchmark switch", () => {
  it("is on unless it says off, for every function or those with a name prefix", () => {
    expect(parseRecordingSwitch("on")).toEqual({ kind: "on" });
    expect(parseRecordingSwitch(undefined)).toEqual({ kind: "on" });
    expect(parseRecordingSwitch("OFF")).toEqual({ kind: "on" });
    expect(parseRecordingSwitch("off:")).toEqual({ kind: "on" });
    expect(parseRecordingSwitch(" off ")).toEqual({ kind: "off" });
    expect(parseRecordingSwitch("off:bench-nomet-")).toEqual({ kind: "off-for-prefix", prefix: "bench-nomet-" });
    const prefix = parseRecordingSwitch("off:bench-nomet-");
    expect(recordsFor(prefix, "bench-nomet-echo")).toBe(false);
    expect(recordsFor(prefix, "bench-echo")).toBe(true);
    expect(recordsFor({ kind: "off" }, "bench-echo")).toBe(false);
    expect(recordsFor({ kind: "on" }, "bench-nomet-echo")).toBe(true);
  });

  it("reads the binding again when its value changes", () => {
    const envWith = (value: string) => ({ METRICS_RECORDING: value }) as Env;
    expect(metricsRecordedFor(envWith("off:a-"), "a-1")).toBe(false);
    expect(metricsRecordedFor(envWith("off:a-"), "b-1")).toBe(true);
    expect(metricsRecordedFor(envWith("on"), "a-1")).toBe(true);
    expect(metricsRecordedFor(envWith("off"), "b-1")).toBe(false);
  });
});

describe("periods", () => {
  it("accepts CloudWatch's periods only", () => {
    for (const ok of [1, 5, 10, 20, 30, 60, 300, 3600]) expect(isValidPeriod(ok)).toBe(true);
    for (const bad of [0, -60, 2, 45, 90, 61, 1.5]) expect(isValidPeriod(bad)).toBe(false);
    expect(resolutionFor(30)).toBe(1);
    expect(resolutionFor(60)).toBe(60);
  });

  it("folds buckets into periods aligned on the start time, up to the end time", () => {
    const t0 = 1_000_020; // a minute boundary
    const buckets = [0, 1, 2, 3, 4, 5].map((k) => ({ start: t0 + k * 60, agg: aggregateOf([k + 1]) }));
    // The start time rounds down to the minute; the bucket at the end time is left out.
    const periods = foldIntoPeriods(buckets, t0 + 10, t0 + 300, 120);
    expect(periods.map((p) => p.start)).toEqual([t0, t0 + 120, t0 + 240]);
    expect(periods.map((p) => p.agg.sum)).toEqual([1 + 2, 3 + 4, 5]);
  });
});

describe("Lambda samples", () => {
  const base = { functionName: "f", executedVersion: "$LATEST", atMs: 1_700_000_000_500 };

  it("counts an invocation in the account, function and (when qualified) resource series", () => {
    const unqualified = invocationSamples({ ...base, durationMs: 20, error: false });
    expect(unqualified.filter((s) => s.metric === "Invocations").map((s) => s.dimensions)).toEqual([[], [["FunctionName", "f"]]]);
    const qualified = invocationSamples({ ...base, qualifier: "live", executedVersion: "3", durationMs: 20, error: true });
    expect(qualified.filter((s) => s.metric === "Errors").map((s) => [s.dimensions, s.value])).toEqual([
      [[], 1],
      [[["FunctionName", "f"]], 1],
      [[["FunctionName", "f"], ["Resource", "f:live"]], 1],
      [[["ExecutedVersion", "3"], ["FunctionName", "f"], ["Resource", "f:live"]], 1],
    ]);
    expect(qualified.find((s) => s.metric === "Duration")).toMatchObject({ unit: "Milliseconds", value: 20, second: 1_700_000_000 });
    expect(qualified.some((s) => s.metric === "InitDuration")).toBe(false);
    expect(invocationSamples({ ...base, durationMs: 5, initDurationMs: 80, error: false }).find((s) => s.metric === "InitDuration")?.value).toBe(80);
  });

  it("spreads an invocation's busy time over the seconds it ran in (ConcurrentExecutions)", () => {
    // Ends 500 ms into second 1_700_000_000 after running 1.7 s: 0.2 s, 1 s and 0.5 s in three seconds.
    const samples = invocationSamples({ ...base, durationMs: 1700, error: false }).filter((s) => s.metric === "ConcurrentExecutions" && s.dimensions.length === 0);
    expect(samples.map((s) => [s.second, Number(s.value.toFixed(3))])).toEqual([
      [1_699_999_998, 0.2],
      [1_699_999_999, 1],
      [1_700_000_000, 0.5],
    ]);
    expect(samples.every((s) => s.gauge)).toBe(true);
  });

  it("records throttles, never as invocations", () => {
    const samples = throttleSamples(base);
    expect(new Set(samples.map((s) => s.metric))).toEqual(new Set(["Throttles"]));
  });

  it("counts unreserved busy time account-wide, with the allocated concurrency as ClaimedAccountConcurrency's level", () => {
    const facts = { ...base, durationMs: 700, error: false };
    const unreserved = accountConcurrencySamples(facts, { unreserved: true, allocatedConcurrency: 7 });
    expect(unreserved.map((s) => [s.metric, s.dimensions, s.second, Number(s.value.toFixed(3)), s.gauge, s.derived])).toEqual([
      ["UnreservedConcurrentExecutions", [], 1_699_999_999, 0.2, true, { metric: "ClaimedAccountConcurrency", level: 7 }],
      ["UnreservedConcurrentExecutions", [], 1_700_000_000, 0.5, true, { metric: "ClaimedAccountConcurrency", level: 7 }],
    ]);
    // A reserved function, or a provisioned environment, uses none of the unreserved pool (but still carries the level).
    expect(accountConcurrencySamples(facts, { unreserved: false, allocatedConcurrency: 7 }).map((s) => s.value)).toEqual([0, 0]);
    const onProvisioned = { qualifier: "live", allocated: 2, onProvisioned: true };
    expect(accountConcurrencySamples(facts, { unreserved: true, allocatedConcurrency: 7, provisioned: onProvisioned }).map((s) => s.value)).toEqual([0, 0]);
  });

  it("counts provisioned and spillover invocations per config, with busy time and utilization on provisioned ones", () => {
    const facts = { ...base, executedVersion: "3", durationMs: 500, error: false };
    const resource = [["FunctionName", "f"], ["Resource", "f:live"]];
    const withVersion = [["ExecutedVersion", "3"], ...resource];
    const ran = provisionedSamples(facts, { qualifier: "live", allocated: 4, onProvisioned: true });
    const byMetric = (samples: typeof ran, metric: string) => samples.filter((s) => s.metric === metric).map((s) => [s.dimensions, s.value]);
    expect(byMetric(ran, "ProvisionedConcurrencyInvocations")).toEqual([[resource, 1], [withVersion, 1]]);
    expect(byMetric(ran, "ProvisionedConcurrencySpilloverInvocations")).toEqual([[resource, 0], [withVersion, 0]]);
    expect(byMetric(ran, "ProvisionedConcurrentExecutions")).toEqual([[resource, 0.5], [withVersion, 0.5]]);
    expect(byMetric(ran, "ProvisionedConcurrencyUtilization")).toEqual([[resource, 0.125], [withVersion, 0.125]]);
    const spilled = provisionedSamples(facts, { qualifier: "live", allocated: 4, onProvisioned: false });
    expect(byMetric(spilled, "ProvisionedConcurrencySpilloverInvocations")).toEqual([[resource, 1], [withVersion, 1]]);
    expect(spilled.some((s) => s.metric === "ProvisionedConcurrentExecutions" || s.metric === "ProvisionedConcurrencyUtilization")).toBe(false);
  });

  it("counts durable executions per function: started, and their outcome, duration and operations at the end", () => {
    const event = { ...base, qualifier: "live", executedVersion: "2" };
    expect(durableStartedSamples(event).map((s) => [s.metric, s.dimensions, s.value])).toEqual([
      ["DurableExecutionStarted", [], 1],
      ["DurableExecutionStarted", [["FunctionName", "f"]], 1],
    ]);
    const ended = durableEndedSamples(event, "TimedOut", 1500, 4).filter((s) => s.dimensions.length === 1);
    expect(ended.map((s) => [s.metric, s.unit, s.value])).toEqual([
      ["DurableExecutionTimedOut", "Count", 1],
      ["DurableExecutionDuration", "Milliseconds", 1500],
      ["DurableExecutionOperations", "Count", 4],
    ]);
  });

  it("keys dimension sets by name order", () => {
    expect(canonicalDimensions([["b", "1"], ["a", "2"]])).toEqual([["a", "2"], ["b", "1"]]);
  });
});

describe("console series", async () => {
  const { chartSeries, chartRange, parseReport } = await import("../../src/console/series");

  it("charts one point per period, counts filled with 0 and other statistics left as gaps", () => {
    const buckets = [{ start: 1_000_020, agg: aggregateOf([1, 1]) }, { start: 1_000_140, agg: aggregateOf([5]) }];
    expect(chartSeries(buckets, 1_000_020, 1_000_200, 60, "Sum", true)).toEqual({ t: [1_000_020, 1_000_080, 1_000_140], v: [2, 0, 5] });
    expect(chartSeries(buckets, 1_000_020, 1_000_200, 60, "Maximum", false).v).toEqual([1, null, 5]);
    expect(chartRange("24h")).toBe("24h");
    expect(chartRange("1y")).toBe("1h");
  });

  it("reads REPORT lines, with Init Duration and Status when present", () => {
    expect(parseReport("REPORT RequestId: abc\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 80.10 ms\t")).toEqual({
      requestId: "abc",
      durationMs: 12.34,
      billedDurationMs: 13,
      initDurationMs: 80.1,
    });
    expect(parseReport("REPORT RequestId: t\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tStatus: timeout")?.status).toBe("timeout");
    expect(parseReport("START RequestId: abc Version: $LATEST")).toBeNull();
    expect(parseReport("REPORT RequestId: abc\tDuration: soon")).toBeNull();
  });
});
