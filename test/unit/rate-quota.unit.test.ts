import { describe, expect, it } from "vitest";
import { RateBuckets } from "../../src/invoke/rate-quota";

/** Sends `n` requests against `buckets` at `now`; returns how many were let through. */
function send(limiter: RateBuckets, n: number, buckets: ReadonlyArray<readonly [string, number]>, now: number): number {
  let passed = 0;
  for (let i = 0; i < n; i++) if (limiter.take(buckets, now) === -1) passed++;
  return passed;
}

describe("invocation rate buckets", () => {
  it("lets one second's worth through at once, then refills at the rate", () => {
    const limiter = new RateBuckets();
    expect(send(limiter, 25, [["t", 20]], 0)).toBe(20);
    expect(limiter.take([["t", 20]], 0)).toBe(0);
    // 20 a second: one token every 50 ms.
    expect(send(limiter, 5, [["t", 20]], 49)).toBe(0);
    expect(send(limiter, 5, [["t", 20]], 50)).toBe(1);
    expect(send(limiter, 30, [["t", 20]], 550)).toBe(10);
    // Never more than one second's worth, however long it was idle.
    expect(send(limiter, 50, [["t", 20]], 60_000)).toBe(20);
  });

  it("takes from every bucket a request counts against, or from none, and names the empty one", () => {
    const limiter = new RateBuckets();
    const tenant = ["t", 30] as const;
    const reserved = ["t/f", 10] as const;
    expect(send(limiter, 10, [tenant, reserved], 0)).toBe(10);
    // The function's bucket is empty: refused by it (index 1), and the tenant's keeps its 20.
    expect(limiter.take([tenant, reserved], 0)).toBe(1);
    expect(send(limiter, 25, [tenant], 0)).toBe(20);
    expect(limiter.take([tenant, reserved], 0)).toBe(0);
  });

  it("keeps each key apart: one tenant's flood leaves another's bucket full", () => {
    const limiter = new RateBuckets();
    expect(send(limiter, 100, [["flood", 10]], 0)).toBe(10);
    expect(send(limiter, 10, [["quiet", 10]], 0)).toBe(10);
  });

  it("applies a lowered rate at once", () => {
    const limiter = new RateBuckets();
    expect(send(limiter, 1, [["t", 100]], 0)).toBe(1);
    // The limit fell from 100 to 10 a second: at most 10 left, not 99.
    expect(send(limiter, 50, [["t", 10]], 0)).toBe(10);
  });

  it("forgets its buckets past its size (a forgotten bucket starts full)", () => {
    const limiter = new RateBuckets(2);
    expect(send(limiter, 5, [["a", 1]], 0)).toBe(1);
    send(limiter, 1, [["b", 1]], 0);
    send(limiter, 1, [["c", 1]], 0);
    expect(send(limiter, 5, [["a", 1]], 0)).toBe(1);
  });
});
