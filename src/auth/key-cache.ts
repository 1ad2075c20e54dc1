import type { KeyRow, TenantRow } from "../data/tenant-store";
import { TenantStore } from "../data/tenant-store";
import type { Database } from "../db/client";
import { FunctionStore } from "../data/function-store";

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

type Entry = { value: { key: KeyRow; tenant: TenantRow } | undefined; expiresAt: number; refreshing?: boolean };
const cache = new Map<string, Entry>();

export async function lookupKey(db: Database, accessKeyId: string, now = Date.now()) {
  const hit = cache.get(accessKeyId);
  if (hit && hit.expiresAt > now) {
    if (hit.refreshing || hit.expiresAt - now > REFRESH_AHEAD_MS) return hit.value;
    hit.refreshing = true;
  }
  let value: Entry["value"];
  try {
    value = await new TenantStore(db).findKey(accessKeyId);
  } catch (error) {
    if (hit) hit.refreshing = false;
    throw error;
  }
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(accessKeyId, { value, expiresAt: now + KEY_CACHE_TTL_MS });
  return value;
}

/** The tenant of a key this isolate knows, without any I/O (admission at the door names callers with it). */
export function peekKeyTenant(accessKeyId: string, now = Date.now()): string | undefined {
  const hit = cache.get(accessKeyId);
  return hit && hit.expiresAt > now ? hit.value?.tenant.id : undefined;
}

/** Drops every cached key in this isolate (a tenant's limit changed). */
export function forgetAllKeys(): void {
  cache.clear();
}

/** Drops a key at once in this isolate (other isolates expire it within the TTL). */
export function forgetKey(accessKeyId: string): void {
  cache.delete(accessKeyId);
}

type SessionEntry = { value: TenantRow | undefined; expiresAt: number };
const sessions = new Map<string, SessionEntry>();

/**
 * The tenant of a function's session credentials, or undefined once the
 * tenant or the function is gone (cached like keys, so a deleted function's
 * credentials are refused everywhere within KEY_CACHE_TTL_MS).
 */
export async function lookupSessionTenant(db: Database, tenantId: string, functionName: string, now = Date.now()) {
  const cacheKey = `${tenantId}\u0000${functionName}`;
  const hit = sessions.get(cacheKey);
  if (hit && hit.expiresAt > now) return hit.value;
  const [tenant, fn] = await Promise.all([new TenantStore(db).getTenant(tenantId), new FunctionStore(db, tenantId).getFunction(functionName)]);
  const value = fn === undefined ? undefined : tenant;
  if (sessions.size >= MAX_ENTRIES) sessions.clear();
  sessions.set(cacheKey, { value, expiresAt: now + KEY_CACHE_TTL_MS });
  return value;
}
