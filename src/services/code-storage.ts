import { LayerStore } from "../data/layer-store";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { codeStorageExceeded } from "../errors";
import { codeStorageAllows, DEFAULT_CODE_STORAGE_BYTES } from "../lambda/quotas";
import type { TenantScope } from "./scope";

/** The tenant's code storage: what it uses (function versions and layer versions) and may use. */
export async function codeStorage(scope: TenantScope): Promise<{ usedBytes: number; limitBytes: number; functionCount: number }> {
  const db = database(scope.env.DB);
  const [usage, layerBytes, quotas] = await Promise.all([
    scope.store.usage(),
    new LayerStore(db, scope.principal.tenantId).totalCodeSize(),
    new TenantStore(db).quotas(scope.principal.tenantId),
  ]);
  return {
    usedBytes: usage.totalCodeSize + layerBytes,
    limitBytes: quotas?.codeStorageLimit ?? DEFAULT_CODE_STORAGE_BYTES,
    functionCount: usage.functionCount,
  };
}

/**
 * Refuses, before anything is written, a create, update or publish that would
 * take the tenant past its code storage quota (CodeStorageExceededException).
 * Checked before the write rather than inside it: two writes racing at the
 * limit may each pass and overshoot it by one package, never more.
 */
export async function requireCodeStorage(scope: TenantScope, addedBytes: number): Promise<void> {
  if (addedBytes <= 0) return;
  const { usedBytes, limitBytes } = await codeStorage(scope);
  if (!codeStorageAllows(usedBytes, addedBytes, limitBytes)) throw codeStorageExceeded();
}
