import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { awsJson, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

// Lambda's metrics through the CloudWatch API (awsJson1_0, as the AWS CLI
// sends it): real invokes are counted off the hot path in the tenant's
// MetricStore; bad input gets CloudWatch's errors; no operation shows one
// tenant's metrics to another.

const TARGET = "GraniteServiceVersion20100801";
const cw = (key: TenantKey, operation: string, input: unknown) => awsJson(key, "monitoring", `${TARGET}.${operation}`, input);

let owner: TenantKey;
let other: TenantKey;
const name = `metered-${Date.now()}`;
const throttled = `${name}-zero`;
let startS: number;

function statisticsInput(metric: string, extra: Record<string, unknown> = {}) {
  return {
    Namespace: "AWS/Lambda",
    MetricName: metric,
    Dimensions: [{ Name: "FunctionName", Value: name }],
    StartTime: startS - 120,
    EndTime: startS + 600,
    Period: 60,
    Statistics: ["Sum", "SampleCount", "Maximum"],
    ...extra,
  };
}

/** Polls until the recorder's batch has been written (a moment after the invokes answered). */
async function sumOf(key: TenantKey, metric: string, want: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < 60; i++) {
    const res = await cw(key, "GetMetricStatistics", statisticsInput(metric));
    sum = (res.body.Datapoints as Array<{ Sum: number }>).reduce((n, p) => n + p.Sum, 0);
    if (sum >= want) return sum;
    await new Promise((r) => setTimeout(r, 100));
  }
  return sum;
}

beforeAll(async () => {
  owner = await newTenant();
  other = await newTenant();
  startS = Math.floor(Date.now() / 1000);
  await createActive(owner, createFunctionBody(name, {
    "index.js": `exports.handler = async (event) => { if (event.fail) throw new Error("boom"); return "ok"; };`,
  }));
  for (const payload of [{}, {}, { fail: true }]) {
    const res = await signed(owner, "POST", `${fn(name)}/invocations`, payload);
    expect(res.status).toBe(200);
  }
  await createActive(owner, createFunctionBody(throttled, { "index.js": `exports.handler = async () => "never";` }));
  const zero = await signed(owner, "PUT", `/2017-10-31/functions/${throttled}/concurrency`, { ReservedConcurrentExecutions: 0 });
  expect(zero.status).toBe(200);
  expect((await signed(owner, "POST", `${fn(throttled)}/invocations`, {})).status).toBe(429);
}, 90_000);

describe("CloudWatch metrics of Lambda", () => {
  it("counts invocations, errors and durations per function (GetMetricStatistics)", async () => {
    expect(await sumOf(owner, "Invocations", 3)).toBe(3);
    const errors = await cw(owner, "GetMetricStatistics", statisticsInput("Errors"));
    expect(errors.status).toBe(200);
    expect(errors.contentType).toBe("application/x-amz-json-1.0");
    const points = errors.body.Datapoints as Array<Record<string, unknown>>;
    expect(points.reduce((n, p) => n + (p.Sum as number), 0)).toBe(1);
    expect(points.reduce((n, p) => n + (p.SampleCount as number), 0)).toBe(3);
    expect(points[0]?.Unit).toBe("Count");
    expect(errors.body.Label).toBe("Errors");

    const duration = await cw(owner, "GetMetricStatistics", statisticsInput("Duration", { Statistics: ["Maximum"], ExtendedStatistics: ["p50", "p99"] }));
    const first = (duration.body.Datapoints as Array<{ Maximum: number; Unit: string; ExtendedStatistics: Record<string, number> }>)[0];
    expect(first?.Unit).toBe("Milliseconds");
    expect(first?.ExtendedStatistics.p99).toBe(first?.Maximum);
    // A handler that does no I/O can take 0 ms here: time in an isolate moves only on I/O.
    expect(first?.ExtendedStatistics.p50).toBeGreaterThanOrEqual(0);
    expect(first?.ExtendedStatistics.p50).toBeLessThanOrEqual(first?.Maximum ?? -1);
  });

  it("counts a 429 as a throttle, not an invocation", async () => {
    const input = { ...statisticsInput("Throttles"), Dimensions: [{ Name: "FunctionName", Value: throttled }] };
    let sum = 0;
    for (let i = 0; i < 60 && sum === 0; i++) {
      const res = await cw(owner, "GetMetricStatistics", input);
      sum = (res.body.Datapoints as Array<{ Sum: number }>).reduce((n, p) => n + p.Sum, 0);
      if (sum === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(sum).toBe(1);
    const invocations = await cw(owner, "GetMetricStatistics", { ...input, MetricName: "Invocations" });
    expect(invocations.body.Datapoints).toEqual([]);
  });

  it("writes a Throttled line to the function's log group, in its platform stream", async () => {
    let events: Array<{ logStreamName: string; message: string }> = [];
    for (let i = 0; i < 50 && events.length === 0; i++) {
      const res = await awsJson(owner, "logs", "Logs_20140328.FilterLogEvents", { logGroupName: `/aws/lambda/${throttled}`, filterPattern: "Throttled" });
      if (res.status === 200) events = res.body.events as typeof events;
      if (events.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(events).toHaveLength(1);
    expect(events[0]?.message).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f-]{36} Throttled: Rate Exceeded\. Reason: ReservedFunctionConcurrentInvocationLimitExceeded$/);
    expect(events[0]?.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\]platform$/);
  });

  it("answers GetMetricData with per-second data, newest first, and pages", async () => {
    await sumOf(owner, "Invocations", 3);
    const query = (id: string, stat: string, period = 1) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: [{ Name: "FunctionName", Value: name }] }, Period: period, Stat: stat },
    });
    const res = await cw(owner, "GetMetricData", { MetricDataQueries: [query("inv", "Sum"), query("minute", "SampleCount", 60)], StartTime: startS - 60, EndTime: startS + 600 });
    expect(res.status).toBe(200);
    const [perSecond, perMinute] = res.body.MetricDataResults as Array<{ Id: string; Label: string; Timestamps: number[]; Values: number[]; StatusCode: string }>;
    expect(perSecond?.Id).toBe("inv");
    expect(perSecond?.Label).toBe("Invocations");
    expect(perSecond?.StatusCode).toBe("Complete");
    expect(perSecond?.Values.reduce((a, b) => a + b, 0)).toBe(3);
    const times = perSecond?.Timestamps ?? [];
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(perMinute?.Values.reduce((a, b) => a + b, 0)).toBe(3);

    const paged = await cw(owner, "GetMetricData", { MetricDataQueries: [query("inv", "Sum")], StartTime: startS - 60, EndTime: startS + 600, MaxDatapoints: 1, ScanBy: "TimestampAscending" });
    const firstPage = (paged.body.MetricDataResults as Array<{ Values: number[] }>)[0];
    expect(firstPage?.Values).toHaveLength(1);
    if (times.length > 1) expect(typeof paged.body.NextToken).toBe("string");
  });

  it("lists the series it recorded (ListMetrics)", async () => {
    await sumOf(owner, "Invocations", 3);
    const res = await cw(owner, "ListMetrics", { Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: [{ Name: "FunctionName" }] });
    expect(res.status).toBe(200);
    const metrics = res.body.Metrics as Array<{ Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> }>;
    expect(metrics).toContainEqual({ Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: [{ Name: "FunctionName", Value: name }] });
    expect(metrics.every((m) => m.Dimensions.some((d) => d.Name === "FunctionName"))).toBe(true);
  });

  it("shows another tenant nothing, whatever it names", async () => {
    await sumOf(owner, "Invocations", 3);
    const stats = await cw(other, "GetMetricStatistics", statisticsInput("Invocations"));
    expect(stats.status).toBe(200);
    expect(stats.body.Datapoints).toEqual([]);
    const data = await cw(other, "GetMetricData", {
      MetricDataQueries: [{ Id: "x", MetricStat: { Metric: { Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: [{ Name: "FunctionName", Value: name }] }, Period: 60, Stat: "Sum" } }],
      StartTime: startS - 60,
      EndTime: startS + 600,
    });
    expect((data.body.MetricDataResults as Array<{ Values: number[] }>)[0]?.Values).toEqual([]);
    const list = await cw(other, "ListMetrics", {});
    expect(JSON.stringify(list.body.Metrics)).not.toContain(name);
    // Account-wide series are the caller's own too.
    const account = await cw(other, "GetMetricStatistics", { ...statisticsInput("Invocations"), Dimensions: [] });
    expect(account.body.Datapoints).toEqual([]);
  });
});

describe("bad input gets CloudWatch's errors", () => {
  const cases: Array<[string, string, Record<string, unknown>, string, string]> = [
    ["GetMetricStatistics", "missing MetricName", { Namespace: "AWS/Lambda", StartTime: 1, EndTime: 2, Period: 60, Statistics: ["Sum"] }, "MissingRequiredParameterException", "MissingParameter"],
    ["GetMetricStatistics", "period 45", { Namespace: "AWS/Lambda", MetricName: "Errors", StartTime: 1, EndTime: 2, Period: 45, Statistics: ["Sum"] }, "InvalidParameterValueException", "InvalidParameterValue"],
    ["GetMetricStatistics", "end before start", { Namespace: "AWS/Lambda", MetricName: "Errors", StartTime: 5, EndTime: 2, Period: 60, Statistics: ["Sum"] }, "InvalidParameterValueException", "InvalidParameterValue"],
    ["GetMetricStatistics", "no statistic", { Namespace: "AWS/Lambda", MetricName: "Errors", StartTime: 1, EndTime: 2, Period: 60 }, "InvalidParameterCombinationException", "InvalidParameterCombination"],
    ["GetMetricStatistics", "unknown statistic", { Namespace: "AWS/Lambda", MetricName: "Errors", StartTime: 1, EndTime: 2, Period: 60, Statistics: ["Median"] }, "InvalidParameterValueException", "InvalidParameterValue"],
    ["GetMetricStatistics", "too many datapoints", { Namespace: "AWS/Lambda", MetricName: "Errors", StartTime: 0, EndTime: 86_400 * 2, Period: 60, Statistics: ["Sum"] }, "InvalidParameterCombinationException", "InvalidParameterCombination"],
    ["GetMetricData", "no queries", { MetricDataQueries: [], StartTime: 1, EndTime: 2 }, "MissingRequiredParameterException", "MissingParameter"],
    ["GetMetricData", "bad id", { MetricDataQueries: [{ Id: "Bad", MetricStat: { Metric: { Namespace: "n", MetricName: "m" }, Period: 60, Stat: "Sum" } }], StartTime: 1, EndTime: 2 }, "InvalidParameterValueException", "InvalidParameterValue"],
    ["GetMetricData", "expression", { MetricDataQueries: [{ Id: "e", Expression: "SUM(METRICS())" }], StartTime: 1, EndTime: 2 }, "InvalidParameterValueException", "InvalidParameterValue"],
    ["GetMetricData", "bad token", { MetricDataQueries: [{ Id: "a", MetricStat: { Metric: { Namespace: "n", MetricName: "m" }, Period: 60, Stat: "Sum" } }], StartTime: 1, EndTime: 2, NextToken: "nope" }, "InvalidNextToken", "InvalidNextToken"],
    ["ListMetrics", "bad RecentlyActive", { RecentlyActive: "P1D" }, "InvalidParameterValueException", "InvalidParameterValue"],
  ];
  for (const [operation, what, input, type, queryCode] of cases) {
    it(`${operation}: ${what}`, async () => {
      const res = await cw(owner, operation, input);
      expect(res.status).toBe(400);
      expect(res.body.__type).toBe(`com.amazonaws.cloudwatch#${type}`);
      expect(typeof res.body.message).toBe("string");
      const raw = await rawCall(operation, input);
      expect(raw.headers.get("x-amzn-query-error")).toBe(`${queryCode};Sender`);
    });
  }

  it("refuses a request signed for another service", async () => {
    const res = await awsJson(owner, "logs", `${TARGET}.ListMetrics`, {});
    expect(res.status).toBe(400);
  });
});

async function rawCall(operation: string, input: unknown): Promise<Response> {
  const { AwsClient } = await import("aws4fetch");
  const { exports } = await import("cloudflare:workers");
  const client = new AwsClient({ accessKeyId: owner.accessKeyId, secretAccessKey: owner.secretAccessKey, service: "monitoring", region: "us-east-1" });
  const request = await client.sign("http://cellfn.test/", { method: "POST", headers: { "x-amz-target": `${TARGET}.${operation}`, "content-type": "application/x-amz-json-1.0" }, body: JSON.stringify(input) });
  return exports.default.fetch(request);
}

describe("SDK v3's protocol, smithy-rpc-v2-cbor", () => {
  async function cborCall(key: TenantKey, operation: string, input: unknown): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const { AwsClient } = await import("aws4fetch");
    const { exports } = await import("cloudflare:workers");
    const { cbor } = await import("@smithy/core/cbor");
    const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "monitoring", region: "us-east-1" });
    const request = await client.sign(`http://cellfn.test/service/${TARGET}/operation/${operation}`, {
      method: "POST",
      headers: { "smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor", accept: "application/cbor" },
      body: cbor.serialize(input),
    });
    const res = await exports.default.fetch(request);
    return { status: res.status, headers: res.headers, body: cbor.deserialize(new Uint8Array(await res.arrayBuffer())) as Record<string, unknown> };
  }

  it("answers GetMetricStatistics and GetMetricData with tag-1 timestamps", async () => {
    const { dateToTag } = await import("@smithy/core/cbor");
    await sumOf(owner, "Invocations", 3);
    const range = { StartTime: dateToTag(new Date((startS - 120) * 1000)), EndTime: dateToTag(new Date((startS + 600) * 1000)) };
    const stats = await cborCall(owner, "GetMetricStatistics", { ...statisticsInput("Invocations"), ...range });
    expect(stats.status).toBe(200);
    expect(stats.headers.get("smithy-protocol")).toBe("rpc-v2-cbor");
    const points = stats.body.Datapoints as Array<{ Sum: number; Timestamp: { tag: number; value: number } }>;
    expect(points.reduce((n, p) => n + p.Sum, 0)).toBe(3);
    expect(points[0]?.Timestamp.tag).toBe(1);
    const data = await cborCall(owner, "GetMetricData", {
      MetricDataQueries: [{ Id: "m", MetricStat: { Metric: { Namespace: "AWS/Lambda", MetricName: "Errors", Dimensions: [{ Name: "FunctionName", Value: name }] }, Period: 60, Stat: "Sum" } }],
      ...range,
    });
    const result = (data.body.MetricDataResults as Array<{ Values: number[]; Timestamps: Array<{ tag: number }> }>)[0];
    expect(result?.Values.reduce((a, b) => a + b, 0)).toBe(1);
    expect(result?.Timestamps[0]?.tag).toBe(1);
    const other = await cborCall(await newTenant(), "ListMetrics", {});
    expect(JSON.stringify(other.body)).not.toContain(name);
  });

  it("answers bad input with CloudWatch's error in CBOR", async () => {
    const res = await cborCall(owner, "GetMetricStatistics", { Namespace: "AWS/Lambda", MetricName: "Errors", StartTime: 1, EndTime: 2, Period: 7, Statistics: ["Sum"] });
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe("com.amazonaws.cloudwatch#InvalidParameterValueException");
    expect(res.headers.get("x-amzn-query-error")).toBe("InvalidParameterValue;Sender");
    const unknown = await cborCall(owner, "PutMetricAlarm", {});
    expect(unknown.status).toBe(400);
  });
});
