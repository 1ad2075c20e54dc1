import { describe, expect, it } from "vitest";
import { MAX_BUCKETS, QueueAges } from "../../src/async/queue-ages";

describe("QueueAges (the age of a cell queue's oldest event)", () => {
  it("ages the oldest event still on the queue; taking events removes the oldest first", () => {
    const ages = new QueueAges();
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
    const ages = new QueueAges();
    ages.add("a", 1, 1_000);
    ages.add("b", 1, 4_000);
    ages.take("a", 5);
    ages.take("missing", 1);
    expect(ages.oldestAgeSeconds(6_000)).toEqual({ b: 2 });
    ages.add("a", 1, 6_000);
    expect(ages.oldestAgeSeconds(6_000)).toEqual({ a: 0, b: 2 });
  });

  it("bounds memory for a backlog over many seconds and keeps the oldest age", () => {
    const ages = new QueueAges();
    for (let s = 0; s < MAX_BUCKETS + 100; s++) ages.add("q", 1, s * 1000);
    const now = (MAX_BUCKETS + 100) * 1000;
    expect(ages.oldestAgeSeconds(now)).toEqual({ q: MAX_BUCKETS + 100 });
    ages.take("q", MAX_BUCKETS + 99);
    expect(ages.oldestAgeSeconds(now)).toEqual({ q: 1 });
  });
});
