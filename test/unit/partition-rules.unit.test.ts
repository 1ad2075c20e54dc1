import { describe, expect, it } from "vitest";
import type { Environment } from "../../src/invoke/partition-rules";
import {
  admitBacklog,
  admitReserved,
  ENV_IDLE_MS,
  environmentId,
  expiredIdle,
  holdPeak,
  NEW_PEAK_HOLD_MS,
  pickIdle,
  UNRESERVED_BACKLOG_LEASES,
} from "../../src/invoke/partition-rules";

const env = (id: string, extra: Partial<Environment> = {}): Environment => ({
  id,
  versionKey: "1@r",
  isolationKey: "",
  busy: false,
  lastUsedAt: 1_000,
  ...extra,
});

describe("pickIdle", () => {
  it("takes the most recently used idle environment of the same code and isolation key", () => {
    const envs = [env("a", { lastUsedAt: 100 }), env("b", { lastUsedAt: 900 }), env("c", { lastUsedAt: 950, busy: true })];
    expect(pickIdle(envs, "1@r", "", 1_000)?.id).toBe("b");
  });

  it("never crosses code versions or isolation keys", () => {
    const envs = [env("a", { versionKey: "2@r" }), env("b", { isolationKey: "tenant-x" })];
    expect(pickIdle(envs, "1@r", "", 1_000)).toBeUndefined();
    expect(pickIdle(envs, "1@r", "tenant-x", 1_000)?.id).toBe("b");
    expect(pickIdle(envs, "1@r", "tenant-y", 1_000)).toBeUndefined();
  });

  it("skips environments idle past ENV_IDLE_MS", () => {
    expect(pickIdle([env("a", { lastUsedAt: 0 })], "1@r", "", ENV_IDLE_MS + 1)).toBeUndefined();
    expect(expiredIdle([env("a", { lastUsedAt: 0 }), env("b", { lastUsedAt: 0, busy: true })], ENV_IDLE_MS + 1).map((e) => e.id)).toEqual(["a"]);
  });
});

describe("admitReserved", () => {
  it("admits below the reservation and refuses at it", () => {
    expect(admitReserved(4, 5)).toBeNull();
    expect(admitReserved(5, 5)).toBe("ReservedFunctionConcurrentInvocationLimitExceeded");
    expect(admitReserved(0, 0)).toBe("ReservedFunctionConcurrentInvocationLimitExceeded");
  });
});

describe("environmentId", () => {
  it("is unique per isolation key and sequence and encodes the tenant id", () => {
    expect(environmentId("t/f", "1@r", "", 1)).toBe("t/f/1@r/-/1");
    expect(environmentId("t/f", "1@r", "a b/c", 2)).toBe("t/f/1@r/a%20b%2Fc/2");
  });
});

describe("holdPeak", () => {
  it("keeps the highest count until it is NEW_PEAK_HOLD_MS old, then follows the count", () => {
    let peak = holdPeak({ value: 0, at: 0 }, 3, 1_000);
    expect(peak).toEqual({ value: 3, at: 1_000 });
    peak = holdPeak(peak, 1, 2_000);
    expect(peak.value).toBe(3);
    peak = holdPeak(peak, 0, 1_000 + NEW_PEAK_HOLD_MS);
    expect(peak.value).toBe(3);
    peak = holdPeak(peak, 0, 1_001 + NEW_PEAK_HOLD_MS);
    expect(peak).toEqual({ value: 0, at: 1_001 + NEW_PEAK_HOLD_MS });
  });

  it("restarts the hold when the count reaches the peak again", () => {
    const peak = holdPeak({ value: 2, at: 0 }, 2, NEW_PEAK_HOLD_MS);
    expect(holdPeak(peak, 1, 2 * NEW_PEAK_HOLD_MS).value).toBe(2);
  });
});

describe("admitBacklog", () => {
  const admit = (reserved: number | null, newInFlight: number, backlogInFlight: number, newPeak = newInFlight) =>
    admitBacklog({ reserved, newInFlight, backlogInFlight, newPeak });

  it("keeps the new events' recent peak and one slot more free", () => {
    // Reserved 5, new events peaked at 2: 3 kept for them, the backlog may hold 2.
    expect(admit(5, 1, 0, 2)).toBe(true);
    expect(admit(5, 1, 1, 2)).toBe(true);
    expect(admit(5, 1, 2, 2)).toBe(false);
    // A peak of 3 leaves the backlog 1.
    expect(admit(5, 0, 0, 3)).toBe(true);
    expect(admit(5, 0, 1, 3)).toBe(false);
  });

  it("lets the backlog take all but one slot when no new event came lately", () => {
    expect(admit(5, 0, 3)).toBe(true);
    expect(admit(5, 0, 4)).toBe(false);
  });

  it("always leaves the backlog one slot when every other is idle, never one that is busy", () => {
    expect(admit(5, 4, 0, 5)).toBe(true);
    expect(admit(5, 5, 0)).toBe(false);
    expect(admit(1, 0, 0, 1)).toBe(true);
    expect(admit(1, 1, 0)).toBe(false);
    expect(admit(1, 0, 1)).toBe(false);
  });

  it("bounds a function without reserved concurrency by a fixed number", () => {
    expect(admit(null, 100, UNRESERVED_BACKLOG_LEASES - 1)).toBe(true);
    expect(admit(null, 0, UNRESERVED_BACKLOG_LEASES)).toBe(false);
  });
});
