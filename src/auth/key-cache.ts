import type { KeyRow, TenantRow } from "../data/tenant-store";
import { TenantStore } from "../data/tenant-store";
import type { Database } from "../db/client";
import { FunctionStore } from "../data/function-store";
import { TtlCache } from "../util/ttl-cache";

/**
 * Per-isolate cache of key lookups. Entries live KEY_CACHE_TTL_MS, well under
 * the 5 s within which a revoked key must be refused everywhere.
 */
export const KEY_CACHE_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

/**
 * An entry this close to its expiry is read again by the first request that
 * sees it while the others go on using it (never past its expiry), so that
 * under load the requests arriving as it expires do not all read D1.
 */
export const REFRESH_AHEAD_MS = 500;

type KeyEntry = { key: KeyRow; tenant: TenantRow } | undefined;
const cache = new TtlCache<KeyEntry>(KEY_CACHE_TTL_MS, MAX_ENTRIES, REFRESH_AHEAD_MS);

export async function lookupKey(db: Database, accessKeyId: string, now = Date.now()): Promise<KeyEntry> {
  return cache.get(accessKeyId, () => new TenantStore(db).findKey(accessKeyId), now);
}

/** The tenant of a key this isolate knows, without any I/O (admission at the door names callers with it). */
export function peekKeyTenant(accessKeyId: string, now = Date.now()): string | undefined {
  return cache.peek(accessKeyId, now)?.value?.tenant.id;
}

/** Drops every cached key in this isolate (a tenant's limit changed). */
export function forgetAllKeys(): void {
  cache.clear();
}

/** Drops a key at once in this isolate (other isolates expire it within the TTL). */
export function forgetKey(accessKeyId: string): void {
  cache.delete(accessKeyId);
}

const sessions = new TtlCache<TenantRow | undefined>(KEY_CACHE_TTL_MS, MAX_ENTRIES);

/**
 * The tenant of a function's session credentials, or undefined once the
 * tenant or the function is gone (cached like keys, so a deleted function's
 * credentials are refused everywhere within KEY_CACHE_TTL_MS).
 */
export async function lookupSessionTenant(db: Database, tenantId: string, functionName: string, now = Date.now()) {
  return sessions.get(
    `${tenantId}\u0000${functionName}`,
    async () => {
      const [tenant, fn] = await Promise.all([new TenantStore(db).getTenant(tenantId), new FunctionStore(db, tenantId).getFunction(functionName)]);
      return fn === undefined ? undefined : tenant;
    },
    now,
  );
}
