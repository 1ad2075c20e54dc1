/**
 * When a durable execution whose invocation was refused for concurrency
 * (throttled) tries again: exponential backoff with jitter, as Lambda's own
 * async retries of throttles back off. A fixed short retry made every waiting
 * execution ask again every 2 s: with thousands waiting behind a tenant limit
 * of 20 a run of `bench:durable` saw 33 invocation attempts per execution
 * instead of 2, and the objects never stayed idle the 10 s after which
 * workerd evicts them (src/workerd/server/server.c++ ActorContainer), so
 * memory and file descriptors grew with every execution held.
 *
 * An execution queued for a slot of the tenant's pool
 * (src/invoke/slot-waiters.ts) is woken when one frees; its backoff is then
 * only the fallback for a missed wake (the quota object restarted, the wake
 * call failed), so it starts longer: it neither competes with the woken
 * waiters ahead of it nor keeps its object from being evicted while it waits.
 * Hand-written: three lines of arithmetic, no library needed.
 */
export const THROTTLE_RETRY_BASE_MS = 2_000;
export const THROTTLE_RETRY_CAP_MS = 60_000;
/** First fallback retry of an execution waiting in the tenant's slot queue. */
export const SLOT_WAIT_FALLBACK_BASE_MS = 10_000;

/** Delay before the next attempt after the `throttles`-th refusal in a row (1-based): half fixed, half random ("equal jitter"). */
export function throttleRetryDelayMs(throttles: number, random: () => number = Math.random, base = THROTTLE_RETRY_BASE_MS): number {
  const ceiling = Math.min(THROTTLE_RETRY_CAP_MS, base * 2 ** Math.max(0, Math.min(throttles, 30) - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The fallback retry of an execution that waits in the slot queue (woken earlier when a slot frees). */
export function slotWaitFallbackMs(throttles: number, random: () => number = Math.random): number {
  return throttleRetryDelayMs(throttles, random, SLOT_WAIT_FALLBACK_BASE_MS);
}
