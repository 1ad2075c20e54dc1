import { describe, expect, it } from "vitest";
import { b64, fails, iterator, ok, readAll, unb64 } from "../helpers/kinesis";
import { newTenant, type TenantKey } from "../helpers/platform";

const SHARD0 = "shardId-000000000000";

/** Every stream-addressed operation, with a valid body for the stream `ref` names. */
function calls(ref: Record<string, string>): [string, Record<string, unknown>][] {
  return [
    ["DescribeStream", { ...ref }],
    ["DescribeStreamSummary", { ...ref }],
    ["ListShards", { ...ref }],
    ["PutRecord", { ...ref, PartitionKey: "p", Data: b64("intruder") }],
    ["PutRecords", { ...ref, Records: [{ PartitionKey: "p", Data: b64("intruder") }] }],
    ["GetShardIterator", { ...ref, ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" }],
    ["IncreaseStreamRetentionPeriod", { ...ref, RetentionPeriodHours: 100 }],
    ["DecreaseStreamRetentionPeriod", { ...ref, RetentionPeriodHours: 24 }],
    ["AddTagsToStream", { ...ref, Tags: { owner: "intruder" } }],
    ["RemoveTagsFromStream", { ...ref, TagKeys: ["team"] }],
    ["ListTagsForStream", { ...ref }],
    ["DeleteStream", { ...ref }],
  ];
}

async function answers(key: TenantKey, ref: Record<string, string>) {
  const out: Record<string, unknown> = {};
  for (const [operation, body] of calls(ref)) out[operation] = await fails(key, operation, body);
  return out;
}

describe("Kinesis tenant isolation", () => {
  it("tenant B gets, for A's stream by name or by A's ARN, exactly what a missing stream gets, and changes nothing", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const byName = { StreamName: "secret" };
    const byArn = { StreamARN: `arn:aws:kinesis:us-east-1:${a.accountId}:stream/secret` };
    // What B is told while the stream exists nowhere...
    const missingByName = await answers(b, byName);
    const missingByArn = await answers(b, byArn);
    for (const answer of Object.values(missingByName)) {
      expect(answer).toEqual({ status: 400, type: "ResourceNotFoundException", message: `Stream secret under account ${b.accountId} not found.` });
    }
    expect(missingByArn).toEqual(missingByName);

    await ok(a, "CreateStream", { StreamName: "secret", ShardCount: 1, Tags: { team: "a" } });
    await ok(a, "PutRecord", { StreamName: "secret", PartitionKey: "p", Data: b64("mine") });
    // ...is what B is told once A's stream exists.
    expect(await answers(b, byName)).toEqual(missingByName);
    expect(await answers(b, byArn)).toEqual(missingByName);

    expect((await readAll(a, "secret", SHARD0)).map((r) => unb64(r.Data))).toEqual(["mine"]);
    expect(await ok(a, "ListTagsForStream", { StreamName: "secret" })).toEqual({ Tags: [{ Key: "team", Value: "a" }], HasMoreTags: false });
    const { StreamDescriptionSummary: s } = await ok<{ StreamDescriptionSummary: { RetentionPeriodHours: number } }>(a, "DescribeStreamSummary", byName);
    expect(s.RetentionPeriodHours).toBe(24);
    expect(await ok(b, "ListStreams", {})).toEqual({ StreamNames: [], HasMoreStreams: false, StreamSummaries: [] });
  });

  it("B's GetRecords with A's iterator is refused as a forged one; same names live side by side", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await ok(a, "CreateStream", { StreamName: "same", ShardCount: 1 });
    await ok(b, "CreateStream", { StreamName: "same", ShardCount: 1 });
    await ok(a, "PutRecord", { StreamName: "same", PartitionKey: "p", Data: b64("a-data") });
    await ok(b, "PutRecord", { StreamName: "same", PartitionKey: "p", Data: b64("b-data") });
    const itA = await iterator(a, { StreamName: "same", ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" });
    expect(await fails(b, "GetRecords", { ShardIterator: itA })).toEqual({ status: 400, type: "InvalidArgumentException", message: "Invalid ShardIterator." });
    expect(await fails(b, "GetRecords", { ShardIterator: "forged" })).toEqual({ status: 400, type: "InvalidArgumentException", message: "Invalid ShardIterator." });
    expect((await readAll(a, "same", SHARD0)).map((r) => unb64(r.Data))).toEqual(["a-data"]);
    expect((await readAll(b, "same", SHARD0)).map((r) => unb64(r.Data))).toEqual(["b-data"]);
    const listA = await ok<{ StreamSummaries: { StreamARN: string }[] }>(a, "ListStreams", {});
    expect(listA.StreamSummaries.map((x) => x.StreamARN)).toEqual([`arn:aws:kinesis:us-east-1:${a.accountId}:stream/same`]);
  });

  it("a key of scope invoke writes and reads records but does not create, delete or retag streams", async () => {
    const full = await newTenant();
    const { addKey } = await import("../helpers/platform");
    const invokeOnly = { ...full, ...(await addKey(full.tenantId, "invoke")) };
    await ok(full, "CreateStream", { StreamName: "s", ShardCount: 1 });
    await ok(invokeOnly, "PutRecord", { StreamName: "s", PartitionKey: "p", Data: b64("x") });
    expect(await readAll(invokeOnly, "s", SHARD0)).toHaveLength(1);
    for (const [operation, body] of [
      ["CreateStream", { StreamName: "t", ShardCount: 1 }],
      ["DeleteStream", { StreamName: "s" }],
      ["AddTagsToStream", { StreamName: "s", Tags: { a: "b" } }],
    ] as const) {
      expect(await fails(invokeOnly, operation, body)).toEqual({
        status: 400,
        type: "AccessDeniedException",
        message: `User: ${invokeOnly.accessKeyId} is not authorized to perform: kinesis:${operation} on resource: arn:aws:kinesis:us-east-1:${full.accountId}:stream/${body.StreamName}`,
      });
    }
    expect(await ok(full, "ListStreams", {})).toMatchObject({ StreamNames: ["s"] });
  });
});
