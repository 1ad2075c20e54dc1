import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { listShardIds, readShard, type StartingPosition } from "../../src/kinesis/shard-reader";
import { b64, ok } from "../helpers/kinesis";
import { newTenant } from "../helpers/platform";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// The interface the stream pollers of event source mappings use: no iterators, checkpoints instead.
describe("readShard (the poller's reader)", () => {
  it("reads a shard from TRIM_HORIZON in batches, resuming from each batch's checkpoint, with arrival times", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "feed", ShardCount: 2 });
    expect(await listShardIds(env, key.tenantId, "feed")).toEqual(["shardId-000000000000", "shardId-000000000001"]);
    for (let i = 0; i < 7; i++) await ok(key, "PutRecord", { StreamName: "feed", PartitionKey: "p", ExplicitHashKey: "0", Data: b64(`r${i}`) });
    const ref = { tenantId: key.tenantId, streamName: "feed", shardId: "shardId-000000000000" };
    const seen: string[] = [];
    let from: StartingPosition = { type: "TRIM_HORIZON" };
    for (let round = 0; round < 4; round++) {
      const batch = await readShard(env, ref, from, 3);
      expect(batch).not.toBeNull();
      if (!batch) return;
      for (const record of batch.records) {
        seen.push(decode(record.data));
        expect(record.approximateArrivalTimestampMs).toBeLessThanOrEqual(Date.now());
        expect(record.partitionKey).toBe("p");
      }
      from = batch.next;
    }
    expect(seen).toEqual(["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
    await ok(key, "PutRecord", { StreamName: "feed", PartitionKey: "p", ExplicitHashKey: "0", Data: b64("late") });
    expect((await readShard(env, ref, from, 10))?.records.map((r) => decode(r.data))).toEqual(["late"]);
  });

  it("LATEST checkpoints a concrete position, so records written between two reads are not skipped", async () => {
    const key = await newTenant();
    await ok(key, "CreateStream", { StreamName: "feed", ShardCount: 1 });
    await ok(key, "PutRecord", { StreamName: "feed", PartitionKey: "p", Data: b64("before") });
    const ref = { tenantId: key.tenantId, streamName: "feed", shardId: "shardId-000000000000" };
    const first = await readShard(env, ref, { type: "LATEST" }, 10);
    expect(first?.records).toEqual([]);
    await ok(key, "PutRecord", { StreamName: "feed", PartitionKey: "p", Data: b64("after") });
    const second = first ? await readShard(env, ref, first.next, 10) : null;
    expect(second?.records.map((r) => decode(r.data))).toEqual(["after"]);
  });

  it("answers null for another tenant's stream, a missing shard, a deleted stream and a foreign sequence number", async () => {
    const key = await newTenant();
    const other = await newTenant();
    await ok(key, "CreateStream", { StreamName: "feed", ShardCount: 2 });
    const put = await ok<{ SequenceNumber: string }>(key, "PutRecord", { StreamName: "feed", PartitionKey: "p", ExplicitHashKey: "0", Data: b64("x") });
    const shard0 = { tenantId: key.tenantId, streamName: "feed", shardId: "shardId-000000000000" };
    expect(await readShard(env, { ...shard0, tenantId: other.tenantId }, { type: "TRIM_HORIZON" }, 10)).toBeNull();
    expect(await readShard(env, { ...shard0, shardId: "shardId-000000000002" }, { type: "TRIM_HORIZON" }, 10)).toBeNull();
    expect(await readShard(env, { ...shard0, shardId: "shardId-000000000001" }, { type: "AT_SEQUENCE_NUMBER", sequenceNumber: put.SequenceNumber }, 10)).toBeNull();
    expect((await readShard(env, shard0, { type: "AT_SEQUENCE_NUMBER", sequenceNumber: put.SequenceNumber }, 10))?.records).toHaveLength(1);
    await ok(key, "DeleteStream", { StreamName: "feed" });
    expect(await readShard(env, shard0, { type: "TRIM_HORIZON" }, 10)).toBeNull();
    expect(await listShardIds(env, key.tenantId, "feed")).toBeNull();
  });
});
