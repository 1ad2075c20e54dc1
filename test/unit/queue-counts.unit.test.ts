import { describe, expect, it } from "vitest";
import { MAX_BUCKETS, QueueCounts } from "../../src/async/queue-counts";

describe("QueueCounts (a cell queue's depth and the age of its oldest event)", () => {
  it("ages the oldest event still on the queue; taking events removes the oldest first", () => {
    const ages = new QueueCounts();
    ages.add("q", 2, 10_000);
    ages.add("q", 3, 12_500);
    expect(ages.oldestAgeSeconds(15_000)).toEqual({ q: 5 });
    ages.take("q", 1);
    expect(ages.oldestAgeSeconds(15_000)).toEqual({ q: 5 });
    ages.take("q", 1);
    expect(ages.oldestAgeSeconds(15_000)).toEqual({ q: 3 });
    ages.take("q", 3);
    expect(ages.oldestAgeSeconds(15_000)).toEqual({});
  });

  it("keeps queues apart, ignores taking more than is counted, and counts again after", () => {
    const ages = new QueueCounts();
    ages.add("a", 1, 1_000);
    ages.add("b", 1, 4_000);
    ages.take("a", 5);
    ages.take("missing", 1);
    expect(ages.oldestAgeSeconds(6_000)).toEqual({ b: 2 });
    ages.add("a", 1, 6_000);
    expect(ages.oldestAgeSeconds(6_000)).toEqual({ a: 0, b: 2 });
  });

  it("bounds memory for a backlog over many seconds and keeps the oldest age", () => {
    const ages = new QueueCounts();
    for (let s = 0; s < MAX_BUCKETS + 100; s++) ages.add("q", 1, s * 1000);
    const now = (MAX_BUCKETS + 100) * 1000;
    expect(ages.oldestAgeSeconds(now)).toEqual({ q: MAX_BUCKETS + 100 });
    ages.take("q", MAX_BUCKETS + 99);
    expect(ages.oldestAgeSeconds(now)).toEqual({ q: 1 });
  });

  it("keeps each queue's depth as the queue manager always counted it: +n, −n never below 0, an emptied or only-settled queue listed at 0", () => {
    const counts = new QueueCounts();
    counts.add("a", 3, 1_000);
    counts.add("a", 2, 2_000);
    expect(counts.depth("a")).toBe(5);
    counts.take("a", 4);
    expect(counts.depth("a")).toBe(1);
    counts.take("a", 3);
    expect(counts.depth("a")).toBe(0);
    counts.take("b", 2);
    expect(counts.depth("never")).toBe(0);
    expect(counts.depths()).toEqual({ a: 0, b: 0 });
    counts.add("b", 1, 3_000);
    expect(counts.depths()).toEqual({ a: 0, b: 1 });
  });
});

