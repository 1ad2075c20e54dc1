/**
 * What the poller does after one attempt at an async event. PURE: no I/O, no
 * clock (the caller passes `now`), unit-tested in test/unit/async-outcome.
 *
 * Lambda's rules (docs/reference/lambda-api-notes.md §4, "Queue and retry semantics"):
 * - a function error (thrown error, timeout, crash) spends the retry budget:
 *   up to MaximumRetryAttempts retries, about 1 then 2 minutes apart
 *   (here 1 then 2 × ASYNC_RETRY_UNIT_SECONDS); after that RetriesExhausted;
 * - a throttle (429) or a platform error (5xx, anything unexpected) does not
 *   spend the budget: the event goes back to the queue with exponential
 *   backoff from 1 s up to 5 min, for as long as MaximumEventAgeInSeconds allows;
 * - an event older than MaximumEventAgeInSeconds is discarded with
 *   EventAgeExceeded, before running it, and instead of scheduling a retry
 *   that could only run after that age;
 * - a function whose reserved concurrency is 0 runs nothing: Lambda accepts
 *   its events (202) and handles them as throttled, backing off for as long
 *   as their age allows; one still throttled to zero when its age runs out
 *   fails with condition ZeroReservedConcurrency (approximateInvokeCount 0).
 */

/** The conditions a discarded event is recorded with (the record's requestContext.condition). */
export type FailureCondition =
  | "RetriesExhausted"
  | "EventAgeExceeded"
  | "ZeroReservedConcurrency"
  /** cellfn: the function or qualifier no longer exists, so nothing can run the event. */
  | "FunctionNotFound"
  /** cellfn: the invoke was refused for good before running (e.g. the tenancy mode changed). */
  | "InvocationRejected"
  /**
   * Recursive loop detection stopped the event (src/invoke/recursion.ts).
   * Lambda sends such events to the DLQ / on-failure destination without
   * documenting the record's condition; cellfn names it after the error.
   */
  | "RecursiveInvocationException";

/** Every condition a failed event can carry, including the poller's own. */
export type FailedEventCondition =
  | FailureCondition
  /** The queue gave up on the message (dead-letter queue) or the message could not be read. */
  | "PlatformError"
  /** An http(s) destination did not take the record after every attempt, or a function destination could not be reached. */
  | "DestinationDeliveryFailed";

/** How the attempt went. */
export type AttemptResult =
  /** The handler ran and returned. */
  | { kind: "success" }
  /** The handler ran and failed (X-Amz-Function-Error set). */
  | { kind: "functionError" }
  /** 429 before any user code ran (reserved, tenant or environment limits). */
  | { kind: "throttled" }
  /** 5xx or an unexpected error on our side; the handler may not have run. */
  | { kind: "platformError" }
  /** The function's reserved concurrency is 0. */
  | { kind: "zeroConcurrency" }
  /** Refused for good before running (404, 400): retrying cannot help. */
  | { kind: "rejected"; condition: "FunctionNotFound" | "InvocationRejected" | "RecursiveInvocationException" };

export interface EventState {
  /** Epoch ms when the event was accepted. */
  acceptedAt: number;
  /** Function-error retries spent so far. */
  retriesSpent: number;
  /** Throttle / platform-error redeliveries so far. */
  backoffs: number;
}

export interface RetryPolicy {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  /** Lambda's "about a minute": the first retry waits 1 unit, the second 2. */
  retryUnitSeconds: number;
}

export type Decision =
  | { action: "succeed" }
  /** Function error within budget: run again after `delaySeconds`, one more retry spent. */
  | { action: "retry"; delaySeconds: number; retriesSpent: number }
  /** Throttle or platform error: run again after `delaySeconds`, budget untouched. */
  | { action: "backoff"; delaySeconds: number; backoffs: number }
  | { action: "fail"; condition: FailureCondition };

/** Lambda's backoff for throttles and system errors: 1 s, 2 s, 4 s, ... at most 5 minutes. */
export const MAX_BACKOFF_SECONDS = 300;

export function backoffDelaySeconds(backoffs: number): number {
  // 2^9 = 512 > 300 already; clamp the exponent so huge counts cannot overflow.
  return Math.min(2 ** Math.min(Math.max(0, backoffs), 30), MAX_BACKOFF_SECONDS);
}

/** Delay before function-error retry number `retriesSpent + 1`: 1 unit, then 2 units. */
export function retryDelaySeconds(retriesSpent: number, unitSeconds: number): number {
  return (Math.max(0, retriesSpent) + 1) * Math.max(0, unitSeconds);
}

/** Age of the event in ms at `now`. */
export function eventAgeMs(state: EventState, now: number): number {
  return now - state.acceptedAt;
}

/** True when the event is older than MaximumEventAgeInSeconds at `at` (epoch ms). */
export function isExpired(state: EventState, policy: Pick<RetryPolicy, "maximumEventAgeInSeconds">, at: number): boolean {
  return eventAgeMs(state, at) > policy.maximumEventAgeInSeconds * 1000;
}

/** The decision after one attempt made at `now` (epoch ms). */
export function decide(result: AttemptResult, state: EventState, policy: RetryPolicy, now: number): Decision {
  switch (result.kind) {
    case "success":
      return { action: "succeed" };
    case "zeroConcurrency": {
      const delaySeconds = backoffDelaySeconds(state.backoffs);
      if (isExpired(state, policy, now + delaySeconds * 1000)) return { action: "fail", condition: "ZeroReservedConcurrency" };
      return { action: "backoff", delaySeconds, backoffs: state.backoffs + 1 };
    }
    case "rejected":
      return { action: "fail", condition: result.condition };
    case "functionError": {
      if (state.retriesSpent >= policy.maximumRetryAttempts) return { action: "fail", condition: "RetriesExhausted" };
      const delaySeconds = retryDelaySeconds(state.retriesSpent, policy.retryUnitSeconds);
      if (isExpired(state, policy, now + delaySeconds * 1000)) return { action: "fail", condition: "EventAgeExceeded" };
      return { action: "retry", delaySeconds, retriesSpent: state.retriesSpent + 1 };
    }
    case "throttled":
    case "platformError": {
      const delaySeconds = backoffDelaySeconds(state.backoffs);
      if (isExpired(state, policy, now + delaySeconds * 1000)) return { action: "fail", condition: "EventAgeExceeded" };
      return { action: "backoff", delaySeconds, backoffs: state.backoffs + 1 };
    }
  }
}
