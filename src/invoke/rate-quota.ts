/**
 * Lambda's invocation request rate quota (issue 19's "request rate"): a
 * tenant may send at most 10 invoke requests per second per unit of its
 * concurrency limit (Lambda: "10 × concurrent executions quota", each
 * execution environment serving up to 10 requests a second), and a function
 * with reserved concurrency at most 10 per second per reserved unit. Past
 * it, Lambda answers 429 `TooManyRequestsException` with `Reason`
 * `FunctionInvocationRateLimitExceeded` (or
 * `ReservedFunctionInvocationRateLimitExceeded`) before any lease is asked
 * for, so a flood over the rate costs no Durable Object call.
 *
 * Counted: requests a caller sends (Invoke of every type but DryRun,
 * InvokeWithResponseStream, function URLs). Not counted, as on Lambda
 * ("asynchronous AWS service sources: unlimited requests accepted"): the
 * platform's own invocations of async events, event source mappings and
 * durable executions, which concurrency alone bounds. A function whose
 * reserved concurrency is 0 is left to the concurrency check, which refuses
 * it with its own reason, as Lambda does (so is a tenant whose limit is 0).
 *
 * Each isolate keeps its own buckets (no I/O on the invoke path): exact
 * locally, where one isolate serves everything; on Cloudflare a tenant
 * spread over N isolates gets up to N times the rate, as with the failed
 * authentication counts (src/auth/failure-limit.ts).
 */
import { tooManyRequests } from "../errors";
import type { TenantScope } from "../services/scope";
import { noteThrottle } from "./run";
import type { InvokeTarget } from "./target";

/** Requests per second per unit of concurrency (Lambda's quota). */
export const REQUESTS_PER_CONCURRENCY = 10;

/**
 * Token buckets by key: each refills at its rate per second up to one
 * second's worth (the burst), and a request takes one token from each bucket
 * it counts against, or from none. PURE but for its own state: the clock is
 * passed in.
 */
export class RateBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly maxKeys = 10_000) {}

  /**
   * Takes one request from every `[key, rate]` bucket at `now`; returns the
   * index of the first one that is empty (nothing taken from any), or -1.
   */
  take(buckets: ReadonlyArray<readonly [key: string, perSecond: number]>, now: number): number {
    const states = buckets.map(([key, perSecond]) => this.#refilled(key, perSecond, now));
    const empty = states.findIndex((state) => state.tokens < 1);
    if (empty >= 0) return empty;
    for (const state of states) state.tokens -= 1;
    return -1;
  }

  #refilled(key: string, perSecond: number, now: number): { tokens: number; at: number } {
    let state = this.#buckets.get(key);
    if (state === undefined) {
      // Bounded like the isolate's other caches: forgetting a bucket only refills it.
      if (this.#buckets.size >= this.maxKeys) this.#buckets.clear();
      state = { tokens: perSecond, at: now };
      this.#buckets.set(key, state);
      return state;
    }
    // A lowered limit applies at once: the burst never exceeds one second at the current rate.
    state.tokens = Math.min(perSecond, state.tokens + (Math.max(0, now - state.at) * perSecond) / 1000);
    state.at = now;
    return state;
  }
}

const buckets = new RateBuckets();

/**
 * Counts one invoke request of `target` against its tenant's rate and, with
 * reserved concurrency, its function's; throws Lambda's 429 (counted as a
 * throttle, as the concurrency refusals are) when either is spent.
 */
export function takeInvokeRequest(scope: TenantScope, target: InvokeTarget, requestId: string, waitUntil: (promise: Promise<unknown>) => void, now = Date.now()): void {
  const reserved = target.fn.reservedConcurrency;
  if (reserved === 0 || scope.principal.concurrencyLimit <= 0) return;
  const tenantId = scope.principal.tenantId;
  const counted: Array<readonly [string, number]> = [[tenantId, REQUESTS_PER_CONCURRENCY * scope.principal.concurrencyLimit]];
  if (reserved !== null) counted.push([`${tenantId}\u0000${target.fn.name}`, REQUESTS_PER_CONCURRENCY * reserved]);
  const empty = buckets.take(counted, now);
  if (empty < 0) return;
  const reason = empty === 0 ? "FunctionInvocationRateLimitExceeded" : "ReservedFunctionInvocationRateLimitExceeded";
  noteThrottle(scope, target, requestId, waitUntil, reason);
  throw tooManyRequests(reason);
}
