import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { errorOf, newTenant, signed } from "../helpers/platform";
import { arnOf, createQueue } from "../helpers/sqs";
import { ESM, makeFunction, makeStream, map, shardStatus, streamArnOf, until } from "../helpers/streams";

// The event source mapping API with Kinesis sources, in workerd: the fields
// Lambda answers for stream mappings, AWS's errors for bad input (nothing
// stored when refused), and tenant isolation for every operation.

let a: TenantKey;
let b: TenantKey;
let fnA: string;
let fnB: string;
let streamA: string;
let streamB: string;
let dlqA: string;

beforeAll(async () => {
  [a, b] = await Promise.all([newTenant(), newTenant()]);
  [fnA, fnB] = await Promise.all([makeFunction(a, "api", "exports.handler = async () => ({});"), makeFunction(b, "api", "exports.handler = async () => ({});")]);
  [streamA, streamB] = await Promise.all([makeStream(a, "api-a", 2), makeStream(b, "api-b", 1)]);
  dlqA = `api-dlq-${Date.now()}`;
  await createQueue(a, dlqA);
}, 120_000);

async function refused(key: TenantKey, method: string, path: string, body?: unknown) {
  const res = await signed(key, method, path, body);
  return errorOf(res);
}

async function mappingCount(key: TenantKey, sourceArn: string): Promise<number> {
  const res = await signed(key, "GET", `${ESM}?EventSourceArn=${encodeURIComponent(sourceArn)}`);
  return (await res.json<{ EventSourceMappings: unknown[] }>()).EventSourceMappings.length;
}

describe("stream event source mappings: the API", () => {
  it("creates, gets, lists, updates and deletes a Kinesis mapping with Lambda's fields", async () => {
    const arn = streamArnOf(a, streamA);
    const res = await signed(a, "POST", ESM, {
      FunctionName: fnA,
      EventSourceArn: arn,
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 50,
      MaximumRetryAttempts: 2,
      BisectBatchOnFunctionError: true,
      ParallelizationFactor: 3,
      MaximumRecordAgeInSeconds: 120,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      DestinationConfig: { OnFailure: { Destination: arnOf(a, dlqA) } },
    });
    expect(res.status).toBe(202);
    const created = await res.json<Record<string, unknown>>();
    expect(created).toMatchObject({
      UUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 3,
      EventSourceArn: arn,
      FunctionArn: `arn:aws:lambda:us-east-1:${a.accountId}:function:${fnA}`,
      LastProcessingResult: "No records processed",
      State: "Creating",
      StateTransitionReason: "USER_INITIATED",
      DestinationConfig: { OnFailure: { Destination: arnOf(a, dlqA) } },
      MaximumRecordAgeInSeconds: 120,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      TumblingWindowInSeconds: 0,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect(created).not.toHaveProperty("ScalingConfig");
    const uuid = created.UUID as string;

    const got = await until("Enabled", async () => (await signed(a, "GET", `${ESM}/${uuid}`)).json<Record<string, unknown>>(), (m) => m.State === "Enabled");
    expect(got.ParallelizationFactor).toBe(3);
    // One shard poller per shard, each with a checkpoint at the (empty) stream's start: position 0, or 1 once it has polled.
    const shards = await until("shard pollers", () => Promise.all([shardStatus(a, uuid, 0), shardStatus(a, uuid, 1)]), (s) => s.every((x) => x.checkpoint !== null));
    for (const shard of shards) expect(shard.checkpoint).toBeLessThanOrEqual(1);

    expect(await mappingCount(a, arn)).toBe(1);

    const updated = await signed(a, "PUT", `${ESM}/${uuid}`, { MaximumRetryAttempts: -1, BatchSize: 10, DestinationConfig: { OnFailure: {} } });
    expect(updated.status).toBe(202);
    const after = await updated.json<Record<string, unknown>>();
    expect(after).toMatchObject({ MaximumRetryAttempts: -1, BatchSize: 10, StartingPosition: "TRIM_HORIZON", BisectBatchOnFunctionError: true, DestinationConfig: { OnFailure: {} } });

    const deleted = await signed(a, "DELETE", `${ESM}/${uuid}`);
    expect(deleted.status).toBe(202);
    expect((await deleted.json<{ State: string }>()).State).toBe("Deleting");
    expect((await signed(a, "GET", `${ESM}/${uuid}`)).status).toBe(404);
    // The shard pollers forgot their checkpoints.
    expect((await shardStatus(a, uuid, 0)).checkpoint).toBeNull();
  });

  it("starts at LATEST and AT_TIMESTAMP", async () => {
    const arn = streamArnOf(a, streamA);
    const latest = await map(a, { FunctionName: fnA, EventSourceArn: arn, StartingPosition: "LATEST" });
    const at = await signed(a, "POST", ESM, { FunctionName: fnA, EventSourceArn: arn, StartingPosition: "AT_TIMESTAMP", StartingPositionTimestamp: Date.now() / 1000 - 10 });
    // One mapping per stream and function, as Lambda.
    expect(await errorOf(at)).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: `The event source arn (" ${arn} ") and function (" ${fnA} ") provided mapping already exists. Please update or delete the existing mapping with UUID ${latest}`,
    });
    await signed(a, "DELETE", `${ESM}/${latest}`);
    const ts = Math.floor(Date.now() / 1000) - 10;
    const atUuid = await map(a, { FunctionName: fnA, EventSourceArn: arn, StartingPosition: "AT_TIMESTAMP", StartingPositionTimestamp: ts });
    const got = await (await signed(a, "GET", `${ESM}/${atUuid}`)).json<Record<string, unknown>>();
    expect(got).toMatchObject({ StartingPosition: "AT_TIMESTAMP", StartingPositionTimestamp: ts });
    await signed(a, "DELETE", `${ESM}/${atUuid}`);
  });
});

describe("stream event source mappings: bad input", () => {
  const cases: [string, () => Record<string, unknown>, { status: number; type: string; message: string | RegExp }][] = [
    ["no StartingPosition", () => ({}), { status: 400, type: "InvalidParameterValueException", message: "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null." }],
    ["an unknown StartingPosition", () => ({ StartingPosition: "EARLIEST" }), { status: 400, type: "ValidationException", message: /Member must satisfy enum value set: \[TRIM_HORIZON, LATEST, AT_TIMESTAMP\]/ }],
    ["AT_TIMESTAMP without a timestamp", () => ({ StartingPosition: "AT_TIMESTAMP" }), { status: 400, type: "InvalidParameterValueException", message: /StartingPositionTimestamp/ }],
    ["a timestamp in the future", () => ({ StartingPosition: "AT_TIMESTAMP", StartingPositionTimestamp: Date.now() / 1000 + 3600 }), { status: 400, type: "InvalidParameterValueException", message: /future/ }],
    ["ParallelizationFactor 11", () => ({ StartingPosition: "LATEST", ParallelizationFactor: 11 }), { status: 400, type: "ValidationException", message: /Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have value less than or equal to 10/ }],
    ["MaximumRetryAttempts 10001", () => ({ StartingPosition: "LATEST", MaximumRetryAttempts: 10_001 }), { status: 400, type: "ValidationException", message: /maximumRetryAttempts/ }],
    ["MaximumRecordAgeInSeconds 30", () => ({ StartingPosition: "LATEST", MaximumRecordAgeInSeconds: 30 }), { status: 400, type: "InvalidParameterValueException", message: /-1 or between 60 and 604800/ }],
    ["BatchSize 10001", () => ({ StartingPosition: "LATEST", BatchSize: 10_001 }), { status: 400, type: "ValidationException", message: /batchSize/ }],
    ["ScalingConfig", () => ({ StartingPosition: "LATEST", ScalingConfig: { MaximumConcurrency: 5 } }), { status: 400, type: "InvalidParameterValueException", message: "Unsupported ScalingConfig parameter for given event source mapping type." }],
    ["an OnSuccess destination", () => ({ StartingPosition: "LATEST", DestinationConfig: { OnSuccess: { Destination: arnOf(a, dlqA) } } }), { status: 400, type: "InvalidParameterValueException", message: /DestinationConfig\(onSuccess=OnSuccess/ }],
    ["a missing on-failure queue", () => ({ StartingPosition: "LATEST", DestinationConfig: { OnFailure: { Destination: arnOf(a, "no-such-queue") } } }), { status: 400, type: "InvalidParameterValueException", message: /is invalid\.$/ }],
    ["another tenant's on-failure queue", () => ({ StartingPosition: "LATEST", DestinationConfig: { OnFailure: { Destination: arnOf(b, "q") } } }), { status: 400, type: "InvalidParameterValueException", message: /is invalid\.$/ }],
    ["a Kinesis filter on body", () => ({ StartingPosition: "LATEST", FilterCriteria: { Filters: [{ Pattern: '{"body":["x"]}' }] } }), { status: 400, type: "InvalidParameterValueException", message: "Invalid filter pattern definition." }],
    ["a tumbling window with ParallelizationFactor 2", () => ({ StartingPosition: "LATEST", TumblingWindowInSeconds: 60, ParallelizationFactor: 2 }), { status: 400, type: "InvalidParameterValueException", message: "TumblingWindowInSeconds is not supported with a ParallelizationFactor greater than 1." }],
    ["TumblingWindowInSeconds 901", () => ({ StartingPosition: "LATEST", TumblingWindowInSeconds: 901 }), { status: 400, type: "ValidationException", message: /tumblingWindowInSeconds/ }],
    // cellfn serves no SNS or S3 API: Lambda's answer when it cannot deliver there.
    ["an SNS on-failure topic", () => ({ StartingPosition: "LATEST", DestinationConfig: { OnFailure: { Destination: `arn:aws:sns:us-east-1:${a.accountId}:alerts` } } }), { status: 400, type: "InvalidParameterValueException", message: "The provided execution role does not have permissions to call Publish on SNS" }],
    ["an S3 on-failure bucket", () => ({ StartingPosition: "LATEST", DestinationConfig: { OnFailure: { Destination: "arn:aws:s3:::failed-batches" } } }), { status: 400, type: "InvalidParameterValueException", message: "The function execution role does not have permissions to call PutObject on S3" }],
  ];
  for (const [what, extra, expected] of cases) {
    it(`refuses ${what} and stores nothing`, async () => {
      const arn = streamArnOf(a, streamA);
      const got = await refused(a, "POST", ESM, { FunctionName: fnA, EventSourceArn: arn, ...extra() });
      expect({ status: got.status, type: got.type }).toEqual({ status: expected.status, type: expected.type });
      if (typeof expected.message === "string") expect(got.message).toBe(expected.message);
      else expect(got.message).toMatch(expected.message);
      expect(await mappingCount(a, arn)).toBe(0);
    });
  }

  it("refuses a missing stream, and stream settings on an SQS source", async () => {
    const missing = streamArnOf(a, "no-such-stream");
    expect(await refused(a, "POST", ESM, { FunctionName: fnA, EventSourceArn: missing, StartingPosition: "LATEST" })).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: `Stream not found: ${missing}`,
    });
    const queue = await createQueue(a, `api-src-${Date.now()}`);
    const queueArn = arnOf(a, queue.split("/").pop() ?? "");
    expect(await refused(a, "POST", ESM, { FunctionName: fnA, EventSourceArn: queueArn, StartingPosition: "LATEST" })).toMatchObject({
      status: 400,
      message: "StartingPosition is not valid for SQS event sources.",
    });
    expect(await refused(a, "POST", ESM, { FunctionName: fnA, EventSourceArn: queueArn, MaximumRetryAttempts: 1 })).toMatchObject({
      status: 400,
      message: "Unsupported MaximumRetryAttempts parameter for given event source mapping type.",
    });
    expect(await mappingCount(a, queueArn)).toBe(0);
  });

  it("an update refuses StartingPosition and bad values, and changes nothing", async () => {
    const uuid = await map(a, { FunctionName: fnA, EventSourceArn: streamArnOf(a, streamA), StartingPosition: "LATEST", MaximumRetryAttempts: 5 });
    expect(await refused(a, "PUT", `${ESM}/${uuid}`, { StartingPosition: "TRIM_HORIZON" })).toMatchObject({ status: 400, type: "InvalidRequestContentException" });
    expect(await refused(a, "PUT", `${ESM}/${uuid}`, { MaximumRetryAttempts: 1, MaximumRecordAgeInSeconds: 1 })).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    const got = await (await signed(a, "GET", `${ESM}/${uuid}`)).json<Record<string, unknown>>();
    expect(got).toMatchObject({ MaximumRetryAttempts: 5, MaximumRecordAgeInSeconds: -1, StartingPosition: "LATEST" });
    await signed(a, "DELETE", `${ESM}/${uuid}`);
  });
});

describe("stream event source mappings: tenant isolation", () => {
  it("a tenant can neither map another tenant's stream nor see, change or delete its mappings", async () => {
    const uuid = await map(a, { FunctionName: fnA, EventSourceArn: streamArnOf(a, streamA), StartingPosition: "LATEST" });

    // A's stream by A's ARN, and by B's own account with A's stream name: both unknown to B.
    for (const arn of [streamArnOf(a, streamA), streamArnOf(b, streamA)]) {
      expect(await refused(b, "POST", ESM, { FunctionName: fnB, EventSourceArn: arn, StartingPosition: "LATEST" })).toEqual({
        status: 400,
        type: "InvalidParameterValueException",
        message: `Stream not found: ${arn}`,
      });
    }
    // B's own stream works for B.
    const own = await map(b, { FunctionName: fnB, EventSourceArn: streamArnOf(b, streamB), StartingPosition: "LATEST" });

    for (const [method, body] of [["GET", undefined], ["PUT", { BatchSize: 5 }], ["DELETE", undefined]] as const) {
      const got = await refused(b, method, `${ESM}/${uuid}`, body);
      expect(got).toEqual({ status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." });
    }
    const listed = await (await signed(b, "GET", ESM)).json<{ EventSourceMappings: { UUID: string }[] }>();
    expect(listed.EventSourceMappings.map((m) => m.UUID)).toEqual([own]);
    expect(await mappingCount(b, streamArnOf(a, streamA))).toBe(0);

    // A's mapping is untouched.
    const still = await (await signed(a, "GET", `${ESM}/${uuid}`)).json<{ BatchSize: number }>();
    expect(still.BatchSize).toBe(100);
    await signed(a, "DELETE", `${ESM}/${uuid}`);
    await signed(b, "DELETE", `${ESM}/${own}`);
  });
});
