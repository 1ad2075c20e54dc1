import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/platform";
import { b64, fails, ok, readAll, unb64 } from "../helpers/kinesis";

interface Shard {
  ShardId: string;
  HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
  SequenceNumberRange: { StartingSequenceNumber: string };
}

describe("Kinesis streams: create, describe, list, delete", () => {
  it("creates a provisioned stream whose shards cover 0..2^128-1 with no gap", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "orders", ShardCount: 7 });
    const { StreamDescription: d } = await ok<{ StreamDescription: Record<string, unknown> & { Shards: Shard[] } }>(key, "DescribeStream", {
      StreamName: "orders",
    });
    expect(d).toMatchObject({
      StreamName: "orders",
      StreamARN: `arn:aws:kinesis:us-east-1:${key.accountId}:stream/orders`,
      StreamStatus: "ACTIVE",
      StreamModeDetails: { StreamMode: "PROVISIONED" },
      HasMoreShards: false,
      RetentionPeriodHours: 24,
      EncryptionType: "NONE",
    });
    expect(d.Shards.map((s) => s.ShardId)).toEqual(Array.from({ length: 7 }, (_, i) => `shardId-${String(i).padStart(12, "0")}`));
    let expected = 0n;
    for (const shard of d.Shards) {
      expect(BigInt(shard.HashKeyRange.StartingHashKey)).toBe(expected);
      expected = BigInt(shard.HashKeyRange.EndingHashKey) + 1n;
      expect(shard.SequenceNumberRange.StartingSequenceNumber).toMatch(/^\d{56}$/);
    }
    expect(expected).toBe(1n << 128n);
  });

  it("gives an ON_DEMAND stream 4 shards, and a stream without ShardCount or mode is ON_DEMAND", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "od", StreamModeDetails: { StreamMode: "ON_DEMAND" } });
    await ok(key, "CreateStream", { StreamName: "plain" });
    for (const name of ["od", "plain"]) {
      const { StreamDescriptionSummary: s } = await ok<{ StreamDescriptionSummary: Record<string, unknown> }>(key, "DescribeStreamSummary", {
        StreamName: name,
      });
      expect(s).toMatchObject({ StreamModeDetails: { StreamMode: "ON_DEMAND" }, OpenShardCount: 4, StreamStatus: "ACTIVE" });
    }
  });

  it("refuses a second stream of the same name and a PROVISIONED stream without ShardCount", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "dup", ShardCount: 1 });
    expect(await fails(key, "CreateStream", { StreamName: "dup", ShardCount: 1 })).toEqual({
      status: 400,
      type: "ResourceInUseException",
      message: `Stream dup under account ${key.accountId} already exists.`,
    });
    expect(await fails(key, "CreateStream", { StreamName: "p", StreamModeDetails: { StreamMode: "PROVISIONED" } })).toMatchObject({
      type: "InvalidArgumentException",
    });
  });

  it("refuses a stream beyond the tenant's shard limit and creates nothing", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "big", ShardCount: 10 });
    const error = await fails(key, "CreateStream", { StreamName: "huge", ShardCount: 491 });
    expect(error.type).toBe("LimitExceededException");
    expect(error.message).toContain("Current shard count for the account: 10. Limit: 500.");
    expect(await fails(key, "DescribeStream", { StreamName: "huge" })).toMatchObject({ type: "ResourceNotFoundException" });
  });

  it("lists streams in pages with StreamSummaries and NextToken", async () => {
    const key = await newTenant();
    for (const name of ["c", "a", "b"]) await ok(key, "CreateStream", { StreamName: name, ShardCount: 1 });
    const first = await ok<{ StreamNames: string[]; HasMoreStreams: boolean; NextToken?: string; StreamSummaries: { StreamName: string }[] }>(
      key,
      "ListStreams",
      { Limit: 2 },
    );
    expect(first.StreamNames).toEqual(["a", "b"]);
    expect(first.HasMoreStreams).toBe(true);
    expect(first.StreamSummaries.map((s) => s.StreamName)).toEqual(["a", "b"]);
    const second = await ok<{ StreamNames: string[]; HasMoreStreams: boolean }>(key, "ListStreams", { NextToken: first.NextToken });
    expect(second).toMatchObject({ StreamNames: ["c"], HasMoreStreams: false });
    const byName = await ok<{ StreamNames: string[] }>(key, "ListStreams", { ExclusiveStartStreamName: "a" });
    expect(byName.StreamNames).toEqual(["b", "c"]);
  });

  it("lists shards in pages, by name or ARN, with AFTER_SHARD_ID", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "s", ShardCount: 5 });
    const first = await ok<{ Shards: Shard[]; NextToken?: string }>(key, "ListShards", { StreamName: "s", MaxResults: 2 });
    expect(first.Shards.map((s) => s.ShardId)).toEqual(["shardId-000000000000", "shardId-000000000001"]);
    const rest = await ok<{ Shards: Shard[]; NextToken?: string }>(key, "ListShards", { NextToken: first.NextToken });
    expect(rest.Shards.map((s) => s.ShardId)).toEqual(["shardId-000000000002", "shardId-000000000003", "shardId-000000000004"]);
    expect(rest.NextToken).toBeUndefined();
    const after = await ok<{ Shards: Shard[] }>(key, "ListShards", {
      StreamARN: `arn:aws:kinesis:us-east-1:${key.accountId}:stream/s`,
      ShardFilter: { Type: "AFTER_SHARD_ID", ShardId: "shardId-000000000003" },
    });
    expect(after.Shards.map((s) => s.ShardId)).toEqual(["shardId-000000000004"]);
    expect(await fails(key, "ListShards", { StreamName: "s", NextToken: first.NextToken })).toMatchObject({ type: "InvalidArgumentException" });
  });

  it("pages DescribeStream's shards with Limit and ExclusiveStartShardId", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "p", ShardCount: 3 });
    const first = await ok<{ StreamDescription: { Shards: Shard[]; HasMoreShards: boolean } }>(key, "DescribeStream", { StreamName: "p", Limit: 2 });
    expect(first.StreamDescription.Shards.map((s) => s.ShardId)).toEqual(["shardId-000000000000", "shardId-000000000001"]);
    expect(first.StreamDescription.HasMoreShards).toBe(true);
    const next = await ok<{ StreamDescription: { Shards: Shard[]; HasMoreShards: boolean } }>(key, "DescribeStream", {
      StreamName: "p",
      ExclusiveStartShardId: "shardId-000000000001",
    });
    expect(next.StreamDescription.Shards.map((s) => s.ShardId)).toEqual(["shardId-000000000002"]);
    expect(next.StreamDescription.HasMoreShards).toBe(false);
  });

  it("deletes a stream with its records; a new stream of the same name starts empty", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "gone", ShardCount: 1 });
    await ok(key, "PutRecord", { StreamName: "gone", PartitionKey: "k", Data: b64("old") });
    await ok(key, "DeleteStream", { StreamName: "gone" });
    expect(await fails(key, "DescribeStream", { StreamName: "gone" })).toEqual({
      status: 400,
      type: "ResourceNotFoundException",
      message: `Stream gone under account ${key.accountId} not found.`,
    });
    await ok(key, "CreateStream", { StreamName: "gone", ShardCount: 1 });
    await ok(key, "PutRecord", { StreamName: "gone", PartitionKey: "k", Data: b64("new") });
    const records = await readAll(key, "gone", "shardId-000000000000");
    expect(records.map((r) => unb64(r.Data))).toEqual(["new"]);
  });

  it("changes retention within AWS's bounds and refuses the wrong direction", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "r", ShardCount: 2 });
    await ok(key, "IncreaseStreamRetentionPeriod", { StreamName: "r", RetentionPeriodHours: 48 });
    expect(await fails(key, "IncreaseStreamRetentionPeriod", { StreamName: "r", RetentionPeriodHours: 30 })).toEqual({
      status: 400,
      type: "InvalidArgumentException",
      message: "Requested retention period (30 hours) for stream r can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.",
    });
    expect(await fails(key, "DecreaseStreamRetentionPeriod", { StreamName: "r", RetentionPeriodHours: 12 })).toMatchObject({
      message: "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.",
    });
    expect(await fails(key, "IncreaseStreamRetentionPeriod", { StreamName: "r", RetentionPeriodHours: 8761 })).toMatchObject({
      message: "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.",
    });
    await ok(key, "DecreaseStreamRetentionPeriod", { StreamName: "r", RetentionPeriodHours: 36 });
    const { StreamDescriptionSummary: s } = await ok<{ StreamDescriptionSummary: { RetentionPeriodHours: number } }>(key, "DescribeStreamSummary", {
      StreamName: "r",
    });
    expect(s.RetentionPeriodHours).toBe(36);
  });

  it("adds, lists and removes tags", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "t", ShardCount: 1, Tags: { team: "a" } });
    await ok(key, "AddTagsToStream", { StreamName: "t", Tags: { env: "prod", team: "b" } });
    expect(await ok(key, "ListTagsForStream", { StreamName: "t" })).toEqual({
      Tags: [
        { Key: "env", Value: "prod" },
        { Key: "team", Value: "b" },
      ],
      HasMoreTags: false,
    });
    await ok(key, "RemoveTagsFromStream", { StreamName: "t", TagKeys: ["env"] });
    expect(await ok(key, "ListTagsForStream", { StreamName: "t" })).toEqual({ Tags: [{ Key: "team", Value: "b" }], HasMoreTags: false });
  });
});
