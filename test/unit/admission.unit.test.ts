import { describe, expect, it } from "vitest";
import { AdmissionLimiter, INITIAL_LIMIT, INTERVAL_MS, MIN_LIMIT, TARGET_SOJOURN_MS } from "../../src/invoke/admission";
import type { Ticket } from "../../src/invoke/admission";

/** Admits `n` invocations of `tenant` at `now` and returns their tickets (throws if one is refused). */
function fill(limiter: AdmissionLimiter, n: number, now: number, tenant = "t"): Ticket[] {
  return Array.from({ length: n }, () => {
    const ticket = limiter.admit(tenant, now);
    if (!ticket) throw new Error("refused");
    return ticket;
  });
}

describe("admission limiter", () => {
  it("admits up to its bound and refuses beyond it, counting both", () => {
    const limiter = new AdmissionLimiter();
    const tickets = fill(limiter, INITIAL_LIMIT, 0);
    expect(limiter.admit("t", 0)).toBeNull();
    expect(limiter.stats()).toMatchObject({ limit: INITIAL_LIMIT, inFlight: INITIAL_LIMIT, admitted: INITIAL_LIMIT, refused: 1 });
    limiter.finished(tickets[0] as Ticket, 1);
    expect(limiter.admit("t", 1)).not.toBeNull();
  });

  it("shrinks the bound while every sojourn of an interval is above the target, down to MIN_LIMIT", () => {
    const limiter = new AdmissionLimiter();
    let now = 0;
    const limits: number[] = [];
    for (let i = 0; i < 60; i++) {
      const [ticket] = fill(limiter, 1, now);
      now += INTERVAL_MS;
      limiter.started(ticket as Ticket, now); // sojourn of a whole interval: a standing queue
      limiter.finished(ticket as Ticket, now);
      limits.push(limiter.stats().limit);
    }
    expect(limits[0]).toBeLessThan(INITIAL_LIMIT);
    expect(limits.every((l, i) => i === 0 || l <= (limits[i - 1] ?? Infinity))).toBe(true);
    expect(limits.at(-1)).toBe(MIN_LIMIT);
  });

  it("keeps the bound when one sojourn of the interval is short (the queue drains)", () => {
    const limiter = new AdmissionLimiter();
    const [slow, fast] = fill(limiter, 2, 0);
    limiter.started(fast as Ticket, 1);
    limiter.started(slow as Ticket, INTERVAL_MS + TARGET_SOJOURN_MS * 4);
    expect(limiter.stats().limit).toBe(INITIAL_LIMIT);
  });

  it("does not shrink for a slow handler: only the time before the handler starts counts", () => {
    const limiter = new AdmissionLimiter();
    let now = 0;
    for (let i = 0; i < 20; i++) {
      const [ticket] = fill(limiter, 1, now);
      limiter.started(ticket as Ticket, now + 1);
      now += 10 * INTERVAL_MS; // the handler runs for a second
      limiter.finished(ticket as Ticket, now);
    }
    expect(limiter.stats().limit).toBe(INITIAL_LIMIT);
  });

  it("grows the bound when it was reached and the queue stayed short", () => {
    const limiter = new AdmissionLimiter();
    const tickets = fill(limiter, INITIAL_LIMIT, INTERVAL_MS);
    limiter.started(tickets[0] as Ticket, INTERVAL_MS + 1);
    expect(limiter.stats().limit).toBeGreaterThan(INITIAL_LIMIT);
  });

  it("refuses a flooding tenant first near the bound, and keeps admitting a tenant under its share", () => {
    const limiter = new AdmissionLimiter();
    // The flood takes what it can: it stops at the fair-share line (80 % of the bound).
    let flooded = 0;
    while (limiter.admit("flood", 0)) flooded++;
    expect(flooded).toBe(INITIAL_LIMIT);
    // Alone, a tenant may use the whole bound; with another tenant arriving it is over its share.
    const limiter2 = new AdmissionLimiter();
    fill(limiter2, Math.floor(INITIAL_LIMIT * 0.8), 0, "flood");
    expect(limiter2.admit("victim", 0)).not.toBeNull();
    expect(limiter2.admit("flood", 0)).toBeNull();
    for (let i = 0; i < 20; i++) expect(limiter2.admit("victim", 0)).not.toBeNull();
  });
});
