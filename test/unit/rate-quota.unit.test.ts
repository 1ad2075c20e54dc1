import { describe, expect, it } from "vitest";
import { RateBuckets } from "../../src/util/rate-buckets";

/** Sends `n` requests for `key` at `perSecond` at `now`; returns how many were let through. */
function send(limiter: RateBuckets, n: number, key: string, perSecond: number, now: number): number {
  let passed = 0;
  for (let i = 0; i < n; i++) if (limiter.take(key, perSecond, now)) passed++;
  return passed;
}

describe("invocation rate buckets", () => {
  it("lets one second's worth through at once, then refills at the rate", () => {
    const limiter = new RateBuckets();
    expect(send(limiter, 25, "f", 20, 0)).toBe(20);
    expect(limiter.take("f", 20, 0)).toBe(false);
    // 20 a second: one token every 50 ms.
    expect(send(limiter, 5, "f", 20, 49)).toBe(0);
    expect(send(limiter, 5, "f", 20, 50)).toBe(1);
    expect(send(limiter, 30, "f", 20, 550)).toBe(10);
    // Never more than one second's worth, however long it was idle.
    expect(send(limiter, 50, "f", 20, 60_000)).toBe(20);
  });

  it("keeps each key apart: one function's flood leaves another's bucket full", () => {
    const limiter = new RateBuckets();
    expect(send(limiter, 100, "flood", 10, 0)).toBe(10);
    expect(send(limiter, 10, "quiet", 10, 0)).toBe(10);
  });

  it("applies a lowered rate at once", () => {
    const limiter = new RateBuckets();
    expect(send(limiter, 1, "f", 100, 0)).toBe(1);
    // The limit fell from 100 to 10 a second: at most 10 left, not 99.
    expect(send(limiter, 50, "f", 10, 0)).toBe(10);
  });

  it("forgets its buckets past its size (a forgotten bucket starts full)", () => {
    const limiter = new RateBuckets(2);
    expect(send(limiter, 5, "a", 1, 0)).toBe(1);
    send(limiter, 1, "b", 1, 0);
    send(limiter, 1, "c", 1, 0);
    expect(send(limiter, 5, "a", 1, 0)).toBe(1);
  });
});
