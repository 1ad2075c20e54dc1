import { describe, expect, it } from "vitest";
import { bestOfTwo, FLOOD_MIN_EVENTS, shouldSideline } from "../../src/placement/sideline";

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
