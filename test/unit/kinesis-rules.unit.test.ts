import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HASH_KEY_MAX, hashKeyFromDigest, hashKeyOfPartitionKey, parseExplicitHashKey, shardHashRanges, shardIndexFor } from "../../src/kinesis/hash-keys";
import { parseStreamArn, shardIdOf, shardIndexIn, shardIndexOf, streamArn } from "../../src/kinesis/names";
import { admitRecord, fullBudget, SHARD_WRITE_BYTES_PER_S, SHARD_WRITE_RECORDS_PER_S } from "../../src/kinesis/rate-limit";
import { checkRetention } from "../../src/kinesis/retention";
import { formatSequenceNumber, parseSequenceNumber } from "../../src/kinesis/sequence-number";

describe("hash-key ranges", () => {
  it("cover 0..2^128-1 with no gap and no overlap for any shard count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (count) => {
        const ranges = shardHashRanges(count);
        expect(ranges).toHaveLength(count);
        expect(ranges[0]?.start).toBe(0n);
        expect(ranges.at(-1)?.end).toBe(HASH_KEY_MAX);
        for (let i = 1; i < count; i++) expect(ranges[i]?.start).toBe((ranges[i - 1]?.end ?? -2n) + 1n);
      }),
      { numRuns: 50 },
    );
  });

  it("split evenly as AWS does (2 shards: the second starts at 2^127)", () => {
    expect(shardHashRanges(2).map((r) => [r.start.toString(), r.end.toString()])).toEqual([
      ["0", "170141183460469231731687303715884105727"],
      ["170141183460469231731687303715884105728", "340282366920938463463374607431768211455"],
    ]);
  });

  it("find the one range holding any hash key", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.bigInt({ min: 0n, max: HASH_KEY_MAX }), (count, key) => {
        const ranges = shardHashRanges(count);
        const index = shardIndexFor(key, ranges);
        const range = ranges[index];
        expect(range && key >= range.start && key <= range.end).toBe(true);
      }),
    );
    expect(() => shardIndexFor(HASH_KEY_MAX + 1n, shardHashRanges(3))).toThrow(RangeError);
  });

  it("hash a partition key with MD5, big-endian (known digests)", async () => {
    // md5("") = d41d8cd98f00b204e9800998ecf8427e
    expect(await hashKeyOfPartitionKey("")).toBe(BigInt("0xd41d8cd98f00b204e9800998ecf8427e"));
    // md5("a") = 0cc175b9c0f1b6a831c399e269772661
    expect(await hashKeyOfPartitionKey("a")).toBe(BigInt("0x0cc175b9c0f1b6a831c399e269772661"));
    expect(hashKeyFromDigest(new Uint8Array([1, 0]))).toBe(256n);
  });

  it("accept ExplicitHashKeys in 0..2^128-1 only", () => {
    expect(parseExplicitHashKey("0")).toBe(0n);
    expect(parseExplicitHashKey(HASH_KEY_MAX.toString())).toBe(HASH_KEY_MAX);
    expect(parseExplicitHashKey((HASH_KEY_MAX + 1n).toString())).toBeNull();
    for (const bad of ["-1", "01", "1e3", "", "abc"]) expect(parseExplicitHashKey(bad)).toBeNull();
  });
});

describe("sequence numbers", () => {
  const parts = fc.record({
    streamCreatedS: fc.integer({ min: 1_500_000_000, max: 4_000_000_000 }),
    shardIndex: fc.integer({ min: 0, max: 100_000 }),
    position: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    arrivalMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  });

  it("are 56 decimal digits and parse back to their parts", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const text = formatSequenceNumber(p);
        expect(text).toMatch(/^\d{56}$/);
        expect(parseSequenceNumber(text)).toEqual(p);
      }),
    );
  });

  it("order by position within a shard, whatever the arrival times", () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (p, step, laterArrival) => {
        const next = formatSequenceNumber({ ...p, position: Math.min(p.position + step, Number.MAX_SAFE_INTEGER), arrivalMs: laterArrival });
        if (p.position + step <= Number.MAX_SAFE_INTEGER) expect(BigInt(next) > BigInt(formatSequenceNumber(p))).toBe(true);
      }),
    );
  });

  it("refuse decimal strings this platform did not issue", () => {
    for (const bad of ["0", "12345", "1".padEnd(60, "0"), "abc", "-5", (1n << 185n).toString()]) expect(parseSequenceNumber(bad)).toBeNull();
  });
});

describe("shard write limit (token buckets)", () => {
  it("admits 1,000 records in a second, refuses the 1,001st, and refills with time", () => {
    let budget = fullBudget(0);
    for (let i = 0; i < SHARD_WRITE_RECORDS_PER_S; i++) {
      const next = admitRecord(budget, 0, 10);
      expect(next).not.toBeNull();
      if (next) budget = next;
    }
    expect(admitRecord(budget, 0, 10)).toBeNull();
    expect(admitRecord(budget, 1, 10)).not.toBeNull(); // 1 ms refills one record's worth
    expect(admitRecord(budget, 0.5, 10)).toBeNull();
  });

  it("admits 1 MiB in a second and refuses the byte after it; a refused record costs nothing", () => {
    const full = admitRecord(fullBudget(0), 0, SHARD_WRITE_BYTES_PER_S);
    expect(full).not.toBeNull();
    if (!full) return;
    expect(admitRecord(full, 0, 1)).toBeNull();
    const half = admitRecord(fullBudget(0), 0, SHARD_WRITE_BYTES_PER_S / 2 + 1);
    expect(half && admitRecord(half, 0, SHARD_WRITE_BYTES_PER_S / 2)).toBeNull();
    expect(half && admitRecord(half, 0, 100)).not.toBeNull();
    expect(admitRecord(full, 500, SHARD_WRITE_BYTES_PER_S / 2)).not.toBeNull();
  });

  it("lets a maximum record (1 MiB data + key) through a full bucket instead of never", () => {
    const after = admitRecord(fullBudget(0), 0, SHARD_WRITE_BYTES_PER_S + 256);
    expect(after?.bytes).toBe(-256);
    expect(after && admitRecord(after, 0, 1)).toBeNull();
    expect(after && admitRecord(after, 1000, 1)).not.toBeNull();
  });
});

describe("retention rules", () => {
  const change = (direction: "increase" | "decrease", hours: number) => ({ direction, hours, accountId: "123456789012" });
  it("keeps 24..8760 hours and the direction of the operation", () => {
    expect(checkRetention(change("increase", 168), "s", 24)).toBeNull();
    expect(checkRetention(change("decrease", 24), "s", 168)).toBeNull();
    expect(checkRetention(change("increase", 8760), "s", 24)).toBeNull();
    expect(checkRetention(change("increase", 23), "s", 24)).toMatch(/^Minimum allowed retention period is 24 hours/);
    expect(checkRetention(change("increase", 8761), "s", 24)).toMatch(/^Maximum allowed retention period is 8760 hours/);
    expect(checkRetention(change("increase", 30), "s", 48)).toMatch(/Use DecreaseRetentionPeriod API\.$/);
    expect(checkRetention(change("decrease", 72), "s", 48)).toMatch(/Use IncreaseRetentionPeriod API\.$/);
  });
});

describe("names", () => {
  it("build and parse stream ARNs and shard ids", () => {
    const arn = streamArn("us-east-1", "123456789012", "my.stream-1");
    expect(arn).toBe("arn:aws:kinesis:us-east-1:123456789012:stream/my.stream-1");
    expect(parseStreamArn(arn)).toEqual({ region: "us-east-1", accountId: "123456789012", streamName: "my.stream-1" });
    expect(parseStreamArn("arn:aws:kinesis:us-east-1:1234:stream/x")).toBeNull();
    expect(parseStreamArn("arn:aws:sqs:us-east-1:123456789012:stream/x")).toBeNull();
    expect(shardIdOf(7)).toBe("shardId-000000000007");
    expect(shardIndexOf("shardId-000000000007")).toBe(7);
    expect(shardIndexOf("shardId-7")).toBeNull();
    expect(shardIndexIn("shardId-000000000004", 4)).toBeNull();
    expect(shardIndexIn("shardId-000000000003", 4)).toBe(3);
  });
});
