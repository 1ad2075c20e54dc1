/**
 * Lambda's invocation request rate quota (issue 19's "request rate"): a
 * function may be sent at most 10 synchronous invoke requests per second per
 * unit of the concurrency it may use (Lambda: "each instance of your
 * execution environment can serve up to 10 requests per second ... the total
 * invocation limit is 10 times your concurrency limit"): 10 × its reserved
 * concurrency, or 10 × the tenant's unreserved pool. Past it, Lambda answers
 * 429 `TooManyRequestsException` with `Reason`
 * `FunctionInvocationRateLimitExceeded` (or
 * `ReservedFunctionInvocationRateLimitExceeded`), here before any lease is
 * asked for, so a flood over the rate costs no Durable Object call.
 *
 * Counted: synchronous requests a caller sends (Invoke RequestResponse,
 * InvokeWithResponseStream, function URLs, the console's test invoke). Not
 * counted, as on Lambda ("each instance ... can serve an unlimited number of
 * [asynchronous] requests"): Event invokes, and the platform's own
 * invocations of async events, event source mappings and durable
 * executions, which concurrency alone bounds. A function whose concurrency
 * is 0 is left to the concurrency check, which refuses it with its own
 * reason, as Lambda does.
 *
 * Each isolate keeps its own buckets (no I/O on the invoke path): exact
 * locally, where one isolate serves everything; on Cloudflare a function
 * whose requests land on N isolates gets up to N times the rate, as with the
 * failed authentication counts (src/auth/failure-limit.ts).
 */
import { tooManyRequests } from "../errors";
import { RateBuckets } from "../util/rate-buckets";
import type { TenantScope } from "../services/scope";
import { noteThrottle } from "./run";
import type { InvokeTarget } from "./target";

/** Requests per second per unit of concurrency (Lambda's quota). */
export const REQUESTS_PER_CONCURRENCY = 10;

const buckets = new RateBuckets();

/**
 * Counts one synchronous invoke request of `target` against its function's
 * rate; throws Lambda's 429 (counted as a throttle, as the concurrency
 * refusals are) when it is spent.
 */
export function takeInvokeRequest(scope: TenantScope, target: InvokeTarget, requestId: string, waitUntil: (promise: Promise<unknown>) => void, now = Date.now()): void {
  const reserved = target.fn.reservedConcurrency;
  const concurrency = reserved ?? target.unreservedLimit;
  if (concurrency <= 0) return;
  const key = `${scope.principal.tenantId}\u0000${target.fn.name}`;
  if (buckets.take(key, REQUESTS_PER_CONCURRENCY * concurrency, now)) return;
  const reason = reserved === null ? "FunctionInvocationRateLimitExceeded" : "ReservedFunctionInvocationRateLimitExceeded";
  noteThrottle(scope, target, requestId, waitUntil, reason);
  throw tooManyRequests(reason);
}
