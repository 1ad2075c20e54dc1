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

/** The quotas a tenant row carries. */
export interface TenantQuotas {
  codeStorageLimit: number;
  shardLimit: number;
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
