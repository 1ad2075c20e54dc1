/**
 * When a durable execution whose invocation was refused for concurrency
 * (throttled) tries again: exponential backoff with jitter, as Lambda's own
 * async retries of throttles back off. A fixed short retry made every waiting
 * execution ask again every 2 s: with thousands waiting behind a tenant limit
 * of 20 a run of `bench:durable` saw 33 invocation attempts per execution
 * instead of 2, and the objects never stayed idle the 10 s after which
 * workerd evicts them (src/workerd/server/server.c++ ActorContainer), so
 * memory and file descriptors grew with every execution held.
 * Hand-written: three lines of arithmetic, no library needed.
 */
export const THROTTLE_RETRY_BASE_MS = 2_000;
export const THROTTLE_RETRY_CAP_MS = 60_000;

/** Delay before the next attempt after the `throttles`-th refusal in a row (1-based): half fixed, half random ("equal jitter"). */
export function throttleRetryDelayMs(throttles: number, random: () => number = Math.random): number {
  const ceiling = Math.min(THROTTLE_RETRY_CAP_MS, THROTTLE_RETRY_BASE_MS * 2 ** Math.max(0, Math.min(throttles, 30) - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
