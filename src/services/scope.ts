import type { Principal } from "../auth/principal";
import { CodeStore } from "../data/code-store";
import { FunctionStore } from "../data/function-store";
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
  if (!tenant) return null;
  return tenantScope(env, {
    tenantId: tenant.id,
    accountId: tenant.accountId,
    accessKeyId: "cellfn-poller",
    scope: "full",
    concurrencyLimit: tenant.concurrencyLimit,
    cell: tenant.cell,
  });
}
