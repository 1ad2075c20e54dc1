/**
 * Lambda's control-plane request rate quota (issue 19): each API a tenant
 * calls gets 15 requests a second (GetFunction 100), counted after the caller
 * is authenticated and before the route does any work, so a tenant looping
 * on CreateFunction or ListFunctions is refused before it reads D1 or stores
 * code. Refused with 429 `TooManyRequestsException`, `Reason`
 * `CallerRateLimitExceeded`, message `Rate exceeded` (what Lambda answers a
 * control-plane flood), which the SDKs retry with backoff. Which routes count
 * and at what rate: `apiRateRule` (src/lambda/quotas.ts).
 *
 * Per isolate, as the invoke rate quota (src/invoke/rate-quota.ts): exact
 * where one isolate serves everything; on Cloudflare a tenant whose requests
 * land on N isolates gets up to N times the rate.
 */
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../app-env";
import { apiRateExceeded } from "../errors";
import { apiRateRule } from "../lambda/quotas";
import { RateBuckets } from "../util/rate-buckets";

const buckets = new RateBuckets();

export const apiRequestRate = createMiddleware<AppEnv>(async (c, next) => {
  // The operation is the first route after this middleware that a handler answers (middleware is method ALL).
  const route = matchedRoutes(c).slice(c.req.routeIndex + 1).find((r) => r.method !== "ALL");
  const { tenantId, apiRequestRate: rate } = c.var.principal;
  const rule = route === undefined ? null : apiRateRule(route.method, route.path, rate);
  if (rule !== null && !buckets.take(`${tenantId}\u0000${rule.api}`, rule.perSecond, Date.now())) throw apiRateExceeded();
  await next();
});
