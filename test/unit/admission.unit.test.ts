import { describe, expect, it } from "vitest";
import {
  AdmissionLimiter,
  BASELINE_WINDOW_MS,
  FAIR_HEADROOM,
  FAIR_SHARE_FROM,
  INITIAL_LIMIT,
  INTERVAL_MS,
  LAG_TARGET_MS,
  MIN_LIMIT,
  MIN_RATE,
  MIN_SAMPLES,
  TARGET_QUEUE_MS,
} from "../../src/invoke/admission";
import { ENGAGE_AFTER, LAG_CEILING_MS, MAX_CUT, PEAK_FLOOR, PEAK_WINDOW_MS, RATE_GROWTH } from "../../src/invoke/lag-rate";
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

  it("admits a caller under its share past a bound another caller filled, by FAIR_HEADROOM at most", () => {
    const limiter = new AdmissionLimiter({ initial: 20, min: 20, max: 20 });
    // The flood filled the bound while the victim had nothing in flight (it was alone: its share was the whole bound).
    fill(limiter, 20, 0, "flood");
    expect(limiter.admit("flood", 0)).toBe("capacity");
    // A caller whose name is not known good (an unknown key id, forgeable) may not borrow.
    expect(limiter.admit("forged", 0, false)).toBe("capacity");
    // The victim is under its share (10 of 20): admitted past the bound, up to 25 % of it.
    const headroom = Math.ceil(20 * FAIR_HEADROOM);
    expect(fill(limiter, headroom, 0, "victim").length).toBe(headroom);
    expect(limiter.admit("victim", 0)).toBe("capacity");
    // The flood stays refused, now for holding more than its share.
    expect(limiter.admit("flood", 0)).toBe("capacity");
    expect(limiter.stats().inFlight).toBe(20 + headroom);
  });

  it("lets a caller alone use the whole bound", () => {
    const limiter = new AdmissionLimiter({ initial: 8, min: 8, max: 8 });
    fill(limiter, 8, 0, "solo");
    expect(limiter.admit("solo", 0)).toBe("capacity");
  });
});

/** Admits what `limiter` lets through of `n` requests of `caller` spread evenly over one INTERVAL_MS from `from`; returns the tickets and refusals. */
function offer(limiter: AdmissionLimiter, n: number, from: number, caller = "t"): { tickets: Ticket[]; refused: string[] } {
  const tickets: Ticket[] = [];
  const refused: string[] = [];
  for (let i = 0; i < n; i++) {
    const verdict = limiter.admit(caller, from + (i * INTERVAL_MS) / n);
    if (typeof verdict === "string") refused.push(verdict);
    else tickets.push(verdict);
  }
  return { tickets, refused };
}

/** One interval in which the event loop lagged `lag` ms at every sample, and `n` requests came (each an invocation over within it). */
function interval(limiter: AdmissionLimiter, now: number, lag: number, n: number, caller = "t"): { admitted: number; refused: string[] } {
  const { tickets, refused } = offer(limiter, n, now, caller);
  for (const t of tickets) limiter.complete(t, now + INTERVAL_MS - 1, "fn");
  limiter.loopLag(lag, now + INTERVAL_MS / 2);
  limiter.loopLag(lag, now + INTERVAL_MS);
  return { admitted: tickets.length, refused };
}

describe("admission limiter: the event loop's lag bounds the admission rate", () => {
  /** A bound of 20 requests in flight, which 50 requests in an interval exceed (open load). */
  const bounded = () => new AdmissionLimiter({ initial: 20, min: 20, max: 20 });

  it("binds no rate for a load that never meets the bound on requests in flight (a closed loop), however late the loop", () => {
    const limiter = new AdmissionLimiter();
    let now = 0;
    for (let i = 0; i < 20; i++, now += INTERVAL_MS) expect(interval(limiter, now, LAG_TARGET_MS * 10, 50).refused).toEqual([]);
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
  });

  it("binds no rate while the loop keeps up, even past the bound on requests in flight", () => {
    const limiter = bounded();
    let now = 0;
    for (let i = 0; i < 20; i++, now += INTERVAL_MS) expect(interval(limiter, now, LAG_TARGET_MS, 50).refused.length).toBe(30);
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
  });

  it("takes one late timer in an interval as no standing queue (the smallest lag is judged)", () => {
    const limiter = bounded();
    let now = 0;
    for (let i = 0; i < 20; i++, now += INTERVAL_MS) {
      limiter.loopLag(1, now + 10);
      interval(limiter, now, LAG_TARGET_MS * 20, 50);
    }
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
  });

  /** Intervals of `n` requests with the loop `lag` late (past LAG_CEILING_MS by default) until the rate bound engages; the time after them. */
  function engage(limiter: AdmissionLimiter, now: number, n = 50, caller = "t", lag = LAG_CEILING_MS * 2): number {
    for (let i = 0; i < 10 && limiter.stats().rate === Number.POSITIVE_INFINITY; i++, now += INTERVAL_MS) interval(limiter, now, lag, n, caller);
    return now;
  }

  it("past the ceiling with the bound refusing, engages after ENGAGE_AFTER intervals a fifth below the rate completed, and cuts while it refuses: at most a fifth an interval, to half the peak completed in PEAK_WINDOW_MS, down to MIN_RATE in the end", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = 0;
    // 25 admitted and completed per 100 ms (250/s) with the loop 4× past its target.
    const judged: number[] = [];
    for (let i = 0; i <= ENGAGE_AFTER; i++, now += INTERVAL_MS) {
      interval(limiter, now, LAG_TARGET_MS * 4, 50);
      judged.push(limiter.stats().rate);
    }
    expect(judged.slice(0, ENGAGE_AFTER)).toEqual(Array(ENGAGE_AFTER).fill(Number.POSITIVE_INFINITY));
    expect(limiter.stats().rate).toBeCloseTo(250 * MAX_CUT, 5);
    const rates = [limiter.stats().rate];
    for (let i = 0; i < PEAK_WINDOW_MS / 2 / INTERVAL_MS; i++, now += INTERVAL_MS) {
      const { admitted, refused } = interval(limiter, now, LAG_TARGET_MS * 4, 50);
      // One caller: refused for capacity, never for a share; no more admitted than the rate and a full bucket allow.
      expect(refused.every((r) => r === "capacity")).toBe(true);
      expect(admitted).toBeLessThanOrEqual(Math.ceil(((rates.at(-1) as number) * 2 * INTERVAL_MS) / 1000) + 1);
      rates.push(limiter.stats().rate);
    }
    // Never more than a fifth per interval.
    expect(rates.every((r, i) => i === 0 || (r <= (rates[i - 1] as number) && r >= (rates[i - 1] as number) * MAX_CUT - 1e-9))).toBe(true);
    // Within half a window (the windowed max keeps at least that long) it does not go below half the 250/s that completed before it engaged.
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(250 * PEAK_FLOOR - 1e-9);
    // A lag that stands whatever is cut takes it down in the end, a halving per window at most.
    for (let i = 0; i < 400; i++, now += INTERVAL_MS) interval(limiter, now, LAG_TARGET_MS * 4, 50);
    expect(limiter.stats().rate).toBe(MIN_RATE);
    expect(limiter.stats()).toMatchObject({ inFlight: 0, rateEngaged: 1 });
    expect(limiter.stats().refusedBy.rate).toBeGreaterThan(0);
  });

  it("does not cut a steady load at the isolate's capacity whose lag stands just over the target, not growing: it completes in time", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = 0;
    const admitted: number[] = [];
    for (let i = 0; i < 30; i++, now += INTERVAL_MS) admitted.push(interval(limiter, now, LAG_TARGET_MS * 1.2, 50).admitted);
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
    expect(admitted.every((n) => n === 25)).toBe(true);
    expect(limiter.stats().refusedBy).toEqual({ bound: 30 * 25, share: 0, rate: 0, rateShare: 0 });
  });

  it("takes one stalled interval (far over the target) for a stall, not a load: no rate bound", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = 0;
    // Every fifth interval the thread stalls (the loop 20× past its target) while the bound refuses the open load.
    for (let i = 0; i < 20; i++, now += INTERVAL_MS) expect(interval(limiter, now, i % 5 === 2 ? LAG_TARGET_MS * 20 : 1, 50).admitted).toBe(25);
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
  });

  it("cuts from the rate completed over the intervals past the target, not from what a stalled interval admitted", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = 0;
    // Two loaded intervals, then a stall in which 1 request came; the lag grows throughout.
    for (const [lag, n] of [[150, 50], [200, 50], [250, 50], [300, 1], [350, 1]] as const) {
      interval(limiter, now, lag, n);
      now += INTERVAL_MS;
    }
    // 25 + 25 + 25 + 1 completed over the 4 judged intervals (400 ms): 190/s; a fifth less is 152/s (the admitted rate of the stall, 10/s, would give 8).
    expect(limiter.stats().rate).toBeGreaterThanOrEqual(100);
  });

  it("holds the rate while the queue over the target drains, and grows it by RATE_GROWTH per interval once under the target", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = engage(limiter, 0);
    const engaged = limiter.stats().rate;
    for (const lag of [90, 80, 70, 60]) {
      interval(limiter, now, lag, 50);
      now += INTERVAL_MS;
      expect(limiter.stats().rate).toBe(engaged);
    }
    interval(limiter, now, 1, 50);
    now += INTERVAL_MS;
    expect(limiter.stats().rate).toBeCloseTo(engaged * RATE_GROWTH, 5);
    let admittedLast = 0;
    for (let i = 0; i < 200 && limiter.stats().rate !== Number.POSITIVE_INFINITY; i++, now += INTERVAL_MS) admittedLast = interval(limiter, now, 1, 50).admitted;
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
    expect(admittedLast).toBe(25);
  });

  it("lifts the rate bound at once when a light load is refused nothing, however late the loop", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = engage(limiter, 0);
    expect(limiter.stats().rate).toBeLessThan(Number.POSITIVE_INFINITY);
    now += INTERVAL_MS * 10;
    // The first interval still holds the refusals of the engaging one; from the next on, a single request a time is refused nothing.
    expect(interval(limiter, now, LAG_TARGET_MS * 4, 1).refused).toEqual([]);
    for (let i = 1; i <= 5; i++) {
      expect(interval(limiter, now + i * INTERVAL_MS, LAG_TARGET_MS * 4, 1).refused).toEqual([]);
      if (i >= 2) expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
    }
  });

  it("does not shrink the bound on requests in flight while the rate bound is engaged (the two would compound)", () => {
    const limiter = new AdmissionLimiter({ initial: 2 * MIN_LIMIT, max: 2 * MIN_LIMIT });
    let now = engage(limiter, 0);
    expect(limiter.stats().rate).toBeLessThan(Number.POSITIVE_INFINITY);
    now = oneRequest(limiter, now + INTERVAL_MS * 10, 5, "fast", MIN_LIMIT);
    for (let i = 0; i < 5; i++) now = oneRequest(limiter, now + INTERVAL_MS, 5 + TARGET_QUEUE_MS * 3, "fast", MIN_LIMIT);
    expect(limiter.stats().limit).toBe(2 * MIN_LIMIT);
  });

  it("under the rate bound, refuses a caller holding its split of the requests in flight first, and admits another", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = engage(limiter, 0, 50, "flood");
    const rate = limiter.stats().rate;
    expect(rate).toBeCloseTo(200, 5);
    // A full bucket (one interval's worth: 20); the flood holds 5, the victim 1.
    now += INTERVAL_MS * 10;
    const held = offer(limiter, 5, now, "flood").tickets;
    expect(held.length).toBe(5);
    expect(typeof limiter.admit("victim", now + INTERVAL_MS)).toBe("object");
    // The flood drains the bucket below half, then is refused for its share while the victim still gets in.
    const verdicts: string[] = [];
    for (let i = 0; i < 15; i++) {
      const v = limiter.admit("flood", now + INTERVAL_MS);
      verdicts.push(typeof v === "string" ? v : "ok");
    }
    expect(verdicts).toContain("share");
    expect(limiter.stats().refusedBy.rateShare).toBeGreaterThan(0);
    expect(typeof limiter.admit("victim", now + INTERVAL_MS)).toBe("object");
  });

  it("under the rate bound, admits a caller under its share from an empty bucket (in debt the others pay back)", () => {
    const limiter = new AdmissionLimiter({ initial: 25, min: 25, max: 25 });
    let now = engage(limiter, 0, 50, "flood");
    expect(limiter.stats().rate).toBeCloseTo(200, 5);
    // The flood alone drains the bucket (burst 20).
    now += INTERVAL_MS * 10;
    const at = now;
    const flood = Array.from({ length: 30 }, () => limiter.admit("flood", at));
    expect(flood.filter((v) => typeof v !== "string").length).toBe(20);
    expect(limiter.admit("flood", at)).toBe("capacity");
    // The victim, with nothing in flight, still gets in, up to FAIR_HEADROOM of a burst of debt.
    const victims = Array.from({ length: 10 }, () => limiter.admit("victim", at));
    const admitted = victims.filter((v) => typeof v !== "string").length;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(Math.ceil(20 * FAIR_HEADROOM));
    // The debt is the flood's to pay: a tenth of an interval later (two tokens refilled) it is still refused.
    expect(typeof limiter.admit("flood", at + INTERVAL_MS / 10)).toBe("string");
  });

  it("ignores the lag when told to (lagBound: false)", () => {
    const limiter = new AdmissionLimiter({ initial: 20, min: 20, max: 20, lagBound: false });
    let now = 0;
    for (let i = 0; i < 20; i++, now += INTERVAL_MS) expect(interval(limiter, now, LAG_TARGET_MS * 10, 50).refused.length).toBe(30);
    expect(limiter.stats().rate).toBe(Number.POSITIVE_INFINITY);
  });
});
