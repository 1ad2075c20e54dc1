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

/**
 * The tenant of every key this isolate has found, kept past the cache's TTL
 * (bounded; forgotten all at once when full, and per key on revocation): the
 * door names a caller by it, so that a tenant keeps one name while its cache
 * entry expires and is read again (under two names it would take two shares).
 * A name only: authentication still reads the key.
 */
const keyTenants = new Map<string, string>();

export async function lookupKey(db: Database, accessKeyId: string, now = Date.now()): Promise<KeyEntry> {
  return cache.get(
    accessKeyId,
    async () => {
      const entry = await new TenantStore(db).findKey(accessKeyId);
      if (entry && keyTenants.get(accessKeyId) !== entry.tenant.id) {
        if (keyTenants.size >= MAX_ENTRIES) keyTenants.clear();
        keyTenants.set(accessKeyId, entry.tenant.id);
      }
      return entry;
    },
    now,
  );
}

/** The tenant of a key this isolate knows, without any I/O (admission at the door names callers with it). */
export function peekKeyTenant(accessKeyId: string, now = Date.now()): string | undefined {
  return cache.peek(accessKeyId, now)?.value?.tenant.id;
}

/**
 * The tenant a key named when this isolate last found it, and whether that is
 * fresh (in the cache now, so authenticated within KEY_CACHE_TTL_MS); no I/O.
 */
export function keyTenantName(accessKeyId: string, now = Date.now()): { tenant: string; fresh: boolean } | undefined {
  const fresh = peekKeyTenant(accessKeyId, now);
  if (fresh !== undefined) return { tenant: fresh, fresh: true };
  const known = keyTenants.get(accessKeyId);
  return known === undefined ? undefined : { tenant: known, fresh: false };
}

/** Drops every cached key in this isolate (a tenant's limit changed). */
export function forgetAllKeys(): void {
  cache.clear();
}

/** Drops a key at once in this isolate (other isolates expire it within the TTL). */
export function forgetKey(accessKeyId: string): void {
  cache.delete(accessKeyId);
  keyTenants.delete(accessKeyId);
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
