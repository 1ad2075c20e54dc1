/**
 * Per-tenant quotas: AWS's defaults, which the operator can change per tenant
 * (PATCH /admin/tenants/{id}). Where AWS has no quota (functions, layers, SQS
 * queues and log groups are limited only by storage on AWS), cellfn has none
 * either; README "Quotas" lists each one.
 */

/** Lambda's "storage for uploaded functions (.zip file archives) and layers": 75 GB. */
export const DEFAULT_CODE_STORAGE_BYTES = 80_530_636_800;
/** Kinesis Data Streams' shards per account in us-east-1, us-west-2 and eu-west-1. */
export const DEFAULT_SHARD_LIMIT = 500;
/** Upper bounds an operator may set (sanity, not AWS's: AWS raises these on request). */
export const MAX_CODE_STORAGE_BYTES = Number.MAX_SAFE_INTEGER;
export const MAX_SHARD_LIMIT = 1_000_000;

/**
 * Lambda's control-plane request rate: 15 requests a second per API, but
 * GetFunction 100 ("Lambda quotas", API requests; AWS does not raise them,
 * an operator here may: the tenant's `apiRequestRate`).
 */
export const DEFAULT_API_REQUEST_RATE = 15;
export const GET_FUNCTION_REQUEST_RATE = 100;
export const MAX_API_REQUEST_RATE = 1_000_000;

/** The quotas a tenant row carries. */
export interface TenantQuotas {
  codeStorageLimit: number;
  shardLimit: number;
}

/**
 * Which control-plane API a Lambda route is and its requests a second, for a
 * tenant whose per-API rate is `apiRequestRate`; null for what the quota does
 * not count. `method` and `routePath` are the matched route's (Hono's pattern,
 * e.g. `/2015-03-31/functions/:FunctionName`), so each operation is one API.
 * Not counted, as on Lambda: invocations (their own quota, src/invoke/rate-quota.ts)
 * and the durable execution APIs (their own quotas on AWS; the functions'
 * checkpoints go through them).
 */
export function apiRateRule(method: string, routePath: string, apiRequestRate: number): { api: string; perSecond: number } | null {
  if (/\/(invocations|response-streaming-invocations)$/.test(routePath) || routePath.startsWith("/2025-12-01/")) return null;
  const api = `${method} ${routePath}`;
  const perSecond = api === "GET /2015-03-31/functions/:FunctionName" ? Math.max(GET_FUNCTION_REQUEST_RATE, apiRequestRate) : apiRequestRate;
  return { api, perSecond };
}

/**
 * Whether `addedBytes` more code fits: every function version and every layer
 * version counts, as on AWS. A write that frees space (a smaller package
 * replacing $LATEST) is always allowed, so a tenant over a lowered limit can
 * still shrink.
 */
export function codeStorageAllows(usedBytes: number, addedBytes: number, limitBytes: number): boolean {
  if (addedBytes <= 0) return true;
  return usedBytes + addedBytes <= limitBytes;
}
