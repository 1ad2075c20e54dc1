import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deriveIteratorKey, encodeIterator } from "../../src/kinesis/shard-iterator";
import { b64, fails, type GetRecordsOut, iterator, kinesis, ok, readAll } from "../helpers/kinesis";
import { newTenant, type TenantKey } from "../helpers/platform";

const SHARD0 = "shardId-000000000000";

async function stream(): Promise<TenantKey> {
  const key = await newTenant();
  await ok(key, "CreateStream", { StreamName: "s", ShardCount: 2 });
  return key;
}

async function nothingWritten(key: TenantKey): Promise<void> {
  expect(await readAll(key, "s", SHARD0)).toEqual([]);
  expect(await readAll(key, "s", "shardId-000000000001")).toEqual([]);
}

describe("Kinesis bad input: Kinesis's errors, nothing written", () => {
  it("a record over 1 MiB", async () => {
    const key = await stream();
    const data = b64("x".repeat(1024 * 1024 + 1));
    expect(await fails(key, "PutRecord", { StreamName: "s", PartitionKey: "p", Data: data })).toEqual({
      status: 400,
      type: "ValidationException",
      message:
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576",
    });
    expect(
      await fails(key, "PutRecords", {
        StreamName: "s",
        Records: [
          { PartitionKey: "ok", Data: b64("fine") },
          { PartitionKey: "p", Data: data },
        ],
      }),
    ).toEqual({
      status: 400,
      type: "ValidationException",
      message:
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576",
    });
    await nothingWritten(key);
  });

  it("a partition key over 256 characters, a missing one, several errors at once", async () => {
    const key = await stream();
    const long = "k".repeat(257);
    expect(await fails(key, "PutRecord", { StreamName: "s", PartitionKey: long, Data: b64("d") })).toEqual({
      status: 400,
      type: "ValidationException",
      message: `1 validation error detected: Value '${long}' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256`,
    });
    expect(await fails(key, "PutRecord", { StreamName: "bad name!", Data: b64("d") })).toEqual({
      status: 400,
      type: "ValidationException",
      message:
        "2 validation errors detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
        "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null",
    });
    await nothingWritten(key);
  });

  it("bad ExplicitHashKeys: not a number (ValidationException), 2^128 (InvalidArgumentException), even in one record of many", async () => {
    const key = await stream();
    expect(await fails(key, "PutRecord", { StreamName: "s", PartitionKey: "p", ExplicitHashKey: "12a", Data: b64("d") })).toEqual({
      status: 400,
      type: "ValidationException",
      message:
        "1 validation error detected: Value '12a' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
    });
    const tooBig = (1n << 128n).toString();
    const message = `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${tooBig}`;
    expect(await fails(key, "PutRecord", { StreamName: "s", PartitionKey: "p", ExplicitHashKey: tooBig, Data: b64("d") })).toEqual({
      status: 400,
      type: "InvalidArgumentException",
      message,
    });
    expect(
      await fails(key, "PutRecords", {
        StreamName: "s",
        Records: [
          { PartitionKey: "a", Data: b64("good") },
          { PartitionKey: "b", ExplicitHashKey: tooBig, Data: b64("bad") },
        ],
      }),
    ).toEqual({ status: 400, type: "InvalidArgumentException", message });
    await nothingWritten(key);
  });

  it("Data that is not base64, a wrong JSON type, too many records", async () => {
    const key = await stream();
    expect(await fails(key, "PutRecord", { StreamName: "s", PartitionKey: "p", Data: "abc" })).toEqual({
      status: 400,
      type: "SerializationException",
      message: "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
    });
    expect(await fails(key, "CreateStream", { StreamName: "n", ShardCount: "2" })).toEqual({
      status: 400,
      type: "SerializationException",
      message: "class java.lang.String can not be converted to an Integer",
    });
    const res = await kinesis(key, "PutRecords", "{not json");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: "SerializationException" });
    const many = await fails(key, "PutRecords", {
      StreamName: "s",
      Records: Array.from({ length: 501 }, () => ({ PartitionKey: "p", Data: b64("d") })),
    });
    expect(many.type).toBe("ValidationException");
    expect(many.message).toMatch(/at 'records' failed to satisfy constraint: Member must have length less than or equal to 500$/);
    expect(await fails(key, "PutRecords", { StreamName: "s", Records: Array.from({ length: 6 }, () => ({ PartitionKey: "p", Data: b64("x".repeat(900_000)) })) })).toEqual({
      status: 400,
      type: "InvalidArgumentException",
      message: "Records size exceeds 5 MB limit",
    });
    await nothingWritten(key);
  });

  it("GetShardIterator: missing shard, sequence number of another shard or made up, types without their parameters", async () => {
    const key = await stream();
    const onShard1 = await ok<{ SequenceNumber: string }>(key, "PutRecord", {
      StreamName: "s",
      PartitionKey: "p",
      ExplicitHashKey: ((1n << 128n) - 1n).toString(),
      Data: b64("d"),
    });
    expect(await fails(key, "GetShardIterator", { StreamName: "s", ShardId: "shardId-000000000002", ShardIteratorType: "LATEST" })).toEqual({
      status: 400,
      type: "ResourceNotFoundException",
      message: `Shard shardId-000000000002 in stream s under account ${key.accountId} does not exist`,
    });
    expect(
      await fails(key, "GetShardIterator", {
        StreamName: "s",
        ShardId: SHARD0,
        ShardIteratorType: "AT_SEQUENCE_NUMBER",
        StartingSequenceNumber: onShard1.SequenceNumber,
      }),
    ).toEqual({
      status: 400,
      type: "InvalidArgumentException",
      message: `Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with ${SHARD0}`,
    });
    expect(
      await fails(key, "GetShardIterator", { StreamName: "s", ShardId: SHARD0, ShardIteratorType: "AT_SEQUENCE_NUMBER", StartingSequenceNumber: "12345" }),
    ).toEqual({
      status: 400,
      type: "InvalidArgumentException",
      message: `StartingSequenceNumber 12345 used in GetShardIterator on shard ${SHARD0} in stream s under account ${key.accountId} is invalid.`,
    });
    expect(await fails(key, "GetShardIterator", { StreamName: "s", ShardId: SHARD0, ShardIteratorType: "AFTER_SEQUENCE_NUMBER" })).toMatchObject({
      type: "InvalidArgumentException",
      message:
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber.",
    });
    expect(await fails(key, "GetShardIterator", { StreamName: "s", ShardId: SHARD0, ShardIteratorType: "AT_TIMESTAMP" })).toMatchObject({
      type: "InvalidArgumentException",
      message: "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
    });
    expect(await fails(key, "GetShardIterator", { StreamName: "s", ShardId: SHARD0, ShardIteratorType: "OLDEST" })).toMatchObject({
      type: "ValidationException",
      message:
        "1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
    });
  });

  it("GetRecords: forged, edited and expired iterators; an iterator of a deleted stream", async () => {
    const key = await stream();
    const it = await iterator(key, { StreamName: "s", ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" });
    const [payload = "", mac = ""] = it.split(".");
    const edited = `${payload.slice(0, -2)}${payload.slice(-2) === "AA" ? "AB" : "AA"}.${mac}`;
    for (const bad of [edited, "forged-iterator", `${payload}.${"A".repeat(22)}`]) {
      expect(await fails(key, "GetRecords", { ShardIterator: bad })).toEqual({ status: 400, type: "InvalidArgumentException", message: "Invalid ShardIterator." });
    }
    const { StreamDescriptionSummary: s } = await ok<{ StreamDescriptionSummary: { StreamId: string } }>(key, "DescribeStreamSummary", { StreamName: "s" });
    const issuedAtMs = Date.parse("2026-01-22T01:22:02Z");
    const stale = await encodeIterator(await deriveIteratorKey(env.KEY_DERIVATION_SECRET), {
      tenantId: key.tenantId,
      streamName: "s",
      streamId: s.StreamId,
      shardIndex: 0,
      position: 0,
      issuedAtMs,
    });
    const expired = await fails(key, "GetRecords", { ShardIterator: stale });
    expect(expired.type).toBe("ExpiredIteratorException");
    expect(expired.message).toMatch(
      /^Iterator expired\. The iterator was created at time Thu Jan 22 01:22:02 UTC 2026 while right now it is \w{3} \w{3} \d{2} [\d:]{8} UTC \d{4} which is further in the future than the tolerated delay of 300000 milliseconds\.$/,
    );
    expect((await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: it })).Records).toEqual([]);
    await ok(key, "DeleteStream", { StreamName: "s" });
    expect(await fails(key, "GetRecords", { ShardIterator: it })).toEqual({
      status: 400,
      type: "ResourceNotFoundException",
      message: `Shard ${SHARD0} in stream s under account ${key.accountId} does not exist`,
    });
  });

  it("operations without a stream name or ARN, and unknown operations", async () => {
    const key = await stream();
    expect(await fails(key, "DescribeStream", {})).toMatchObject({ status: 400, type: "InvalidArgumentException" });
    expect(await fails(key, "ListShards", {})).toEqual({ status: 400, type: "InvalidArgumentException", message: "Either NextToken or StreamName should be provided." });
    expect(await fails(key, "SplitShard", { StreamName: "s" })).toEqual({ status: 400, type: "UnknownOperationException", message: "Unknown operation: SplitShard" });
  });
});
