import type { Principal } from "../auth/principal";
import { CodeStore } from "../data/code-store";
import { FunctionStore } from "../data/function-store";
import { KEY_CACHE_TTL_MS } from "../auth/key-cache";
import { TtlCache } from "../util/ttl-cache";
import type { TenantRow } from "../data/tenant-store";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import type { NameContext } from "../lambda/function-name";

/** Everything a tenant-facing service call needs, built once per request. */
export interface TenantScope {
  principal: Principal;
  names: NameContext;
  store: FunctionStore;
  code: CodeStore;
  env: Env;
}

export function tenantScope(env: Env, principal: Principal): TenantScope {
  const db = database(env.DB);
  return {
    principal,
    names: { accountId: principal.accountId, region: env.REGION },
    store: new FunctionStore(db, principal.tenantId),
    code: new CodeStore(env.CODE, db),
    env,
  };
}

/**
 * The scope of a tenant for platform-side work (the async poller, destination
 * delivery): the tenant's own data and limits, as if called by a full key.
 * Null when the tenant no longer exists.
 */
export async function tenantScopeById(env: Env, tenantId: string): Promise<TenantScope | null> {
  const tenant = await new TenantStore(database(env.DB)).getTenant(tenantId);
  return tenant ? pollerScope(env, tenant) : null;
}

const tenantRows = new TtlCache<TenantRow | undefined>(KEY_CACHE_TTL_MS, 10_000);

/**
 * `tenantScopeById` with the tenant's row cached in this isolate for
 * KEY_CACHE_TTL_MS, as access keys are: for work that runs the same tenant's
 * batches back to back (event source mappings), which then costs no D1 read
 * per batch. A deleted tenant or a changed limit shows within that time,
 * as it does for keys in other isolates.
 */
export async function cachedTenantScopeById(env: Env, tenantId: string, now = Date.now()): Promise<TenantScope | null> {
  const row = await tenantRows.get(tenantId, () => new TenantStore(database(env.DB)).getTenant(tenantId), now);
  return row ? pollerScope(env, row) : null;
}

function pollerScope(env: Env, tenant: TenantRow): TenantScope {
  return tenantScope(env, {
    tenantId: tenant.id,
    accountId: tenant.accountId,
    accessKeyId: "cellfn-poller",
    scope: "full",
    concurrencyLimit: tenant.concurrencyLimit,
    apiRequestRate: tenant.apiRequestRate,
    cell: tenant.cell,
  });
}
