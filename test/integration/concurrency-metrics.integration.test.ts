import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { aggregateOf } from "../../src/metrics/aggregate";
import type { BucketWrite } from "../../src/metrics/metric-store";
import type { TenantKey } from "../helpers/platform";
import { awsJson, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

// Lambda's account concurrency, provisioned concurrency and durable execution
// metrics, read back through CloudWatch's GetMetricStatistics and
// GetMetricData after real invokes: UnreservedConcurrentExecutions and
// ClaimedAccountConcurrency (account-wide), ProvisionedConcurrency* (per
// config), DurableExecution* (per function). Each tenant has its own store,
// so each describe block uses its own tenant.

const cw = (key: TenantKey, operation: string, input: unknown) => awsJson(key, "monitoring", `GraniteServiceVersion20100801.${operation}`, input);
const SLEEPER = { "index.js": `exports.handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms ?? 0)); return "ok"; };` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

type Dims = Array<{ Name: string; Value: string }>;
type Result = { Id: string; Timestamps: number[]; Values: number[]; StatusCode: string };

let startS = 0;
const window = () => ({ StartTime: startS - 60, EndTime: startS + 600 });

async function statistics(key: TenantKey, metric: string, dimensions: Dims, statistics = ["Sum", "SampleCount", "Maximum", "Minimum"], period = 60) {
  const res = await cw(key, "GetMetricStatistics", { Namespace: "AWS/Lambda", MetricName: metric, Dimensions: dimensions, Period: period, Statistics: statistics, ...window() });
  expect(res.status).toBe(200);
  return res.body.Datapoints as Array<Record<string, number | string>>;
}

const total = (points: Array<Record<string, number | string>>, stat: string) => points.reduce((n, p) => n + Number(p[stat] ?? 0), 0);

/** Polls until the recorder's batch holding `metric` has been written (its Sum reaches `want`). */
async function sumReaches(key: TenantKey, metric: string, dimensions: Dims, want: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < 100; i++) {
    sum = total(await statistics(key, metric, dimensions), "Sum");
    if (sum >= want) return sum;
    await sleep(100);
  }
  return sum;
}

/** Per-second values of several series (GetMetricData, Stat Sum: a gauge's second is its one value). */
async function perSecond(key: TenantKey, series: Record<string, { metric: string; dimensions: Dims }>): Promise<Record<string, Map<number, number>>> {
  const queries = Object.entries(series).map(([id, s]) => ({
    Id: id,
    MetricStat: { Metric: { Namespace: "AWS/Lambda", MetricName: s.metric, Dimensions: s.dimensions }, Period: 1, Stat: "Sum" },
  }));
  const res = await cw(key, "GetMetricData", { MetricDataQueries: queries, ...window() });
  expect(res.status).toBe(200);
  const out: Record<string, Map<number, number>> = {};
  for (const r of res.body.MetricDataResults as Result[]) {
    expect(r.StatusCode).toBe("Complete");
    out[r.Id] = new Map(r.Timestamps.map((t, i) => [t, r.Values[i] ?? Number.NaN]));
  }
  return out;
}

const sum = (m: Map<number, number> | undefined) => [...(m ?? new Map<number, number>()).values()].reduce((a, b) => a + b, 0);

async function invoke(key: TenantKey, name: string, payload: unknown, qualifier?: string) {
  const res = await signed(key, "POST", `${fn(name)}/invocations${qualifier === undefined ? "" : `?Qualifier=${qualifier}`}`, payload);
  expect(res.status).toBe(200);
  await res.text();
}

beforeAll(() => {
  startS = Math.floor(Date.now() / 1000);
});

describe("UnreservedConcurrentExecutions and ClaimedAccountConcurrency", () => {
  let key: TenantKey;
  const plain = unique("unreserved");
  const reserved = unique("reserved");

  beforeAll(async () => {
    key = await newTenant("full", "concurrency-metrics");
    await createActive(key, createFunctionBody(plain, SLEEPER));
    await createActive(key, createFunctionBody(reserved, SLEEPER));
    expect((await signed(key, "PUT", `/2017-10-31/functions/${reserved}/concurrency`, { ReservedConcurrentExecutions: 5 })).status).toBe(200);
    await invoke(key, plain, { ms: 300 });
    await invoke(key, plain, { ms: 300 });
    // More than a second later, so the reserved function runs in seconds of its own.
    await sleep(1200);
    await invoke(key, reserved, { ms: 300 });
  }, 60_000);

  it("counts the unreserved functions' busy time, and claims it plus the reservations every second", async () => {
    // The reserved function's invocation is the last batch: once it is readable, every sample is.
    expect(await sumReaches(key, "Invocations", [{ Name: "FunctionName", Value: reserved }], 1)).toBe(1);
    const series = await perSecond(key, {
      unreserved: { metric: "UnreservedConcurrentExecutions", dimensions: [] },
      claimed: { metric: "ClaimedAccountConcurrency", dimensions: [] },
      plainDuration: { metric: "Duration", dimensions: [{ Name: "FunctionName", Value: plain }] },
      reservedDuration: { metric: "Duration", dimensions: [{ Name: "FunctionName", Value: reserved }] },
    });
    // The busy seconds of the two unreserved invocations add up to their durations; the reserved one adds nothing.
    expect(sum(series.plainDuration)).toBeGreaterThanOrEqual(600);
    expect(sum(series.unreserved)).toBeCloseTo(sum(series.plainDuration) / 1000, 6);
    // Claimed = unreserved in use + the 5 reserved, in every second either was recorded.
    const unreserved = series.unreserved ?? new Map<number, number>();
    expect([...(series.claimed?.keys() ?? [])].sort()).toEqual([...unreserved.keys()].sort());
    for (const [t, value] of unreserved) expect(series.claimed?.get(t)).toBeCloseTo(value + 5, 6);
    // The seconds in which only the reserved function ran: nothing unreserved, 5 claimed.
    const reservedSeconds = [...(series.reservedDuration?.keys() ?? [])];
    expect(reservedSeconds.length).toBeGreaterThan(0);
    for (const t of reservedSeconds) {
      expect(unreserved.get(t)).toBe(0);
      expect(series.claimed?.get(t)).toBe(5);
    }
  });

  it("answers GetMetricStatistics for both account-wide, with Count units and a busiest-second Maximum", async () => {
    await sumReaches(key, "Invocations", [{ Name: "FunctionName", Value: reserved }], 1);
    const unreserved = await statistics(key, "UnreservedConcurrentExecutions", []);
    const claimed = await statistics(key, "ClaimedAccountConcurrency", []);
    expect(unreserved.length).toBeGreaterThan(0);
    expect(unreserved.every((p) => p.Unit === "Count")).toBe(true);
    const max = (points: typeof unreserved) => Math.max(...points.map((p) => Number(p.Maximum)));
    expect(max(unreserved)).toBeGreaterThan(0);
    expect(max(unreserved)).toBeLessThanOrEqual(1);
    expect(max(claimed)).toBeCloseTo(max(unreserved) + 5, 6);
    expect(Math.min(...claimed.map((p) => Number(p.Minimum)))).toBe(5);
    // Account-wide only: there is no per-function series.
    expect(await statistics(key, "UnreservedConcurrentExecutions", [{ Name: "FunctionName", Value: plain }])).toEqual([]);
  });
});

describe("a gauge with a level, written by several isolates", () => {
  it("adds the writers' values and counts the highest level once per second (MetricStore)", async () => {
    const store = env.METRIC_STORE.getByName(unique("store"));
    const second = Math.floor(Date.now() / 1000);
    const write = (value: number, level: number, at = second): BucketWrite => ({
      namespace: "AWS/Lambda",
      metric: "UnreservedConcurrentExecutions",
      dimensions: [],
      unit: "Count",
      second: at,
      gauge: true,
      agg: aggregateOf([value]),
      derived: { metric: "ClaimedAccountConcurrency", level },
    });
    // Two isolates' batches for one second (one saw an older, lower allocation), and a later second.
    await store.record([write(0.25, 7)], Date.now());
    await store.record([write(0.5, 6)], Date.now());
    await store.record([write(0, 7, second + 1)], Date.now());
    const read = (metric: string) => store.read({ namespace: "AWS/Lambda", metric, dimensions: [], resolution: 1, fromS: second, toS: second + 2 });
    const values = async (metric: string) => ((await read(metric))?.buckets ?? []).map((b) => b.agg.sum);
    expect(await values("UnreservedConcurrentExecutions")).toEqual([0.75, 0]);
    expect(await values("ClaimedAccountConcurrency")).toEqual([7.75, 7]);
  });
});

describe("ProvisionedConcurrency* metrics", () => {
  let key: TenantKey;
  const name = unique("provisioned");
  const resource = [{ Name: "FunctionName", Value: name }, { Name: "Resource", Value: `${name}:1` }];
  let firstSeconds: number[] = [];

  beforeAll(async () => {
    key = await newTenant("full", "pc-metrics");
    await createActive(key, createFunctionBody(name, SLEEPER, { Publish: true }));
    expect((await signed(key, "PUT", `/2019-09-30/functions/${name}/provisioned-concurrency?Qualifier=1`, { ProvisionedConcurrentExecutions: 1 })).status).toBe(202);
    for (let i = 0; ; i++) {
      const body = await (await signed(key, "GET", `/2019-09-30/functions/${name}/provisioned-concurrency?Qualifier=1`)).json<{ Status: string }>();
      if (body.Status === "READY") break;
      if (i > 250) throw new Error(`provisioned concurrency stayed ${JSON.stringify(body)}`);
      await sleep(100);
    }
    const before = Date.now();
    await invoke(key, name, { ms: 300 }, "1");
    firstSeconds = [Math.floor(before / 1000), Math.floor(Date.now() / 1000)];
    await sleep(1200);
    // One provisioned environment: of two at once, one runs on it and the other spills over.
    await Promise.all([invoke(key, name, { ms: 600 }, "1"), invoke(key, name, { ms: 600 }, "1")]);
  }, 60_000);

  it("counts invocations on provisioned environments and spillovers per alias or version (and per ExecutedVersion)", async () => {
    expect(await sumReaches(key, "ProvisionedConcurrencyInvocations", resource, 2)).toBe(2);
    expect(await sumReaches(key, "ProvisionedConcurrencySpilloverInvocations", resource, 1)).toBe(1);
    const invocations = await statistics(key, "ProvisionedConcurrencyInvocations", resource);
    expect(total(invocations, "SampleCount")).toBe(3);
    expect(invocations[0]?.Unit).toBe("Count");
    const withVersion = [...resource, { Name: "ExecutedVersion", Value: "1" }];
    expect(total(await statistics(key, "ProvisionedConcurrencyInvocations", withVersion), "Sum")).toBe(2);
    expect(total(await statistics(key, "ProvisionedConcurrencySpilloverInvocations", withVersion), "Sum")).toBe(1);
  });

  it("keeps ProvisionedConcurrentExecutions to the provisioned invocations' busy time, and utilization over the one allocated", async () => {
    await sumReaches(key, "ProvisionedConcurrencySpilloverInvocations", resource, 1);
    const series = await perSecond(key, {
      pce: { metric: "ProvisionedConcurrentExecutions", dimensions: resource },
      utilization: { metric: "ProvisionedConcurrencyUtilization", dimensions: resource },
      duration: { metric: "Duration", dimensions: resource },
      unreserved: { metric: "UnreservedConcurrentExecutions", dimensions: [] },
      claimed: { metric: "ClaimedAccountConcurrency", dimensions: [] },
    });
    // 300 ms + 600 ms on the provisioned environment; the spillover's 600 ms or more is left out.
    const busy = sum(series.pce);
    expect(busy).toBeGreaterThanOrEqual(0.9 - 1e-9);
    expect(busy).toBeLessThanOrEqual(sum(series.duration) / 1000 - 0.6 + 1e-9);
    for (const [t, value] of series.pce ?? []) expect(series.utilization?.get(t)).toBeCloseTo(value, 9);
    // The first invocation ran provisioned: no unreserved concurrency in its seconds, and the 1 provisioned is claimed.
    for (const t of firstSeconds) {
      if (!series.unreserved?.has(t)) continue;
      expect(series.unreserved.get(t)).toBe(0);
      expect(series.claimed?.get(t)).toBe(1);
    }
    expect(firstSeconds.some((t) => series.unreserved?.has(t))).toBe(true);
  });
});

describe("durable execution metrics", () => {
  let key: TenantKey;
  const flow = unique("dflow");
  const short = unique("dshort");
  // The execution name (in the ARN the handler gets) says how it should end.
  const HANDLER = {
    "index.js": `exports.handler = async (event) => {
      const arn = event.DurableExecutionArn;
      if (arn.includes("/ok-")) return { Status: "SUCCEEDED", Result: JSON.stringify("done") };
      if (arn.includes("/bad-")) return { Status: "FAILED", Error: { ErrorType: "Nope", ErrorMessage: "failed on purpose" } };
      await new Promise((r) => setTimeout(r, 4000));
      return { Status: "PENDING" };
    };`,
  };

  async function start(name: string, executionName: string): Promise<string> {
    const res = await signed(key, "POST", `${fn(name)}/invocations?Qualifier=1`, {}, { "X-Amz-Invocation-Type": "Event", "X-Amz-Durable-Execution-Name": executionName });
    expect(res.status).toBe(202);
    return res.headers.get("X-Amz-Durable-Execution-Arn") ?? "";
  }

  beforeAll(async () => {
    key = await newTenant("full", "durable-metrics");
    const durable = (timeout: number) => ({ DurableConfig: { ExecutionTimeout: timeout, RetentionPeriodInDays: 1 }, Publish: true, Timeout: 30 });
    await createActive(key, createFunctionBody(flow, HANDLER, durable(300)));
    await createActive(key, createFunctionBody(short, HANDLER, durable(1)));
    await start(flow, "ok-1");
    await start(flow, "bad-1");
    const held = await start(flow, "held-1");
    expect((await signed(key, "POST", `/2025-12-01/durable-executions/${encodeURIComponent(held)}/stop`, {})).status).toBe(200);
    await start(short, "slow-1");
  }, 60_000);

  it("counts executions started and how each ended, per function and account-wide", async () => {
    const of = (name: string) => [{ Name: "FunctionName", Value: name }];
    expect(await sumReaches(key, "DurableExecutionStarted", of(flow), 3)).toBe(3);
    expect(await sumReaches(key, "DurableExecutionSucceeded", of(flow), 1)).toBe(1);
    expect(await sumReaches(key, "DurableExecutionFailed", of(flow), 1)).toBe(1);
    expect(await sumReaches(key, "DurableExecutionStopped", of(flow), 1)).toBe(1);
    expect(await sumReaches(key, "DurableExecutionTimedOut", of(short), 1)).toBe(1);
    expect(total(await statistics(key, "DurableExecutionStarted", []), "Sum")).toBe(4);
    expect(total(await statistics(key, "DurableExecutionTimedOut", of(flow)), "Sum")).toBe(0);
  }, 30_000);

  it("records each ended execution's running time and operations", async () => {
    await sumReaches(key, "DurableExecutionTimedOut", [{ Name: "FunctionName", Value: short }], 1);
    const duration = await statistics(key, "DurableExecutionDuration", [{ Name: "FunctionName", Value: flow }]);
    expect(total(duration, "SampleCount")).toBe(3);
    expect(duration[0]?.Unit).toBe("Milliseconds");
    const timedOut = await statistics(key, "DurableExecutionDuration", [{ Name: "FunctionName", Value: short }]);
    // ExecutionTimeout is 1 s: it ran at least that long.
    expect(Number(timedOut[0]?.Maximum)).toBeGreaterThanOrEqual(1000);
    const operations = await statistics(key, "DurableExecutionOperations", []);
    expect(total(operations, "SampleCount")).toBe(4);
    expect(Math.min(...operations.map((p) => Number(p.Minimum)))).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
