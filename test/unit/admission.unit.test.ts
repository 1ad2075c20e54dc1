import { describe, expect, it } from "vitest";
import { AdmissionLimiter, BASELINE_WINDOW_MS, FAIR_SHARE_FROM, INITIAL_LIMIT, INTERVAL_MS, MIN_LIMIT, MIN_SAMPLES, TARGET_QUEUE_MS } from "../../src/invoke/admission";
import type { Ticket } from "../../src/invoke/admission";

/** Admits `n` requests of `caller` at `now` and returns their tickets (throws if one is refused). */
function fill(limiter: AdmissionLimiter, n: number, now: number, caller = "t"): Ticket[] {
  return Array.from({ length: n }, () => {
    const ticket = limiter.admit(caller, now);
    if (typeof ticket === "string") throw new Error(`refused: ${ticket}`);
    return ticket;
  });
}

/** `n` requests of `work` that arrive at `now` and are over `took` ms later; returns the time they ended. */
function oneRequest(limiter: AdmissionLimiter, now: number, took: number, work = "fast", n = MIN_SAMPLES): number {
  for (const ticket of fill(limiter, n, now)) limiter.complete(ticket, now + took, work);
  return now + took;
}

describe("admission limiter", () => {
  it("admits up to its bound and refuses beyond it at once, counting both", () => {
    const limiter = new AdmissionLimiter();
    const tickets = fill(limiter, INITIAL_LIMIT, 0);
    expect(limiter.admit("t", 0)).toBe("capacity");
    expect(limiter.stats()).toMatchObject({ limit: INITIAL_LIMIT, inFlight: INITIAL_LIMIT, admitted: INITIAL_LIMIT, refused: 1 });
    limiter.complete(tickets[0] as Ticket, 1);
    // Giving a ticket back twice (the door and the invocation) frees one slot only.
    limiter.complete(tickets[0] as Ticket, 1);
    expect(limiter.stats().inFlight).toBe(INITIAL_LIMIT - 1);
    expect(typeof limiter.admit("t", 1)).toBe("object");
    expect(limiter.admit("t", 1)).toBe("capacity");
  });

  it("shrinks the bound while even the quickest request of each interval queued past the target, down to MIN_LIMIT", () => {
    const limiter = new AdmissionLimiter({ initial: 2 * MIN_LIMIT });
    // No load: the function's own time is 5 ms.
    let now = oneRequest(limiter, 0, 5, "fast", MIN_LIMIT);
    const limits: number[] = [];
    // Within one BASELINE_WINDOW_MS, so the 5 ms no-load time is still remembered.
    for (let i = 0; i < 20; i++) {
      now = oneRequest(limiter, now + INTERVAL_MS, 5 + TARGET_QUEUE_MS * 3, "fast", MIN_LIMIT);
      limits.push(limiter.stats().limit);
    }
    // The first interval still holds the no-load requests; from the next one on it shrinks.
    expect(limits[2]).toBeLessThan(2 * MIN_LIMIT);
    expect(limits.every((l, i) => i === 0 || l <= (limits[i - 1] as number))).toBe(true);
    expect(limits.at(-1)).toBe(MIN_LIMIT);
  });

  it("takes a function that is slow on its own for what it is, not for a queue", () => {
    const limiter = new AdmissionLimiter({ initial: 2 * MIN_LIMIT });
    let now = 0;
    for (let i = 0; i < 40; i++) now = oneRequest(limiter, now + INTERVAL_MS, 500, "slow", MIN_LIMIT);
    expect(limiter.stats().limit).toBe(2 * MIN_LIMIT);
    // Beside it, a fast function that queues does shrink the bound.
    now = oneRequest(limiter, now + INTERVAL_MS, 5, "fast", MIN_LIMIT);
    for (let i = 0; i < 3; i++) now = oneRequest(limiter, now + INTERVAL_MS, 5 + TARGET_QUEUE_MS * 3, "fast", MIN_LIMIT);
    expect(limiter.stats().limit).toBeLessThan(2 * MIN_LIMIT);
  });

  it("does not shrink for a queue while far below its bound: something else slows the isolate, and refusing would not help", () => {
    const limiter = new AdmissionLimiter();
    let now = oneRequest(limiter, 0, 5);
    for (let i = 0; i < 40; i++) now = oneRequest(limiter, now + INTERVAL_MS, 5 + TARGET_QUEUE_MS * 3);
    expect(limiter.stats().limit).toBe(INITIAL_LIMIT);
  });

  it("judges an interval by its quickest request: one short wait means no standing queue", () => {
    const limiter = new AdmissionLimiter();
    let now = oneRequest(limiter, 0, 5);
    for (let i = 0; i < 20; i++) {
      now += INTERVAL_MS;
      const [quick, ...slow] = fill(limiter, MIN_SAMPLES, now);
      limiter.complete(quick as Ticket, now + 6, "fast");
      for (const t of slow) limiter.complete(t, now + 5 + TARGET_QUEUE_MS * 5, "fast");
      now += 5 + TARGET_QUEUE_MS * 5;
    }
    expect(limiter.stats().limit).toBe(INITIAL_LIMIT);
  });

  it("takes fewer than MIN_SAMPLES completions in an interval as no evidence", () => {
    const limiter = new AdmissionLimiter();
    let now = oneRequest(limiter, 0, 5);
    for (let i = 0; i < 40; i++) now = oneRequest(limiter, now + INTERVAL_MS * 20, 5 + TARGET_QUEUE_MS * 3, "fast", MIN_SAMPLES - 1);
    expect(limiter.stats().limit).toBe(INITIAL_LIMIT);
  });

  it("grows the bound when the bound held work back and the queue stayed short", () => {
    const limiter = new AdmissionLimiter({ initial: 10 });
    let now = oneRequest(limiter, 0, 5);
    for (let i = 0; i < 10; i++) {
      now += INTERVAL_MS;
      const tickets = fill(limiter, limiter.stats().limit, now);
      expect(limiter.admit("t", now)).toBe("capacity");
      for (const t of tickets) limiter.complete(t, now + 6, "fast");
      now += 6;
    }
    expect(limiter.stats().limit).toBeGreaterThan(10);
  });

  it("forgets a function's no-load time after BASELINE_WINDOW_MS: a function that became slower stops counting as a queue", () => {
    const limiter = new AdmissionLimiter({ initial: 2 * MIN_LIMIT });
    let now = oneRequest(limiter, 0, 5, "fast", MIN_LIMIT);
    for (let elapsed = 0; elapsed < BASELINE_WINDOW_MS * 1.5; elapsed += INTERVAL_MS) now = oneRequest(limiter, now + INTERVAL_MS, 200, "fast", MIN_LIMIT);
    const settled = limiter.stats().limit;
    // Its 200 ms are now its own time: a full bound with no queue grows (it would shrink, were 5 ms remembered).
    for (let i = 0; i < 20; i++) now = oneRequest(limiter, now + INTERVAL_MS, 200, "fast", limiter.stats().limit);
    expect(limiter.stats().limit).toBeGreaterThan(settled);
  });

  it("ignores requests that ended before any invocation (no sample)", () => {
    const limiter = new AdmissionLimiter();
    let now = oneRequest(limiter, 0, 5);
    for (let i = 0; i < 20; i++) {
      now += INTERVAL_MS;
      const [ticket] = fill(limiter, 1, now);
      limiter.complete(ticket as Ticket, now + 500);
    }
    expect(limiter.stats().limit).toBe(INITIAL_LIMIT);
  });

  it("near its bound, refuses a caller holding its share first, and admits another caller", () => {
    const limiter = new AdmissionLimiter({ initial: 20, min: 20, max: 20 });
    const nearlyFull = Math.ceil(20 * FAIR_SHARE_FROM);
    fill(limiter, 2, 0, "victim");
    fill(limiter, nearlyFull - 2, 0, "flood");
    // Two callers active: a share is 10; the flood holds more.
    expect(limiter.admit("flood", 0)).toBe("share");
    expect(typeof limiter.admit("victim", 0)).toBe("object");
    // Below the near-full mark, shares do not matter.
    const roomy = new AdmissionLimiter({ initial: 20, min: 20, max: 20 });
    fill(roomy, nearlyFull - 1, 0, "flood");
    expect(typeof roomy.admit("flood", 0)).toBe("object");
  });

  it("lets a caller alone use the whole bound", () => {
    const limiter = new AdmissionLimiter({ initial: 8, min: 8, max: 8 });
    fill(limiter, 8, 0, "solo");
    expect(limiter.admit("solo", 0)).toBe("capacity");
  });
});
