import { describe, expect, it } from "vitest";
import type { EventState, RetryPolicy } from "../../src/async/outcome";
import { backoffDelaySeconds, decide, isExpired, MAX_BACKOFF_SECONDS, retryDelaySeconds } from "../../src/async/outcome";

const T0 = Date.UTC(2026, 0, 1);
const policy: RetryPolicy = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600, retryUnitSeconds: 60 };
const fresh: EventState = { acceptedAt: T0, retriesSpent: 0, backoffs: 0 };

describe("decide", () => {
  it("succeeds on success, whatever was spent", () => {
    expect(decide({ kind: "success" }, fresh, policy, T0 + 1000)).toEqual({ action: "succeed" });
    expect(decide({ kind: "success" }, { acceptedAt: T0, retriesSpent: 2, backoffs: 9 }, policy, T0 + 1000)).toEqual({ action: "succeed" });
  });

  it("retries a function error 1 unit, then 2 units later, spending the budget", () => {
    expect(decide({ kind: "functionError" }, fresh, policy, T0 + 1000)).toEqual({ action: "retry", delaySeconds: 60, retriesSpent: 1 });
    expect(decide({ kind: "functionError" }, { ...fresh, retriesSpent: 1 }, policy, T0 + 62_000)).toEqual({
      action: "retry",
      delaySeconds: 120,
      retriesSpent: 2,
    });
  });

  it("fails with RetriesExhausted once MaximumRetryAttempts retries were spent", () => {
    expect(decide({ kind: "functionError" }, { ...fresh, retriesSpent: 2 }, policy, T0 + 200_000)).toEqual({
      action: "fail",
      condition: "RetriesExhausted",
    });
  });

  it("never retries a function error with MaximumRetryAttempts 0", () => {
    expect(decide({ kind: "functionError" }, fresh, { ...policy, maximumRetryAttempts: 0 }, T0)).toEqual({
      action: "fail",
      condition: "RetriesExhausted",
    });
  });

  it("uses the configured unit (tests shorten it)", () => {
    const short = { ...policy, retryUnitSeconds: 1 };
    expect(decide({ kind: "functionError" }, fresh, short, T0)).toMatchObject({ action: "retry", delaySeconds: 1 });
    expect(decide({ kind: "functionError" }, { ...fresh, retriesSpent: 1 }, short, T0)).toMatchObject({ action: "retry", delaySeconds: 2 });
  });

  it("backs off throttles and platform errors exponentially without spending the budget", () => {
    for (const kind of ["throttled", "platformError"] as const) {
      expect(decide({ kind }, fresh, policy, T0)).toEqual({ action: "backoff", delaySeconds: 1, backoffs: 1 });
      expect(decide({ kind }, { ...fresh, backoffs: 1 }, policy, T0)).toEqual({ action: "backoff", delaySeconds: 2, backoffs: 2 });
      expect(decide({ kind }, { ...fresh, backoffs: 5 }, policy, T0)).toEqual({ action: "backoff", delaySeconds: 32, backoffs: 6 });
      // Even with the retry budget spent: throttles do not count against it.
      expect(decide({ kind }, { ...fresh, retriesSpent: 2, backoffs: 3 }, policy, T0)).toEqual({ action: "backoff", delaySeconds: 8, backoffs: 4 });
    }
  });

  it("caps the backoff at 5 minutes", () => {
    expect(decide({ kind: "throttled" }, { ...fresh, backoffs: 9 }, policy, T0)).toEqual({ action: "backoff", delaySeconds: 300, backoffs: 10 });
    expect(decide({ kind: "throttled" }, { ...fresh, backoffs: 5000 }, policy, T0)).toMatchObject({ delaySeconds: 300 });
  });

  it("fails with EventAgeExceeded instead of scheduling a retry that would run too late", () => {
    const age60 = { ...policy, maximumEventAgeInSeconds: 60 };
    // Throttled 59.5 s after acceptance: the 1 s backoff would run at 60.5 s.
    expect(decide({ kind: "throttled" }, fresh, age60, T0 + 59_500)).toEqual({ action: "fail", condition: "EventAgeExceeded" });
    // At 58 s the 1 s backoff still fits.
    expect(decide({ kind: "throttled" }, fresh, age60, T0 + 58_000)).toMatchObject({ action: "backoff" });
    // A function error whose 60 s retry would land after the age limit.
    expect(decide({ kind: "functionError" }, fresh, age60, T0 + 1_000)).toEqual({ action: "fail", condition: "EventAgeExceeded" });
    // The budget is checked first: spent retries are RetriesExhausted even when old.
    expect(decide({ kind: "functionError" }, { ...fresh, retriesSpent: 2 }, age60, T0 + 59_000)).toEqual({
      action: "fail",
      condition: "RetriesExhausted",
    });
  });

  it("backs off an event of a function with reserved concurrency 0 like a throttle, and fails it with ZeroReservedConcurrency once its age runs out", () => {
    expect(decide({ kind: "zeroConcurrency" }, fresh, policy, T0)).toEqual({ action: "backoff", delaySeconds: 1, backoffs: 1 });
    const nearlyExpired = { ...fresh, acceptedAt: T0 - policy.maximumEventAgeInSeconds * 1000 + 500 };
    expect(decide({ kind: "zeroConcurrency" }, nearlyExpired, policy, T0)).toEqual({ action: "fail", condition: "ZeroReservedConcurrency" });
  });

  it("fails refused invocations at once with their condition", () => {
    expect(decide({ kind: "rejected", condition: "FunctionNotFound" }, fresh, policy, T0)).toEqual({ action: "fail", condition: "FunctionNotFound" });
    expect(decide({ kind: "rejected", condition: "InvocationRejected" }, fresh, policy, T0)).toEqual({
      action: "fail",
      condition: "InvocationRejected",
    });
  });
});

describe("delays and age", () => {
  it("doubles the backoff from 1 s and caps it", () => {
    expect([0, 1, 2, 3, 4, 8, 9, 20].map(backoffDelaySeconds)).toEqual([1, 2, 4, 8, 16, 256, 300, 300]);
    expect(backoffDelaySeconds(-1)).toBe(1);
    expect(MAX_BACKOFF_SECONDS).toBe(300);
  });

  it("waits 1 then 2 units between function-error retries", () => {
    expect(retryDelaySeconds(0, 60)).toBe(60);
    expect(retryDelaySeconds(1, 60)).toBe(120);
    expect(retryDelaySeconds(0, 0)).toBe(0);
  });

  it("counts age from acceptance, strictly over the maximum", () => {
    const age = { maximumEventAgeInSeconds: 60 };
    expect(isExpired(fresh, age, T0 + 60_000)).toBe(false);
    expect(isExpired(fresh, age, T0 + 60_001)).toBe(true);
    expect(isExpired(fresh, { maximumEventAgeInSeconds: 21600 }, T0 + 6 * 3600_000 + 1)).toBe(true);
  });
});
