import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { logGroupObject } from "../../src/logs/groups";
import { recordInvocationLog, recordPlatformEvent } from "../../src/logs/ingest";
import { MAX_EVENT_BYTES } from "../../src/logs/limits";
import { awsJson, newTenant, type TenantKey } from "../helpers/platform";

// The CloudWatch Logs API over SigV4 (signing name "logs"), with function
// logs written through the ingestion entry point the invoke path calls.

interface LogsResponse {
  status: number;
  body: Record<string, unknown>;
}

async function logs(key: TenantKey, operation: string, input: unknown, service = "logs"): Promise<LogsResponse> {
  const res = await awsJson(key, service, `Logs_20140328.${operation}`, input);
  expect(res.contentType).toBe("application/x-amz-json-1.1");
  return { status: res.status, body: res.body };
}

async function ok<T = Record<string, unknown>>(key: TenantKey, operation: string, input: unknown): Promise<T> {
  const res = await logs(key, operation, input);
  if (res.status !== 200) throw new Error(`${operation}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

const NOW = Date.now();
const T0 = Math.floor(NOW / 1000) * 1000 - 60_000;
const GROUP = "/aws/lambda/orders";
const STREAM_A = "2026/12/04/[$LATEST]aaaa";
const STREAM_B = "2026/12/04/[$LATEST]bbbb";

/** One invocation's lines as the runtime writes them. */
function invocation(at: number, requestId: string, durationMs: number, body: string[]): { timestamp: number; message: string }[] {
  return [
    { timestamp: at, message: `START RequestId: ${requestId} Version: $LATEST` },
    ...body.map((m, i) => ({ timestamp: at + 1 + i, message: `${new Date(at + 1 + i).toISOString()}\t${requestId}\tINFO\t${m}` })),
    { timestamp: at + 10, message: `END RequestId: ${requestId}` },
    { timestamp: at + 10, message: `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: 128 MB\t` },
  ];
}

let acme: TenantKey;

beforeAll(async () => {
  acme = await newTenant("full", "logs-acme");
  // Stream A: 3 invocations in second 0, stream B: 2 in second 1 (4 lines each).
  for (const [i, stream] of [STREAM_A, STREAM_A, STREAM_A].entries()) {
    await recordInvocationLog(env, { tenantId: acme.tenantId, logGroup: GROUP, logStream: stream, lines: invocation(T0 + i * 100, `a-${i}`, 10 + i, [`order ${i} ok`]) });
  }
  for (const i of [0, 1]) {
    await recordInvocationLog(env, {
      tenantId: acme.tenantId,
      logGroup: GROUP,
      logStream: STREAM_B,
      lines: invocation(T0 + 1000 + i * 100, `b-${i}`, 20 + i, [JSON.stringify({ level: i === 0 ? "ERROR" : "INFO", latency: 150 * (i + 1) })]),
    });
  }
  await recordInvocationLog(env, { tenantId: acme.tenantId, logGroup: "/aws/lambda/payments", logStream: STREAM_A, lines: invocation(T0, "p-0", 5, ["paid"]) });
});

describe("ingestion and describing", () => {
  it("DescribeLogGroups lists the tenant's groups with ARN, creation time and stored bytes", async () => {
    const { logGroups } = await ok<{ logGroups: Record<string, unknown>[] }>(acme, "DescribeLogGroups", {});
    expect(logGroups.map((g) => g.logGroupName)).toEqual(["/aws/lambda/orders", "/aws/lambda/payments"]);
    const orders = logGroups[0] ?? {};
    expect(orders.arn).toBe(`arn:aws:logs:us-east-1:${acme.accountId}:log-group:/aws/lambda/orders:*`);
    expect(orders.logGroupArn).toBe(`arn:aws:logs:us-east-1:${acme.accountId}:log-group:/aws/lambda/orders`);
    expect(orders.creationTime).toBeGreaterThanOrEqual(NOW - 1000);
    expect(orders.retentionInDays).toBeUndefined();
    expect(orders.storedBytes).toBeGreaterThan(400);
  });

  it("DescribeLogGroups: prefix, pattern (case-insensitive) and pages", async () => {
    expect((await ok<{ logGroups: { logGroupName: string }[] }>(acme, "DescribeLogGroups", { logGroupNamePrefix: "/aws/lambda/pay" })).logGroups.map((g) => g.logGroupName)).toEqual(["/aws/lambda/payments"]);
    expect((await ok<{ logGroups: { logGroupName: string }[] }>(acme, "DescribeLogGroups", { logGroupNamePattern: "ORDER" })).logGroups.map((g) => g.logGroupName)).toEqual(["/aws/lambda/orders"]);
    const first = await ok<{ logGroups: { logGroupName: string }[]; nextToken?: string }>(acme, "DescribeLogGroups", { limit: 1 });
    expect(first.logGroups.map((g) => g.logGroupName)).toEqual(["/aws/lambda/orders"]);
    expect(first.nextToken).toBeTypeOf("string");
    const second = await ok<{ logGroups: { logGroupName: string }[]; nextToken?: string }>(acme, "DescribeLogGroups", { limit: 1, nextToken: first.nextToken });
    expect(second.logGroups.map((g) => g.logGroupName)).toEqual(["/aws/lambda/payments"]);
    expect(second.nextToken).toBeUndefined();
  });

  it("DescribeLogStreams: by name or last event time, descending, prefix, pages, first/last timestamps", async () => {
    const byName = await ok<{ logStreams: Record<string, unknown>[] }>(acme, "DescribeLogStreams", { logGroupName: GROUP });
    expect(byName.logStreams.map((s) => s.logStreamName)).toEqual([STREAM_A, STREAM_B]);
    expect(byName.logStreams[0]).toMatchObject({ firstEventTimestamp: T0, lastEventTimestamp: T0 + 210, arn: `arn:aws:logs:us-east-1:${acme.accountId}:log-group:${GROUP}:log-stream:${STREAM_A}` });
    expect(byName.logStreams[1]).toMatchObject({ firstEventTimestamp: T0 + 1000, lastEventTimestamp: T0 + 1110 });
    const latest = await ok<{ logStreams: { logStreamName: string }[]; nextToken?: string }>(acme, "DescribeLogStreams", { logGroupName: GROUP, orderBy: "LastEventTime", descending: true, limit: 1 });
    expect(latest.logStreams.map((s) => s.logStreamName)).toEqual([STREAM_B]);
    const rest = await ok<{ logStreams: { logStreamName: string }[]; nextToken?: string }>(acme, "DescribeLogStreams", { logGroupName: GROUP, orderBy: "LastEventTime", descending: true, limit: 1, nextToken: latest.nextToken });
    expect(rest.logStreams.map((s) => s.logStreamName)).toEqual([STREAM_A]);
    expect(rest.nextToken).toBeUndefined();
    const prefixed = await ok<{ logStreams: { logStreamName: string }[] }>(acme, "DescribeLogStreams", { logGroupIdentifier: GROUP, logStreamNamePrefix: "2026/12/04/[$LATEST]b" });
    expect(prefixed.logStreams.map((s) => s.logStreamName)).toEqual([STREAM_B]);
  });
});

describe("GetLogEvents", () => {
  type Page = { events: { timestamp: number; message: string; ingestionTime: number }[]; nextForwardToken: string; nextBackwardToken: string };

  it("answers the newest events, reads back and on with b/ and f/ tokens, and returns the same token at the end", async () => {
    const tail = await ok<Page>(acme, "GetLogEvents", { logGroupName: GROUP, logStreamName: STREAM_A, limit: 4 });
    expect(tail.events.map((e) => e.message)).toEqual(["START RequestId: a-2 Version: $LATEST", expect.stringContaining("order 2 ok"), "END RequestId: a-2", expect.stringMatching(/^REPORT RequestId: a-2\t/)]);
    expect(tail.nextForwardToken).toMatch(/^f\/\d+$/);
    expect(tail.nextBackwardToken).toMatch(/^b\/\d+$/);
    const back = await ok<Page>(acme, "GetLogEvents", { logGroupName: GROUP, logStreamName: STREAM_A, limit: 4, nextToken: tail.nextBackwardToken });
    expect(back.events.map((e) => e.message)[0]).toBe("START RequestId: a-1 Version: $LATEST");
    const end = await ok<Page>(acme, "GetLogEvents", { logGroupName: GROUP, logStreamName: STREAM_A, nextToken: tail.nextForwardToken });
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(tail.nextForwardToken);
  });

  it("startFromHead reads the whole stream forward in pages; startTime / endTime bound it", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page: Page = await ok<Page>(acme, "GetLogEvents", { logGroupName: GROUP, logStreamName: STREAM_A, startFromHead: true, limit: 5, ...(token ? { nextToken: token } : {}) });
      if (page.nextForwardToken === token) break;
      seen.push(...page.events.map((e) => e.message));
      token = page.nextForwardToken;
    }
    expect(seen).toHaveLength(12);
    expect(seen[0]).toBe("START RequestId: a-0 Version: $LATEST");
    const ranged = await ok<Page>(acme, "GetLogEvents", { logGroupName: GROUP, logStreamName: STREAM_A, startFromHead: true, startTime: T0 + 100, endTime: T0 + 200 });
    expect(ranged.events.map((e) => e.message)).toEqual(["START RequestId: a-1 Version: $LATEST", expect.stringContaining("order 1 ok"), "END RequestId: a-1", expect.stringMatching(/^REPORT RequestId: a-1/)]);
  });

  it("a missing stream is ResourceNotFoundException", async () => {
    expect(await logs(acme, "GetLogEvents", { logGroupName: GROUP, logStreamName: "nope" })).toEqual({ status: 400, body: { __type: "ResourceNotFoundException", message: "The specified log stream does not exist." } });
  });
});

describe("FilterLogEvents", () => {
  type Filtered = { events: { logStreamName: string; timestamp: number; message: string; eventId: string }[]; nextToken?: string; searchedLogStreams: unknown[] };
  const filter = (input: Record<string, unknown>) => ok<Filtered>(acme, "FilterLogEvents", { logGroupName: GROUP, ...input });

  it("matches terms, JSON patterns and space-delimited patterns across streams in time order", async () => {
    const reports = await filter({ filterPattern: "REPORT" });
    expect(reports.events.map((e) => e.message.split("\t")[0])).toEqual(["REPORT RequestId: a-0", "REPORT RequestId: a-1", "REPORT RequestId: a-2", "REPORT RequestId: b-0", "REPORT RequestId: b-1"]);
    expect(reports.searchedLogStreams).toEqual([]);
    const errors = await filter({ filterPattern: '{ $.level = "ERROR" && $.latency > 100 }' });
    expect(errors.events.map((e) => e.logStreamName)).toEqual([STREAM_B]);
    expect(errors.events[0]?.message).toContain('"latency":150');
    expect((await filter({ filterPattern: "?a-1 ?b-1 -REPORT -START -END" })).events.map((e) => e.message)).toEqual([expect.stringContaining("order 1 ok"), expect.stringContaining('"latency":300')]);
    expect((await filter({ filterPattern: "[type = START, ...]" })).events).toHaveLength(5);
  });

  it("by stream names, by prefix, and by time (endTime included)", async () => {
    expect((await filter({ logStreamNames: [STREAM_B], filterPattern: "START" })).events.map((e) => e.timestamp)).toEqual([T0 + 1000, T0 + 1100]);
    expect((await filter({ logStreamNamePrefix: "2026/12/04/[$LATEST]a", filterPattern: "START" })).events).toHaveLength(3);
    expect((await filter({ startTime: T0 + 100, endTime: T0 + 1000, filterPattern: "START" })).events.map((e) => e.timestamp)).toEqual([T0 + 100, T0 + 200, T0 + 1000]);
  });

  it("pages with limit and nextToken without losing or repeating events", async () => {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page: Filtered = await filter({ limit: 7, ...(token ? { nextToken: token } : {}) });
      expect(page.events.length).toBeLessThanOrEqual(7);
      ids.push(...page.events.map((e) => e.eventId));
      token = page.nextToken;
    } while (token);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it("refuses a filter pattern that does not parse with InvalidParameterException", async () => {
    const res = await logs(acme, "FilterLogEvents", { logGroupName: GROUP, filterPattern: "{ $.level = }" });
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe("InvalidParameterException");
    expect(res.body.message).toMatch(/^Invalid filter pattern: Expected a value/);
  });
});

describe("retention, truncation, platform events", () => {
  it("PutRetentionPolicy takes only CloudWatch's values; expired events are deleted by the alarm; DeleteRetentionPolicy clears it", async () => {
    const tenant = await newTenant("full", "logs-retention");
    const group = "/aws/lambda/retained";
    const old = Date.now() - 3 * 86_400_000;
    await recordInvocationLog(env, { tenantId: tenant.tenantId, logGroup: group, logStream: "s", lines: [{ timestamp: old, message: "three days old" }, { timestamp: Date.now(), message: "fresh" }] });
    expect(await logs(tenant, "PutRetentionPolicy", { logGroupName: group, retentionInDays: 2 })).toEqual({
      status: 400,
      body: {
        __type: "InvalidParameterException",
        message: "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
      },
    });
    await ok(tenant, "PutRetentionPolicy", { logGroupName: group, retentionInDays: 1 });
    const described = await ok<{ logGroups: { retentionInDays?: number; storedBytes: number }[] }>(tenant, "DescribeLogGroups", {});
    expect(described.logGroups[0]?.retentionInDays).toBe(1);
    expect(await runDurableObjectAlarm(logGroupObject(env, tenant.tenantId, group))).toBe(true);
    const left = await ok<{ events: { message: string }[] }>(tenant, "FilterLogEvents", { logGroupName: group });
    expect(left.events.map((e) => e.message)).toEqual(["fresh"]);
    const after = await ok<{ logGroups: { storedBytes: number }[] }>(tenant, "DescribeLogGroups", {});
    expect(after.logGroups[0]?.storedBytes).toBe("fresh".length);
    await ok(tenant, "DeleteRetentionPolicy", { logGroupName: group });
    expect((await ok<{ logGroups: { retentionInDays?: number }[] }>(tenant, "DescribeLogGroups", {})).logGroups[0]?.retentionInDays).toBeUndefined();
  });

  it("a line over 256 KB is cut to 256 KB on a character boundary; other functions' lines are kept whole", async () => {
    const tenant = await newTenant("full", "logs-big");
    const huge = `${"é".repeat(200_000)}TAIL`; // 400,004 bytes of UTF-8
    await Promise.all([
      recordInvocationLog(env, { tenantId: tenant.tenantId, logGroup: "/aws/lambda/noisy", logStream: "s", lines: [{ timestamp: Date.now(), message: huge }, { timestamp: Date.now() + 1, message: "after" }] }),
      recordInvocationLog(env, { tenantId: tenant.tenantId, logGroup: "/aws/lambda/quiet", logStream: "s", lines: [{ timestamp: Date.now(), message: "quiet line" }] }),
    ]);
    const noisy = await ok<{ events: { message: string }[] }>(tenant, "GetLogEvents", { logGroupName: "/aws/lambda/noisy", logStreamName: "s", startFromHead: true });
    const cut = noisy.events[0]?.message ?? "";
    // 256 KB = 262,144 bytes: 131,072 two-byte characters.
    expect(MAX_EVENT_BYTES).toBe(262_144);
    expect(new TextEncoder().encode(cut).length).toBe(262_144);
    expect(cut).toBe("é".repeat(131_072));
    expect(noisy.events[1]?.message).toBe("after");
    const quiet = await ok<{ events: { message: string }[] }>(tenant, "GetLogEvents", { logGroupName: "/aws/lambda/quiet", logStreamName: "s" });
    expect(quiet.events.map((e) => e.message)).toEqual(["quiet line"]);
  });

  it("reads stay within 1 MB (GetLogEvents pages on) and Insights reads big events in bounded pages", async () => {
    const tenant = await newTenant("full", "logs-mb");
    const big = "x".repeat(MAX_EVENT_BYTES);
    const at = Date.now() - 5_000;
    await recordInvocationLog(env, { tenantId: tenant.tenantId, logGroup: "/aws/lambda/big", logStream: "s", lines: Array.from({ length: 20 }, (_, i) => ({ timestamp: at + i, message: `${i}${big.slice(1)}` })) });
    type Page = { events: { message: string }[]; nextForwardToken: string };
    const first = await ok<Page>(tenant, "GetLogEvents", { logGroupName: "/aws/lambda/big", logStreamName: "s", startFromHead: true });
    expect(first.events.map((e) => e.message.length)).toEqual([MAX_EVENT_BYTES, MAX_EVENT_BYTES, MAX_EVENT_BYTES, MAX_EVENT_BYTES]);
    const second = await ok<Page>(tenant, "GetLogEvents", { logGroupName: "/aws/lambda/big", logStreamName: "s", nextToken: first.nextForwardToken });
    expect(second.events.map((e) => e.message.slice(0, 1))).toEqual(["4", "5", "6", "7"]);
    const filtered = await ok<{ events: unknown[]; nextToken?: string }>(tenant, "FilterLogEvents", { logGroupName: "/aws/lambda/big" });
    expect(filtered.events).toHaveLength(4);
    expect(filtered.nextToken).toBeTypeOf("string");
    const { queryId } = await ok<{ queryId: string }>(tenant, "StartQuery", { logGroupName: "/aws/lambda/big", startTime: Math.floor(at / 1000) - 1, endTime: Math.floor(at / 1000) + 60, queryString: "stats count(*) as n" });
    let results: { status: string; results: unknown } = { status: "Running", results: [] };
    for (let i = 0; i < 100 && results.status === "Running"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      results = await ok(tenant, "GetQueryResults", { queryId });
    }
    expect(results).toMatchObject({ status: "Complete", results: [[{ field: "n", value: "20" }]] });
  });

  it("platform events (throttles, timeouts) land in the function's group", async () => {
    const tenant = await newTenant("full", "logs-platform");
    await recordPlatformEvent(env, { tenantId: tenant.tenantId, functionName: "busy", event: { kind: "throttle", requestId: "r-1", reason: "ReservedFunctionConcurrentInvocationLimitExceeded" } });
    await recordPlatformEvent(env, { tenantId: tenant.tenantId, functionName: "busy", logStream: "2026/12/04/[$LATEST]env1", event: { kind: "timeout", requestId: "r-2", timeoutSeconds: 3 } });
    const events = await ok<{ events: { logStreamName: string; message: string }[] }>(tenant, "FilterLogEvents", { logGroupName: "/aws/lambda/busy" });
    expect(events.events.map((e) => [e.logStreamName, e.message.replace(/^\S+/, "<t>")])).toEqual([
      ["platform", "<t>\tr-1\tWARN\tPLATFORM Throttled: ReservedFunctionConcurrentInvocationLimitExceeded"],
      ["2026/12/04/[$LATEST]env1", "<t> r-2 Task timed out after 3.00 seconds"],
    ]);
  });
});
