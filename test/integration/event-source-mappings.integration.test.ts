import { describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { addKey, createFunctionBody, errorOf, newTenant, signed, waitUntilSettled } from "../helpers/platform";
import { arnOf, createQueue } from "../helpers/sqs";

// The mapping API (Create/Get/Update/Delete/List EventSourceMapping) for SQS
// sources, through the real Worker: shapes, validation, tenant isolation.

const ESM = "/2015-03-31/event-source-mappings";

async function setup(key: TenantKey, tag: string): Promise<{ name: string; queue: string; arn: string }> {
  const name = `esm-${tag}-${Date.now()}`;
  const created = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": "exports.handler = async () => null;" }));
  expect(created.status).toBe(201);
  await waitUntilSettled(key, name);
  const queue = `q-${tag}-${Date.now()}`;
  await createQueue(key, queue);
  return { name, queue, arn: arnOf(key, queue) };
}

async function create(key: TenantKey, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await signed(key, "POST", ESM, body);
  const text = await res.text();
  if (res.status !== 202) throw new Error(`CreateEventSourceMapping: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

describe("event source mapping API", () => {
  it("creates a mapping in Lambda's shape (Creating) that settles to Disabled when created disabled", async () => {
    const key = await newTenant();
    const { name, arn } = await setup(key, "shape");
    const before = Math.floor(Date.now() / 1000);
    const out = await create(key, { FunctionName: name, EventSourceArn: arn, Enabled: false });
    expect(out).toEqual({
      UUID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      EventSourceArn: arn,
      FunctionArn: `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}`,
      LastModified: expect.any(Number),
      LastProcessingResult: "No records processed",
      State: "Creating",
      StateTransitionReason: "USER_INITIATED",
      FunctionResponseTypes: [],
      EventSourceMappingArn: `arn:aws:lambda:us-east-1:${key.accountId}:event-source-mapping:${String(out.UUID)}`,
    });
    expect(out.LastModified as number).toBeGreaterThanOrEqual(before);
    expect(out.LastModified as number).toBeLessThan(before + 5);

    let state = "";
    for (let i = 0; i < 50 && state !== "Disabled"; i++) {
      const got = await signed(key, "GET", `${ESM}/${String(out.UUID)}`);
      expect(got.status).toBe(200);
      state = (await got.json<{ State: string }>()).State;
      if (state !== "Disabled") await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe("Disabled");
  });

  it("stores every setting and updates them", async () => {
    const key = await newTenant();
    const { name, arn } = await setup(key, "update");
    const filters = [{ Pattern: JSON.stringify({ body: { kind: ["a"] } }) }];
    const out = await create(key, {
      FunctionName: name,
      EventSourceArn: arn,
      Enabled: false,
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 3 },
      FilterCriteria: { Filters: filters },
    });
    expect(out).toMatchObject({
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 3 },
      FilterCriteria: { Filters: filters },
    });
    const uuid = String(out.UUID);
    const updated = await signed(key, "PUT", `${ESM}/${uuid}`, { BatchSize: 5, FunctionResponseTypes: [], Enabled: true });
    expect(updated.status).toBe(202);
    expect(await updated.json()).toMatchObject({ UUID: uuid, BatchSize: 5, MaximumBatchingWindowInSeconds: 2, FunctionResponseTypes: [], State: "Enabling" });
    const refused = await signed(key, "PUT", `${ESM}/${uuid}`, { BatchSize: 20, MaximumBatchingWindowInSeconds: 0 });
    expect(await errorOf(refused)).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    });
    // Nothing half-applied.
    expect(await (await signed(key, "GET", `${ESM}/${uuid}`)).json()).toMatchObject({ BatchSize: 5, MaximumBatchingWindowInSeconds: 2 });
    // The mapping may move to another function; listing by function follows it.
    const second = await setup(key, "update2");
    const moved = await signed(key, "PUT", `${ESM}/${uuid}`, { FunctionName: second.name });
    expect(moved.status).toBe(202);
    expect(await moved.json()).toMatchObject({ FunctionArn: `arn:aws:lambda:us-east-1:${key.accountId}:function:${second.name}` });
    const byNew = await (await signed(key, "GET", `${ESM}?FunctionName=${second.name}`)).json<{ EventSourceMappings: { UUID: string }[] }>();
    expect(byNew.EventSourceMappings.map((m) => m.UUID)).toEqual([uuid]);
    const byOld = await (await signed(key, "GET", `${ESM}?FunctionName=${name}`)).json<{ EventSourceMappings: unknown[] }>();
    expect(byOld.EventSourceMappings).toEqual([]);
    expect((await errorOf(await signed(key, "PUT", `${ESM}/${uuid}`, { FunctionName: "no-such-function" }))).type).toBe("ResourceNotFoundException");

    const deleted = await signed(key, "DELETE", `${ESM}/${uuid}`);
    expect(deleted.status).toBe(202);
    expect(await deleted.json()).toMatchObject({ UUID: uuid, State: "Deleting" });
    expect((await errorOf(await signed(key, "GET", `${ESM}/${uuid}`))).type).toBe("ResourceNotFoundException");
  });

  it("refuses bad input with Lambda's errors", async () => {
    const key = await newTenant();
    const { name, arn } = await setup(key, "bad");
    expect(await errorOf(await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: arn, BatchSize: 11 }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    });
    expect(await errorOf(await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: arn, BatchSize: 10_001 }))).toEqual({
      status: 400,
      type: "ValidationException",
      message: "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
    });
    expect((await errorOf(await signed(key, "POST", ESM, { FunctionName: "missing-fn", EventSourceArn: arn }))).type).toBe("ResourceNotFoundException");
    const missingQueue = await errorOf(await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: arnOf(key, "no-such-queue") }));
    expect(missingQueue).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message:
        "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you do not have access to it.",
    });
    expect(await errorOf(await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: "arn:aws:sns:us-east-1:123456789012:t" }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Unrecognized event source.",
    });
    await createQueue(key, `${name}.fifo`, { FifoQueue: "true" });
    const fifo = await errorOf(
      await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: arnOf(key, `${name}.fifo`), BatchSize: 20, MaximumBatchingWindowInSeconds: 1 }),
    );
    expect(fifo).toEqual({ status: 400, type: "InvalidParameterValueException", message: "Batching window is not supported for FIFO queues" });
    const badFilter = { Filters: [{ Pattern: "{nope" }] };
    expect((await errorOf(await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: arn, FilterCriteria: badFilter }))).message).toBe(
      "Invalid filter pattern definition.",
    );
    // Accepted once; the same queue and function again is a conflict naming the first.
    const first = await create(key, { FunctionName: name, EventSourceArn: arn, Enabled: false });
    expect(await errorOf(await signed(key, "POST", ESM, { FunctionName: name, EventSourceArn: arn }))).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: `An event source mapping with SQS arn (" ${arn} ") and function (" ${name} ") already exists. Please update or delete the existing mapping with UUID ${String(first.UUID)}`,
    });
    // None of the refused requests left a mapping behind.
    const list = await (await signed(key, "GET", ESM)).json<{ EventSourceMappings: unknown[] }>();
    expect(list.EventSourceMappings).toHaveLength(1);
  });

  it("lists by function and source, page by page", async () => {
    const key = await newTenant();
    const a = await setup(key, "la");
    const b = await setup(key, "lb");
    const made = [
      await create(key, { FunctionName: a.name, EventSourceArn: a.arn, Enabled: false }),
      await create(key, { FunctionName: a.name, EventSourceArn: b.arn, Enabled: false }),
      await create(key, { FunctionName: b.name, EventSourceArn: b.arn, Enabled: false }),
    ];
    const uuids = (body: { EventSourceMappings: { UUID: string }[] }) => body.EventSourceMappings.map((m) => m.UUID).sort();
    const byFunction = await (await signed(key, "GET", `${ESM}?FunctionName=${a.name}`)).json<{ EventSourceMappings: { UUID: string }[] }>();
    expect(uuids(byFunction)).toEqual([String(made[0]?.UUID), String(made[1]?.UUID)].sort());
    const bySource = await (await signed(key, "GET", `${ESM}?EventSourceArn=${encodeURIComponent(b.arn)}`)).json<{ EventSourceMappings: { UUID: string }[] }>();
    expect(uuids(bySource)).toEqual([String(made[1]?.UUID), String(made[2]?.UUID)].sort());

    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await (await signed(key, "GET", `${ESM}?MaxItems=2${marker ? `&Marker=${marker}` : ""}`)).json<{ EventSourceMappings: { UUID: string }[]; NextMarker?: string }>();
      expect(page.EventSourceMappings.length).toBeLessThanOrEqual(2);
      seen.push(...page.EventSourceMappings.map((m) => m.UUID));
      marker = page.NextMarker;
    } while (marker);
    expect(seen.sort()).toEqual(made.map((m) => String(m.UUID)).sort());
  });

  it("keeps tenants apart on every operation", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const { name, arn } = await setup(owner, "iso");
    const mine = await create(owner, { FunctionName: name, EventSourceArn: arn, Enabled: false });
    const uuid = String(mine.UUID);
    const notFound = { status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." };
    expect(await errorOf(await signed(other, "GET", `${ESM}/${uuid}`))).toEqual(notFound);
    expect(await errorOf(await signed(other, "PUT", `${ESM}/${uuid}`, { BatchSize: 1 }))).toEqual(notFound);
    expect(await errorOf(await signed(other, "DELETE", `${ESM}/${uuid}`))).toEqual(notFound);
    expect(await errorOf(await signed(owner, "GET", `${ESM}/00000000-0000-0000-0000-000000000000`))).toEqual(notFound);
    const list = await (await signed(other, "GET", ESM)).json<{ EventSourceMappings: unknown[] }>();
    expect(list.EventSourceMappings).toEqual([]);
    // The other tenant cannot map the owner's queue, even to a function of its own: the same answer as a missing queue.
    const theirs = await setup(other, "iso2");
    const refused = await errorOf(await signed(other, "POST", ESM, { FunctionName: theirs.name, EventSourceArn: arn }));
    expect(refused.type).toBe("InvalidParameterValueException");
    expect(refused.message).toContain("AWS.SimpleQueueService.NonExistentQueue");
    // Nor name the owner's function by ARN.
    const foreignFn = `arn:aws:lambda:us-east-1:${owner.accountId}:function:${name}`;
    expect((await errorOf(await signed(other, "POST", ESM, { FunctionName: foreignFn, EventSourceArn: theirs.arn }))).status).toBe(403);
    // An invoke-scope key of the owner may read mappings, not change them.
    const reader = { ...owner, ...(await addKey(owner.tenantId, "invoke")) };
    expect((await signed(reader, "GET", `${ESM}/${uuid}`)).status).toBe(200);
    expect((await errorOf(await signed(reader, "PUT", `${ESM}/${uuid}`, { BatchSize: 1 }))).type).toBe("AccessDeniedException");
    expect((await errorOf(await signed(reader, "DELETE", `${ESM}/${uuid}`))).type).toBe("AccessDeniedException");
    // The owner's mapping is untouched.
    expect(await (await signed(owner, "GET", `${ESM}/${uuid}`)).json()).toMatchObject({ UUID: uuid, BatchSize: 10 });
  });
});
