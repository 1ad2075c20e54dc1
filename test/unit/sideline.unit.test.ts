import { describe, expect, it } from "vitest";
import type { SlidingCount } from "../../src/placement/sideline";
import { advance, bestOfTwo, emptyCount, FLOOD_MIN_EVENTS, recentEvents, shouldSideline, SIDELINE_WINDOW_MS } from "../../src/placement/sideline";

const W = SIDELINE_WINDOW_MS;

function add(count: SlidingCount, now: number): SlidingCount {
  const c = advance(count, now);
  return { ...c, current: c.current + 1 };
}

describe("shouldSideline", () => {
  it("sidelines a tenant sending most of a busy cell's events", () => {
    expect(shouldSideline("auto", { events: FLOOD_MIN_EVENTS + 1, cellEvents: FLOOD_MIN_EVENTS + 50, sidelined: false })).toBe(true);
  });

  it("leaves a busy tenant alone when it is not the majority, and a quiet one always", () => {
    expect(shouldSideline("auto", { events: FLOOD_MIN_EVENTS + 1, cellEvents: 10 * FLOOD_MIN_EVENTS, sidelined: false })).toBe(false);
    expect(shouldSideline("auto", { events: 10, cellEvents: 10, sidelined: false })).toBe(false);
  });

  it("keeps a sidelined tenant aside until its rate falls under half the threshold", () => {
    expect(shouldSideline("auto", { events: FLOOD_MIN_EVENTS / 2, cellEvents: 10_000, sidelined: true })).toBe(true);
    expect(shouldSideline("auto", { events: FLOOD_MIN_EVENTS / 2 - 1, cellEvents: 10_000, sidelined: true })).toBe(false);
  });

  it("obeys an operator's forced mode", () => {
    expect(shouldSideline("on", { events: 0, cellEvents: 0, sidelined: false })).toBe(true);
    expect(shouldSideline("off", { events: 10_000, cellEvents: 10_000, sidelined: true })).toBe(false);
  });
});

describe("recentEvents (sliding window)", () => {
  it("counts the current window and the overlapping part of the previous one", () => {
    let count = emptyCount(0);
    for (let t = 0; t < W; t += 100) count = add(count, t); // 100 events in window 0
    expect(recentEvents(count, W - 1)).toBe(100);
    expect(recentEvents(count, W)).toBe(100); // whole previous window still overlaps
    expect(recentEvents(count, W + W / 4)).toBeCloseTo(75);
    expect(recentEvents(count, 2 * W - 1)).toBeCloseTo(0.01);
    expect(recentEvents(count, 2 * W)).toBe(0);
    expect(recentEvents(count, 10 * W)).toBe(0);
  });

  it("keeps windows aligned after a long gap", () => {
    const count = advance({ start: 0, current: 5, previous: 3 }, 3 * W + 123);
    expect(count).toEqual({ start: 3 * W, current: 0, previous: 0 });
  });

  it("sees a steady rate as steady across window boundaries", () => {
    let count = emptyCount(0);
    const seen: number[] = [];
    for (let t = 0; t < 6 * W; t += 40) {
      count = add(count, t); // 25 events/s
      if (t >= 2 * W) seen.push(recentEvents(count, t));
    }
    expect(Math.min(...seen)).toBeGreaterThan(240);
    expect(Math.max(...seen)).toBeLessThan(251.5);
  });
});

describe("automatic sidelining over time", () => {
  /** A flooder at 25 events/s and 20 quiet tenants at 0.5 events/s each, routed as the QueueManager does. */
  function simulate(floodUntil: number, end: number): Array<{ t: number; sidelined: boolean }> {
    let flooder = emptyCount(0);
    let cell = emptyCount(0);
    let sidelined = false;
    const out: Array<{ t: number; sidelined: boolean }> = [];
    for (let t = 0; t < end; t += 40) {
      const quietEvents = t % 100 === 0 ? 1 : 0; // 10 events/s from the quiet tenants together
      for (let q = 0; q < quietEvents; q++) cell = add(cell, t);
      if (t >= floodUntil) continue;
      cell = add(cell, t);
      flooder = add(flooder, t);
      sidelined = shouldSideline("auto", { events: recentEvents(flooder, t), cellEvents: recentEvents(cell, t), sidelined });
      out.push({ t, sidelined });
    }
    return out;
  }

  it("sidelines a steady flood within a window and keeps it aside at every boundary", () => {
    const routed = simulate(Infinity, 6 * W);
    const firstAside = routed.find((r) => r.sidelined)?.t ?? Infinity;
    expect(firstAside).toBeLessThan(W);
    expect(routed.filter((r) => r.t >= firstAside).every((r) => r.sidelined)).toBe(true);
  });

  it("lets a tenant back on its shard once its rate falls", () => {
    let flooder = emptyCount(0);
    let sidelined = false;
    for (let t = 0; t < 3 * W; t += 40) {
      flooder = add(flooder, t);
      sidelined = shouldSideline("auto", { events: recentEvents(flooder, t), cellEvents: recentEvents(flooder, t), sidelined });
    }
    expect(sidelined).toBe(true);
    // Then one event every 200 ms (2 per second, 20 per window): it comes back.
    for (let t = 3 * W; t < 5 * W; t += 200) {
      flooder = add(flooder, t);
      sidelined = shouldSideline("auto", { events: recentEvents(flooder, t), cellEvents: recentEvents(flooder, t), sidelined });
    }
    expect(sidelined).toBe(false);
  });
});

describe("bestOfTwo", () => {
  it("picks the shallower of the two drawn queues", () => {
    const depth = (q: string) => ({ a: 5, b: 1, c: 9 })[q] ?? 0;
    // Draws a (index 0), then b (index 0 of the remaining two, i.e. b).
    const drawAB = [0, 0];
    expect(bestOfTwo(["a", "b", "c"], depth, () => drawAB.shift() ?? 0)).toBe("b");
    // Draws a, then c: a is shallower.
    const drawAC = [0, 0.5];
    expect(bestOfTwo(["a", "b", "c"], depth, () => drawAC.shift() ?? 0)).toBe("a");
  });

  it("never returns a queue outside the candidates and spreads load", () => {
    const depths = new Map<string, number>([["q0", 0], ["q1", 0]]);
    for (let i = 0; i < 1000; i++) {
      const q = bestOfTwo(["q0", "q1"], (name) => depths.get(name) ?? 0, Math.random);
      depths.set(q, (depths.get(q) ?? 0) + 1);
    }
    expect(Math.abs((depths.get("q0") ?? 0) - (depths.get("q1") ?? 0))).toBeLessThanOrEqual(1);
  });
});
