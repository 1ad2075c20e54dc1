import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { recordInvocationLog } from "../../src/logs/ingest";
import { awsJson, newTenant, type TenantKey } from "../helpers/platform";

// CloudWatch Logs operations users' own tools call (create, put), Logs
// Insights queries, bad input, and tenant isolation on every operation.

interface LogsResponse {
  status: number;
  body: Record<string, unknown>;
}

async function logs(key: TenantKey, operation: string, input: unknown, service = "logs"): Promise<LogsResponse> {
  const { status, body } = await awsJson(key, service, `Logs_20140328.${operation}`, input);
  return { status, body };
}

async function ok<T = Record<string, unknown>>(key: TenantKey, operation: string, input: unknown): Promise<T> {
  const res = await logs(key, operation, input);
  if (res.status !== 200) throw new Error(`${operation}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

type QueryResults = { status: string; results: { field: string; value: string }[][]; statistics: Record<string, number> };

async function queryResults(key: TenantKey, queryId: string): Promise<QueryResults> {
  for (let i = 0; i < 100; i++) {
    const res = await ok<QueryResults>(key, "GetQueryResults", { queryId });
    if (res.status !== "Running" && res.status !== "Scheduled") return res;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`query ${queryId} still running`);
}

const T0 = Math.floor(Date.now() / 1000) * 1000 - 120_000;
let acme: TenantKey;
let other: TenantKey;

beforeAll(async () => {
  acme = await newTenant("full", "logsapi-acme");
  other = await newTenant("full", "logsapi-other");
  // 12 invocations of "api": 4 per second over 3 seconds, durations 1..12 ms, the first a cold start.
  const lines = [];
  for (let i = 0; i < 12; i++) {
    const at = T0 + Math.floor(i / 4) * 1000 + (i % 4) * 10;
    lines.push({ timestamp: at, message: `START RequestId: r-${i} Version: $LATEST` });
    lines.push({ timestamp: at + 1, message: `${new Date(at + 1).toISOString()}\tr-${i}\tINFO\t${JSON.stringify({ route: i % 2 ? "/buy" : "/view", status: i % 3 === 0 ? 500 : 200 })}` });
    lines.push({ timestamp: at + 2, message: `END RequestId: r-${i}` });
    const init = i === 0 ? "\tInit Duration: 120.00 ms" : "";
    lines.push({ timestamp: at + 2, message: `REPORT RequestId: r-${i}\tDuration: ${i + 1}.00 ms\tBilled Duration: ${i + 1} ms\tMemory Size: 128 MB${init}\t` });
  }
  await recordInvocationLog(env, { tenantId: acme.tenantId, logGroup: "/aws/lambda/api", logStream: "2026/12/04/[$LATEST]e1", lines });
});

describe("groups, streams and events from users' tools", () => {
  it("CreateLogGroup, CreateLogStream, PutLogEvents, then read back; duplicates are ResourceAlreadyExistsException", async () => {
    await ok(acme, "CreateLogGroup", { logGroupName: "app/custom" });
    expect(await logs(acme, "CreateLogGroup", { logGroupName: "app/custom" })).toEqual({ status: 400, body: { __type: "ResourceAlreadyExistsException", message: "The specified log group already exists" } });
    await ok(acme, "CreateLogStream", { logGroupName: "app/custom", logStreamName: "web-1" });
    expect(await logs(acme, "CreateLogStream", { logGroupName: "app/custom", logStreamName: "web-1" })).toEqual({ status: 400, body: { __type: "ResourceAlreadyExistsException", message: "The specified log stream already exists" } });
    const now = Date.now();
    expect(await ok(acme, "PutLogEvents", { logGroupName: "app/custom", logStreamName: "web-1", logEvents: [{ timestamp: now - 1, message: "one" }, { timestamp: now, message: "two" }] })).toEqual({});
    const got = await ok<{ events: { message: string; timestamp: number }[] }>(acme, "GetLogEvents", { logGroupName: "app/custom", logStreamName: "web-1", startFromHead: true });
    expect(got.events.map((e) => [e.message, e.timestamp])).toEqual([["one", now - 1], ["two", now]]);
  });

  it("PutLogEvents of 47 events (more than one multi-row insert) keeps every event, in order, with the stream's byte count", async () => {
    await ok(acme, "CreateLogGroup", { logGroupName: "app/many" });
    await ok(acme, "CreateLogStream", { logGroupName: "app/many", logStreamName: "s" });
    const now = Date.now();
    const logEvents = Array.from({ length: 47 }, (_, i) => ({ timestamp: now - 47 + i, message: `line ${i} ${"x".repeat(i)}` }));
    expect(await ok(acme, "PutLogEvents", { logGroupName: "app/many", logStreamName: "s", logEvents })).toEqual({});
    const got = await ok<{ events: { message: string; timestamp: number }[] }>(acme, "GetLogEvents", { logGroupName: "app/many", logStreamName: "s", startFromHead: true });
    expect(got.events.map((e) => [e.message, e.timestamp])).toEqual(logEvents.map((e) => [e.message, e.timestamp]));
    const streams = await ok<{ logStreams: { logStreamName: string; storedBytes: number }[] }>(acme, "DescribeLogStreams", { logGroupName: "app/many" });
    expect(streams.logStreams[0]?.storedBytes).toBe(logEvents.reduce((n, e) => n + e.message.length, 0));
  });

  it("PutLogEvents reports events too old, past retention or too new, and stores the rest", async () => {
    await ok(acme, "CreateLogGroup", { logGroupName: "app/edges" });
    await ok(acme, "CreateLogStream", { logGroupName: "app/edges", logStreamName: "s" });
    const now = Date.now();
    const DAY = 86_400_000;
    const HOUR = 3_600_000;
    const put = (logEvents: { timestamp: number; message: string }[]) => ok(acme, "PutLogEvents", { logGroupName: "app/edges", logStreamName: "s", logEvents });
    expect(await put([{ timestamp: now - 14 * DAY - 2 * HOUR, message: "ancient" }, { timestamp: now - 14 * DAY - HOUR, message: "ancient too" }, { timestamp: now - 14 * DAY + HOUR, message: "old but kept" }])).toEqual({
      rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1 },
    });
    expect(await put([{ timestamp: now, message: "kept" }, { timestamp: now + 3 * HOUR, message: "future" }])).toEqual({ rejectedLogEventsInfo: { tooNewLogEventStartIndex: 1 } });
    const got = await ok<{ events: { message: string }[] }>(acme, "FilterLogEvents", { logGroupName: "app/edges" });
    expect(got.events.map((e) => e.message)).toEqual(["old but kept", "kept"]);

    await ok(acme, "CreateLogGroup", { logGroupName: "app/edges-retained" });
    await ok(acme, "CreateLogStream", { logGroupName: "app/edges-retained", logStreamName: "s" });
    await ok(acme, "PutRetentionPolicy", { logGroupName: "app/edges-retained", retentionInDays: 1 });
    const retained = await ok(acme, "PutLogEvents", {
      logGroupName: "app/edges-retained",
      logStreamName: "s",
      logEvents: [{ timestamp: now - DAY - 2 * HOUR, message: "past retention" }, { timestamp: now - 23 * HOUR, message: "within retention" }],
    });
    expect(retained).toEqual({ rejectedLogEventsInfo: { expiredLogEventEndIndex: 0 } });
    const kept = await ok<{ events: { message: string }[] }>(acme, "FilterLogEvents", { logGroupName: "app/edges-retained" });
    expect(kept.events.map((e) => e.message)).toEqual(["within retention"]);
  });

  it("PutLogEvents refuses out-of-order batches and missing streams, storing nothing", async () => {
    await ok(acme, "CreateLogGroup", { logGroupName: "app/order" });
    await ok(acme, "CreateLogStream", { logGroupName: "app/order", logStreamName: "s" });
    const now = Date.now();
    expect(await logs(acme, "PutLogEvents", { logGroupName: "app/order", logStreamName: "s", logEvents: [{ timestamp: now, message: "b" }, { timestamp: now - 5, message: "a" }] })).toEqual({
      status: 400,
      body: { __type: "InvalidParameterException", message: "Log events in a single PutLogEvents request must be in chronological order." },
    });
    expect(await logs(acme, "PutLogEvents", { logGroupName: "app/order", logStreamName: "nope", logEvents: [{ timestamp: now, message: "x" }] })).toEqual({
      status: 400,
      body: { __type: "ResourceNotFoundException", message: "The specified log stream does not exist." },
    });
    expect((await ok<{ events: unknown[] }>(acme, "FilterLogEvents", { logGroupName: "app/order" })).events).toEqual([]);
  });

  it("DeleteLogGroup removes the group and its events; a second delete is ResourceNotFoundException", async () => {
    await ok(acme, "CreateLogGroup", { logGroupName: "app/doomed" });
    await ok(acme, "CreateLogStream", { logGroupName: "app/doomed", logStreamName: "s" });
    await ok(acme, "PutLogEvents", { logGroupName: "app/doomed", logStreamName: "s", logEvents: [{ timestamp: Date.now(), message: "bye" }] });
    await ok(acme, "DeleteLogGroup", { logGroupName: "app/doomed" });
    const listed = await ok<{ logGroups: { logGroupName: string }[] }>(acme, "DescribeLogGroups", { logGroupNamePrefix: "app/doomed" });
    expect(listed.logGroups).toEqual([]);
    expect(await logs(acme, "DeleteLogGroup", { logGroupName: "app/doomed" })).toEqual({ status: 400, body: { __type: "ResourceNotFoundException", message: "The specified log group does not exist." } });
    // Re-created, it starts empty.
    await ok(acme, "CreateLogGroup", { logGroupName: "app/doomed" });
    expect((await ok<{ logStreams: unknown[] }>(acme, "DescribeLogStreams", { logGroupName: "app/doomed" })).logStreams).toEqual([]);
  });
});

describe("Logs Insights", () => {
  const range = { startTime: Math.floor(T0 / 1000) - 1, endTime: Math.floor(T0 / 1000) + 10 };

  it("stats count(*), avg(@duration), pct(@duration, 50) by bin(1s) with exact figures", async () => {
    const { queryId } = await ok<{ queryId: string }>(acme, "StartQuery", {
      logGroupName: "/aws/lambda/api",
      ...range,
      queryString: "filter @type = 'REPORT' | stats count(*), avg(@duration), pct(@duration, 50) by bin(1s)",
    });
    expect(queryId).toMatch(/^[0-9a-f-]{36}$/);
    const res = await queryResults(acme, queryId);
    expect(res.status).toBe("Complete");
    const second = (n: number) => new Date(T0 + n * 1000).toISOString().replace("T", " ").replace("Z", "");
    expect(res.results).toEqual([
      [{ field: "bin(1s)", value: second(0) }, { field: "count(*)", value: "4" }, { field: "avg(@duration)", value: "2.5" }, { field: "pct(@duration, 50)", value: "2" }],
      [{ field: "bin(1s)", value: second(1) }, { field: "count(*)", value: "4" }, { field: "avg(@duration)", value: "6.5" }, { field: "pct(@duration, 50)", value: "6" }],
      [{ field: "bin(1s)", value: second(2) }, { field: "count(*)", value: "4" }, { field: "avg(@duration)", value: "10.5" }, { field: "pct(@duration, 50)", value: "10" }],
    ]);
    expect(res.statistics).toMatchObject({ recordsMatched: 12, recordsScanned: 48, logGroupsScanned: 1 });
  });

  it("fields and JSON fields, by ARN, sorted and limited; @initDuration only on the cold start", async () => {
    const { queryId } = await ok<{ queryId: string }>(acme, "StartQuery", {
      logGroupIdentifiers: [`arn:aws:logs:us-east-1:${acme.accountId}:log-group:/aws/lambda/api`],
      ...range,
      queryString: "filter status = 500 | fields @requestId, route | sort @timestamp asc | limit 3",
    });
    const res = await queryResults(acme, queryId);
    expect(res.results).toEqual([
      [{ field: "@requestId", value: "r-0" }, { field: "route", value: "/view" }],
      [{ field: "@requestId", value: "r-3" }, { field: "route", value: "/buy" }],
      [{ field: "@requestId", value: "r-6" }, { field: "route", value: "/view" }],
    ]);
    const cold = await queryResults(acme, (await ok<{ queryId: string }>(acme, "StartQuery", { logGroupName: "/aws/lambda/api", ...range, queryString: "filter ispresent(@initDuration) | stats count(*) as cold, max(@initDuration) as init" })).queryId);
    expect(cold.results).toEqual([[{ field: "cold", value: "1" }, { field: "init", value: "120" }]]);
  });

  it("parse, then stats by the parsed field", async () => {
    const { queryId } = await ok<{ queryId: string }>(acme, "StartQuery", { logGroupName: "/aws/lambda/api", ...range, queryString: `parse @message '"route":"*"' as path | filter ispresent(path) | stats count(*) as n by path` });
    expect((await queryResults(acme, queryId)).results).toEqual([
      [{ field: "path", value: "/buy" }, { field: "n", value: "6" }],
      [{ field: "path", value: "/view" }, { field: "n", value: "6" }],
    ]);
  });

  it("unsupported syntax is MalformedQueryException naming it; a missing group is ResourceNotFoundException", async () => {
    expect(await logs(acme, "StartQuery", { logGroupName: "/aws/lambda/api", ...range, queryString: "fields @message | dedup @requestId" })).toEqual({
      status: 400,
      body: { __type: "MalformedQueryException", message: "Unsupported command: dedup (cellfn runs fields, display, filter, parse, stats, sort and limit)" },
    });
    expect(await logs(acme, "StartQuery", { logGroupName: "/aws/lambda/none", ...range, queryString: "fields @message" })).toEqual({
      status: 400,
      body: { __type: "ResourceNotFoundException", message: `Log group '/aws/lambda/none' does not exist for account ID '${acme.accountId}'` },
    });
    expect((await logs(acme, "StartQuery", { logGroupName: "/aws/lambda/api", startTime: 10, endTime: 5, queryString: "fields @message" })).body.__type).toBe("InvalidParameterException");
  });

  it("StopQuery on a finished query answers success false; an unknown query id is ResourceNotFoundException", async () => {
    const { queryId } = await ok<{ queryId: string }>(acme, "StartQuery", { logGroupName: "/aws/lambda/api", ...range, queryString: "fields @message | limit 1" });
    await queryResults(acme, queryId);
    expect(await ok(acme, "StopQuery", { queryId })).toEqual({ success: false });
    expect(await logs(acme, "GetQueryResults", { queryId: "00000000-0000-0000-0000-000000000000" })).toEqual({ status: 400, body: { __type: "ResourceNotFoundException", message: "Query does not exist." } });
  });
});

describe("bad input", () => {
  it.each([
    ["DescribeLogStreams", {}, "InvalidParameterException", "Either LogGroup name or LogGroup ARN must be present."],
    ["CreateLogGroup", {}, "InvalidParameterException", "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"],
    ["CreateLogGroup", { logGroupName: "bad name!" }, "InvalidParameterException", "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"],
    ["CreateLogGroup", { logGroupName: 42 }, "SerializationException", "Expected string for 'logGroupName', found number"],
    ["DescribeLogGroups", { limit: 0 }, "InvalidParameterException", "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"],
    ["DescribeLogGroups", { logGroupNamePrefix: "/a", logGroupNamePattern: "b" }, "InvalidParameterException", "LogGroup name prefix, LogGroup name pattern and LogGroup identifiers are mutually exclusive parameters."],
    ["GetLogEvents", { logGroupName: "/aws/lambda/api", logStreamName: "2026/12/04/[$LATEST]e1", nextToken: "f/xyz" }, "InvalidParameterException", "The specified nextToken is invalid."],
    ["FilterLogEvents", { logGroupName: "/aws/lambda/api", nextToken: "!!" }, "InvalidParameterException", "The specified nextToken is invalid."],
    ["DescribeLogStreams", { logGroupName: "/aws/lambda/api", orderBy: "Size" }, "InvalidParameterException", "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"],
    ["PutRetentionPolicy", { logGroupName: "/aws/lambda/api" }, "InvalidParameterException", "1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null"],
    ["PutLogEvents", { logGroupName: "/aws/lambda/api", logStreamName: "x", logEvents: [{ timestamp: 1, message: "" }] }, "InvalidParameterException", "1 validation error detected: Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    ["StartQuery", { logGroupName: "/aws/lambda/api", startTime: 0, endTime: 1, queryString: "stats stddev(@duration)" }, "MalformedQueryException", "Unsupported stats function: stddev"],
    ["DeleteEverything", {}, "UnknownOperationException", "Unknown operation: DeleteEverything"],
  ])("%s %j → %s", async (operation, input, type, message) => {
    expect(await logs(acme, operation, input)).toEqual({ status: 400, body: { __type: type, message } });
  });

  it("a body that is not JSON is SerializationException; a request signed for another service is refused", async () => {
    expect((await logs(acme, "DescribeLogGroups", "{not json")).body.__type).toBe("SerializationException");
    const wrongService = await logs(acme, "DescribeLogGroups", {}, "lambda");
    expect(wrongService.status).toBeGreaterThanOrEqual(400);
    expect(wrongService.body.logGroups).toBeUndefined();
  });
});

describe("invoke-only keys", () => {
  it("read logs and run queries, but cannot create, put, change retention or delete", async () => {
    const reader = await newTenant("invoke", "logsapi-reader");
    await recordInvocationLog(env, { tenantId: reader.tenantId, logGroup: "/aws/lambda/r", logStream: "s", lines: [{ timestamp: Date.now(), message: "hello" }] });
    expect((await ok<{ events: { message: string }[] }>(reader, "FilterLogEvents", { logGroupName: "/aws/lambda/r" })).events.map((e) => e.message)).toEqual(["hello"]);
    expect((await ok<{ queryId: string }>(reader, "StartQuery", { logGroupName: "/aws/lambda/r", startTime: 0, endTime: 2_000_000_000, queryString: "stats count(*)" })).queryId).toBeTypeOf("string");
    for (const [operation, input] of [
      ["CreateLogGroup", { logGroupName: "/aws/lambda/new" }],
      ["CreateLogStream", { logGroupName: "/aws/lambda/r", logStreamName: "t" }],
      ["PutLogEvents", { logGroupName: "/aws/lambda/r", logStreamName: "s", logEvents: [{ timestamp: Date.now(), message: "no" }] }],
      ["PutRetentionPolicy", { logGroupName: "/aws/lambda/r", retentionInDays: 1 }],
      ["DeleteRetentionPolicy", { logGroupName: "/aws/lambda/r" }],
      ["DeleteLogGroup", { logGroupName: "/aws/lambda/r" }],
    ] as const) {
      const res = await logs(reader, operation, input);
      expect(res.status, operation).toBe(400);
      expect(res.body.__type, operation).toBe("AccessDeniedException");
      expect(res.body.message, operation).toContain(`logs:${operation}`);
    }
    const groups = await ok<{ logGroups: { logGroupName: string; retentionInDays?: number }[] }>(reader, "DescribeLogGroups", {});
    expect(groups.logGroups).toEqual([expect.objectContaining({ logGroupName: "/aws/lambda/r" })]);
    expect(groups.logGroups[0]?.retentionInDays).toBeUndefined();
  });
});

describe("tenant isolation: another tenant's group by name or ARN is exactly a missing group", () => {
  // Identifiers are ARNs without DescribeLogGroups' trailing `:*` (the model's pattern has no `*`).
  const arn = () => `arn:aws:logs:us-east-1:${acme.accountId}:log-group:/aws/lambda/api`;
  const missingArn = () => `arn:aws:logs:us-east-1:${other.accountId}:log-group:/aws/lambda/nothing-here`;
  const stream = "2026/12/04/[$LATEST]e1";
  const cases: [string, (group: Record<string, string>) => Record<string, unknown>][] = [
    ["DescribeLogStreams", (g) => ({ ...g })],
    ["GetLogEvents", (g) => ({ ...g, logStreamName: stream })],
    ["FilterLogEvents", (g) => ({ ...g })],
    ["StartQuery", (g) => ({ ...(g.logGroupName ? { logGroupName: g.logGroupName } : { logGroupIdentifiers: [g.logGroupIdentifier] }), startTime: 0, endTime: 2_000_000_000, queryString: "fields @message" })],
  ];

  // StartQuery's message names the group (as Insights' does): compared with the names masked.
  const masked = async (operation: string, input: Record<string, unknown>) => {
    const res = await logs(other, operation, input);
    return { ...res, body: { ...res.body, message: String(res.body.message).replace("/aws/lambda/nothing-here", "<group>").replace("/aws/lambda/api", "<group>") } };
  };

  it.each(cases)("%s by name and by ARN", async (operation, input) => {
    const missingByName = await masked(operation, input({ logGroupName: "/aws/lambda/nothing-here" }));
    expect(missingByName.status).toBe(400);
    expect(missingByName.body).toMatchObject({ __type: "ResourceNotFoundException" });
    expect(await masked(operation, input({ logGroupName: "/aws/lambda/api" }))).toEqual(missingByName);
    expect(await masked(operation, input({ logGroupIdentifier: arn() }))).toEqual(await masked(operation, input({ logGroupIdentifier: missingArn() })));
    expect(await masked(operation, input({ logGroupIdentifier: arn() }))).toEqual(missingByName);
  });

  it.each([
    ["PutRetentionPolicy", { retentionInDays: 1 }],
    ["DeleteRetentionPolicy", {}],
    ["DeleteLogGroup", {}],
    ["CreateLogStream", { logStreamName: "intruder" }],
    ["PutLogEvents", { logStreamName: stream, logEvents: [{ timestamp: Date.now(), message: "intruder" }] }],
  ])("%s changes nothing of the other tenant's and answers as for a missing group", async (operation, extra) => {
    const missing = await logs(other, operation, { logGroupName: "/aws/lambda/nothing-here", ...extra });
    expect(missing.status).toBe(400);
    expect(await logs(other, operation, { logGroupName: "/aws/lambda/api", ...extra })).toEqual(missing);
    // acme's group is untouched: still there, no retention, no intruder stream or line.
    const described = await ok<{ logGroups: Record<string, unknown>[] }>(acme, "DescribeLogGroups", { logGroupNamePrefix: "/aws/lambda/api" });
    expect(described.logGroups).toHaveLength(1);
    expect(described.logGroups[0]?.retentionInDays).toBeUndefined();
    const streams = await ok<{ logStreams: { logStreamName: string }[] }>(acme, "DescribeLogStreams", { logGroupName: "/aws/lambda/api" });
    expect(streams.logStreams.map((s) => s.logStreamName)).toEqual([stream]);
    expect((await ok<{ events: unknown[] }>(acme, "FilterLogEvents", { logGroupName: "/aws/lambda/api", filterPattern: "intruder" })).events).toEqual([]);
  });

  it("DescribeLogGroups never lists another tenant's groups, by prefix, pattern or ARN", async () => {
    expect((await ok<{ logGroups: unknown[] }>(other, "DescribeLogGroups", {})).logGroups).toEqual([]);
    expect((await ok<{ logGroups: unknown[] }>(other, "DescribeLogGroups", { logGroupNamePrefix: "/aws/lambda/api" })).logGroups).toEqual([]);
    expect((await ok<{ logGroups: unknown[] }>(other, "DescribeLogGroups", { logGroupNamePattern: "api" })).logGroups).toEqual([]);
    expect((await ok<{ logGroups: unknown[] }>(other, "DescribeLogGroups", { logGroupIdentifiers: [arn()] })).logGroups).toEqual([]);
  });

  it("another tenant cannot read or stop a query by its id", async () => {
    const { queryId } = await ok<{ queryId: string }>(acme, "StartQuery", { logGroupName: "/aws/lambda/api", startTime: 0, endTime: 2_000_000_000, queryString: "stats count(*)" });
    const unknown = await logs(other, "GetQueryResults", { queryId: crypto.randomUUID() });
    expect(await logs(other, "GetQueryResults", { queryId })).toEqual(unknown);
    expect(await logs(other, "StopQuery", { queryId })).toEqual(await logs(other, "StopQuery", { queryId: crypto.randomUUID() }));
    expect((await queryResults(acme, queryId)).status).toBe("Complete");
  });

  it("CreateLogGroup with another tenant's name creates the caller's own, separate group", async () => {
    await ok(other, "CreateLogGroup", { logGroupName: "/aws/lambda/api" });
    expect((await ok<{ logStreams: unknown[] }>(other, "DescribeLogStreams", { logGroupName: "/aws/lambda/api" })).logStreams).toEqual([]);
    expect((await ok<{ logStreams: unknown[] }>(acme, "DescribeLogStreams", { logGroupName: "/aws/lambda/api" })).logStreams).toHaveLength(1);
    await ok(other, "DeleteLogGroup", { logGroupName: "/aws/lambda/api" });
    expect((await ok<{ logStreams: unknown[] }>(acme, "DescribeLogStreams", { logGroupName: "/aws/lambda/api" })).logStreams).toHaveLength(1);
  });
});
