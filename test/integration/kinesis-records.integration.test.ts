import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardObjectName } from "../../src/kinesis/directory-object";
import { hashKeyOfPartitionKey } from "../../src/kinesis/hash-keys";
import type { StreamShard } from "../../src/kinesis/shard-object";
import { b64, fails, type GetRecordsOut, iterator, ok, readAll, unb64 } from "../helpers/kinesis";
import { newTenant, type TenantKey } from "../helpers/platform";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const SHARD0 = "shardId-000000000000";

interface PutResult {
  ShardId: string;
  SequenceNumber: string;
}

async function streamWith(shards: number): Promise<{ key: TenantKey; name: string }> {
  const key = await newTenant();
  await ok(key, "CreateStream", { StreamName: "events", ShardCount: shards });
  return { key, name: "events" };
}

async function shardStub(key: TenantKey, name: string, shardIndex: number): Promise<DurableObjectStub<StreamShard>> {
  const { StreamDescriptionSummary: s } = await ok<{ StreamDescriptionSummary: { StreamId: string } }>(key, "DescribeStreamSummary", { StreamName: name });
  return env.STREAM_SHARD.get(env.STREAM_SHARD.idFromName(shardObjectName(key.tenantId, s.StreamId, shardIndex)));
}

describe("Kinesis records: PutRecord / PutRecords / GetShardIterator / GetRecords", () => {
  it("routes a partition key by its MD5 to the shard whose range holds it, always the same shard", async () => {
    const { key, name } = await streamWith(4);
    const { StreamDescription } = await ok<{ StreamDescription: { Shards: { ShardId: string; HashKeyRange: { StartingHashKey: string; EndingHashKey: string } }[] } }>(
      key,
      "DescribeStream",
      { StreamName: name },
    );
    for (const partitionKey of ["alpha", "beta", "gamma", "delta", "epsilon", "ζ-unicode"]) {
      const first = await ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: partitionKey, Data: b64("1") });
      const second = await ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: partitionKey, Data: b64("2") });
      expect(second.ShardId).toBe(first.ShardId);
      expect(BigInt(second.SequenceNumber) > BigInt(first.SequenceNumber)).toBe(true);
      const hashKey = await hashKeyOfPartitionKey(partitionKey);
      const shard = StreamDescription.Shards.find((s) => s.ShardId === first.ShardId);
      expect(shard).toBeDefined();
      expect(hashKey >= BigInt(shard?.HashKeyRange.StartingHashKey ?? -1)).toBe(true);
      expect(hashKey <= BigInt(shard?.HashKeyRange.EndingHashKey ?? -1)).toBe(true);
    }
  });

  it("honours ExplicitHashKey and answers 56-digit sequence numbers, increasing per shard in write order", async () => {
    const { key, name } = await streamWith(2);
    const top = ((1n << 128n) - 1n).toString();
    const r1 = await ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: "x", ExplicitHashKey: "0", Data: b64("a") });
    const r2 = await ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: "y", ExplicitHashKey: top, Data: b64("b") });
    expect(r1.ShardId).toBe(SHARD0);
    expect(r2.ShardId).toBe("shardId-000000000001");
    const batch = await ok<{ FailedRecordCount: number; Records: PutResult[] }>(key, "PutRecords", {
      StreamName: name,
      Records: Array.from({ length: 20 }, (_, i) => ({ PartitionKey: `k${i}`, ExplicitHashKey: "1", Data: b64(`m${i}`) })),
    });
    expect(batch.FailedRecordCount).toBe(0);
    const sequence = [r1.SequenceNumber, ...batch.Records.map((r) => r.SequenceNumber)];
    for (const s of sequence) expect(s).toMatch(/^\d{56}$/);
    for (let i = 1; i < sequence.length; i++) expect(BigInt(sequence[i] ?? "0") > BigInt(sequence[i - 1] ?? "0")).toBe(true);
    const records = await readAll(key, name, SHARD0);
    expect(records.map((r) => unb64(r.Data))).toEqual(["a", ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
    expect(records.map((r) => r.SequenceNumber)).toEqual(sequence);
  });

  it("reads with every iterator type and follows NextShardIterator", async () => {
    const { key, name } = await streamWith(1);
    const put = (data: string) => ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: "p", Data: b64(data) });
    const a = await put("a");
    await sleep(30);
    const b = await put("b");
    const c = await put("c");
    const read = async (body: Record<string, unknown>) => {
      const it = await iterator(key, { StreamName: name, ShardId: SHARD0, ...body });
      return ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: it });
    };
    const data = (out: GetRecordsOut) => out.Records.map((r) => unb64(r.Data));
    expect(data(await read({ ShardIteratorType: "TRIM_HORIZON" }))).toEqual(["a", "b", "c"]);
    expect(data(await read({ ShardIteratorType: "AT_SEQUENCE_NUMBER", StartingSequenceNumber: b.SequenceNumber }))).toEqual(["b", "c"]);
    expect(data(await read({ ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: b.SequenceNumber }))).toEqual(["c"]);
    const all = await read({ ShardIteratorType: "TRIM_HORIZON" });
    const arrivalB = all.Records[1]?.ApproximateArrivalTimestamp ?? 0;
    expect(arrivalB).toBeGreaterThan(all.Records[0]?.ApproximateArrivalTimestamp ?? Infinity);
    expect(data(await read({ ShardIteratorType: "AT_TIMESTAMP", Timestamp: arrivalB }))).toEqual(["b", "c"]);
    expect(all.Records[0]).toMatchObject({ SequenceNumber: a.SequenceNumber, PartitionKey: "p" });
    expect(all.Records[2]?.SequenceNumber).toBe(c.SequenceNumber);

    const latest = await iterator(key, { StreamName: name, ShardId: SHARD0, ShardIteratorType: "LATEST" });
    await put("d");
    const fromLatest = await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: latest });
    expect(data(fromLatest)).toEqual(["d"]);
    const empty = await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: fromLatest.NextShardIterator });
    expect(empty.Records).toEqual([]);
    await put("e");
    expect(data(await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: empty.NextShardIterator }))).toEqual(["e"]);
  });

  it("reports MillisBehindLatest while records remain and 0 at the tip", async () => {
    const { key, name } = await streamWith(1);
    for (const d of ["1", "2", "3"]) await ok(key, "PutRecord", { StreamName: name, PartitionKey: "p", Data: b64(d) });
    await sleep(50);
    const it = await iterator(key, { StreamName: name, ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" });
    const first = await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: it, Limit: 1 });
    expect(first.Records).toHaveLength(1);
    expect(first.MillisBehindLatest).toBeGreaterThanOrEqual(50);
    const rest = await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: first.NextShardIterator, Limit: 10 });
    expect(rest.Records.map((r) => unb64(r.Data))).toEqual(["2", "3"]);
    expect(rest.MillisBehindLatest).toBe(0);
  });

  it("PutRecords over a shard's 1 MiB/s: the records past the limit fail with ProvisionedThroughputExceededException, the rest are written", async () => {
    const { key, name } = await streamWith(2);
    const big = b64("x".repeat(300_000));
    const top = ((1n << 128n) - 1n).toString();
    const out = await ok<{ FailedRecordCount: number; Records: Record<string, string>[] }>(key, "PutRecords", {
      StreamName: name,
      Records: [
        ...Array.from({ length: 5 }, (_, i) => ({ PartitionKey: `hot${i}`, ExplicitHashKey: "0", Data: big })),
        { PartitionKey: "cold", ExplicitHashKey: top, Data: big },
      ],
    });
    expect(out.FailedRecordCount).toBe(2);
    expect(out.Records.slice(0, 3).every((r) => r.ShardId === SHARD0 && /^\d{56}$/.test(r.SequenceNumber ?? ""))).toBe(true);
    for (const failed of out.Records.slice(3, 5)) {
      expect(failed).toEqual({
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: `Rate exceeded for shard ${SHARD0} in stream ${name} under account ${key.accountId}.`,
      });
    }
    expect(out.Records[5]).toMatchObject({ ShardId: "shardId-000000000001" });
    expect((await readAll(key, name, SHARD0)).map((r) => r.PartitionKey)).toEqual(["hot0", "hot1", "hot2"]);

    expect(await fails(key, "PutRecord", { StreamName: name, PartitionKey: "hot", ExplicitHashKey: "0", Data: b64("y".repeat(900_000)) })).toEqual({
      status: 400,
      type: "ProvisionedThroughputExceededException",
      message: `Rate exceeded for shard ${SHARD0} in stream ${name} under account ${key.accountId}.`,
    });
    expect(await readAll(key, name, SHARD0)).toHaveLength(3);
  });

  it("records survive a restart of their shard and directory objects", async () => {
    const { key, name } = await streamWith(1);
    const put = await ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: "p", Data: b64("kept") });
    const shard = await shardStub(key, name, 0);
    await evictDurableObject(shard);
    await evictDurableObject(env.STREAM_DIRECTORY.get(env.STREAM_DIRECTORY.idFromName(key.tenantId)));
    const again = await ok<PutResult>(key, "PutRecord", { StreamName: name, PartitionKey: "p", Data: b64("after") });
    expect(BigInt(again.SequenceNumber) > BigInt(put.SequenceNumber)).toBe(true);
    expect((await readAll(key, name, SHARD0)).map((r) => unb64(r.Data))).toEqual(["kept", "after"]);
  });

  it("retention: the alarm deletes records older than the retention period and reads never return them", async () => {
    const { key, name } = await streamWith(1);
    for (const d of ["old1", "old2", "fresh"]) await ok(key, "PutRecord", { StreamName: name, PartitionKey: "p", Data: b64(d) });
    const shard = await shardStub(key, name, 0);
    // Age the first two records past the 24-hour retention, as if a day had passed for them.
    const dayAgo = Date.now() - 25 * 60 * 60 * 1000;
    await runInDurableObject(shard, (_instance, state) => {
      state.storage.sql.exec("UPDATE records SET arrival_ms = ? WHERE position <= 2", dayAgo);
    });
    expect((await readAll(key, name, SHARD0)).map((r) => unb64(r.Data))).toEqual(["fresh"]);
    await runInDurableObject(shard, async (_instance, state) => {
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    const left = await runInDurableObject(shard, (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM records").one().n);
    expect(left).toBe(1);
    const alarm = await runInDurableObject(shard, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 23 * 60 * 60 * 1000);
  });
});
