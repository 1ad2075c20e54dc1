import { describe, expect, it } from "vitest";
import { shuffleShard } from "../../src/placement/shuffle-shard";

/** Share of workload pairs whose shards overlap in 0, 1, 2, ... nodes. */
function overlapShares(nodes: number, shardSize: number, pairs: number): number[] {
  const counts = new Array<number>(shardSize + 1).fill(0);
  for (let i = 0; i < pairs; i++) {
    const a = new Set(shuffleShard(`workload-a-${i}`, nodes, shardSize));
    const overlap = shuffleShard(`workload-b-${i}`, nodes, shardSize).filter((n) => a.has(n)).length;
    counts[overlap] = (counts[overlap] ?? 0) + 1;
  }
  return counts.map((n) => n / pairs);
}

describe("shuffleShard", () => {
  it("is deterministic, sorted, distinct and in range", () => {
    for (let i = 0; i < 200; i++) {
      const shard = shuffleShard(`fn-${i}`, 8, 3);
      expect(shard).toEqual(shuffleShard(`fn-${i}`, 8, 3));
      expect(shard).toEqual([...shard].sort((a, b) => a - b));
      expect(new Set(shard).size).toBe(3);
      for (const n of shard) expect(n >= 0 && n < 8).toBe(true);
    }
  });

  it("matches the hypergeometric overlap table for 8 nodes, shard size 2 (53.6 / 42.8 / 3.6 %)", () => {
    const [zero, one, two] = overlapShares(8, 2, 40_000);
    expect(zero).toBeCloseTo(0.536, 2);
    expect(one).toBeCloseTo(0.428, 2);
    expect(two).toBeCloseTo(0.036, 2);
  });

  it("matches the hypergeometric overlap table for 100 nodes, shard size 5 (77 / 21 / 1.8 %)", () => {
    const [zero, one, two] = overlapShares(100, 5, 40_000);
    expect(zero).toBeCloseTo(0.77, 2);
    expect(one).toBeCloseTo(0.211, 2);
    expect(two).toBeCloseTo(0.018, 2);
  });

  it("is uniform over all subsets", () => {
    // 6 nodes, shard 2: 15 subsets, each should get 1/15 of the keys.
    const seen = new Map<string, number>();
    const keys = 30_000;
    for (let i = 0; i < keys; i++) {
      const subset = shuffleShard(`k${i}`, 6, 2).join(",");
      seen.set(subset, (seen.get(subset) ?? 0) + 1);
    }
    expect(seen.size).toBe(15);
    for (const n of seen.values()) expect(Math.abs(n / keys - 1 / 15)).toBeLessThan(0.006);
  });

  it("refuses impossible shapes", () => {
    expect(() => shuffleShard("k", 4, 5)).toThrow(RangeError);
    expect(() => shuffleShard("k", 0, 1)).toThrow(RangeError);
  });
});
