import type { Principal } from "../auth/principal";
import { CodeStore } from "../data/code-store";
import { FunctionStore } from "../data/function-store";
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
