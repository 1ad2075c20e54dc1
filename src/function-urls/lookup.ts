/**
 * What the URL front door needs to serve a url id: the URL's row, its
 * owner (as the principal the invocation runs as) and the function's policy
 * statements at the URL's qualifier. Kept in the isolate for
 * METADATA_TTL_MS so a warm URL call reads no D1, like the invoke path's
 * target cache (src/invoke/target.ts); writes in this isolate drop entries
 * at once (`forgetUrl`, `forgetUrlsOf`), other isolates see them within the TTL.
 */
import type { Principal } from "../auth/principal";
import { FunctionUrlStore } from "../data/function-url-store";
import type { FunctionUrlRow } from "../data/function-url-store";
import { PolicyStore } from "../data/policy-store";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { METADATA_TTL_MS } from "../invoke/target";
import type { PolicyStatement } from "../lambda/policy";
import { TtlCache } from "../util/ttl-cache";

export interface ServedUrl {
  row: FunctionUrlRow;
  owner: Principal;
  statements: PolicyStatement[];
}

const MAX_ENTRIES = 5_000;
const cache = new TtlCache<ServedUrl | null>(METADATA_TTL_MS, MAX_ENTRIES);

/** The URL served under `urlId`, or null when there is none (or its owner is gone). */
export function lookupUrl(env: Env, urlId: string): Promise<ServedUrl | null> {
  return cache.get(urlId, () => readUrl(env, urlId));
}

async function readUrl(env: Env, urlId: string): Promise<ServedUrl | null> {
  const db = database(env.DB);
  const row = await FunctionUrlStore.findByUrlId(db, urlId);
  let served: ServedUrl | null = null;
  if (row) {
    const [tenant, statements] = await Promise.all([
      new TenantStore(db).getTenant(row.tenantId),
      new PolicyStore(db, row.tenantId).statements(row.functionName, row.qualifier),
    ]);
    if (tenant) {
      const owner: Principal = {
        tenantId: tenant.id,
        accountId: tenant.accountId,
        accessKeyId: "cellfn-function-url",
        scope: "full",
        concurrencyLimit: tenant.concurrencyLimit,
        apiRequestRate: tenant.apiRequestRate,
        cell: tenant.cell,
      };
      served = { row, owner, statements };
    }
  }
  return served;
}

export function forgetUrl(urlId: string): void {
  cache.delete(urlId);
}

/** Drops the cached URLs of a function (its policy changed). */
export function forgetUrlsOf(tenantId: string, functionName: string): void {
  cache.deleteWhere((served) => served?.row.tenantId === tenantId && served.row.functionName === functionName);
}
