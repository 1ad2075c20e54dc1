import { describe, expect, it } from "vitest";
import { sessionResults } from "../../src/logs/live-tail-results";

const event = (id: number, ts = 1000 + id, message = `m${id}`) => ({ id, ts, message });

describe("a live tail update's events", () => {
  it("keeps up to 500 events, in time order then id order, unsampled", () => {
    const events = [event(3, 5), event(1, 7), event(2, 5)];
    expect(sessionResults(events)).toEqual({ events: [event(2, 5), event(3, 5), event(1, 7)], sampled: false });
    const full = Array.from({ length: 500 }, (_, i) => event(i));
    expect(sessionResults(full)).toEqual({ events: full, sampled: false });
  });

  it("samples more than 500 evenly down to 500, the first kept", () => {
    const { events, sampled } = sessionResults(Array.from({ length: 1000 }, (_, i) => event(i)));
    expect(sampled).toBe(true);
    expect(events).toHaveLength(500);
    expect(events.map((e) => e.id).slice(0, 3)).toEqual([0, 2, 4]);
    expect(events.at(-1)?.id).toBe(998);
  });

  it("thins an update over the byte limit evenly to what fits, and never drops the last event standing", () => {
    const big = Array.from({ length: 8 }, (_, i) => event(i, i, "x".repeat(300)));
    const { events, sampled } = sessionResults(big, 500, 1000);
    expect(sampled).toBe(true);
    expect(events.map((e) => e.id)).toEqual([0, 2, 5]);
    expect(sessionResults([event(0, 0, "y".repeat(5000))], 500, 1000)).toEqual({ events: [event(0, 0, "y".repeat(5000))], sampled: false });
  });
});
