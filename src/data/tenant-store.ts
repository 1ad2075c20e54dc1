import { and, asc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { apiKeys, tenants } from "../db/schema";
import type { TenantQuotas } from "../lambda/quotas";
import { reservedConcurrencySum } from "./function-store";

export type TenantRow = typeof tenants.$inferSelect;
/** The limits and quotas an operator sets on a tenant (src/lambda/quotas.ts). */
export type TenantLimits = Partial<Pick<TenantRow, "concurrencyLimit" | "codeStorageLimit" | "shardLimit" | "apiRequestRate">>;
/** What updateTenant may change: the limits, and the tenant's cell. */
export type TenantChanges = TenantLimits & Partial<Pick<TenantRow, "cell" | "cellPinned">>;
export type KeyRow = typeof apiKeys.$inferSelect;

/**
 * Operator-level data access: tenants and their keys. Used by the admin API
 * and by authentication (which turns a key into a tenant), never by the
 * tenant-facing Lambda routes.
 */
export class TenantStore {
  constructor(private readonly db: Database) {}

  async insertTenant(row: TenantRow): Promise<void> {
    await this.db.insert(tenants).values(row);
  }

  async listTenants(): Promise<TenantRow[]> {
    return this.db.query.tenants.findMany({ orderBy: asc(tenants.createdAt) });
  }

  async getTenant(id: string): Promise<TenantRow | undefined> {
    return this.db.query.tenants.findFirst({ where: eq(tenants.id, id) });
  }

  /** The tenant whose ARNs carry `accountId` (a cross-tenant invoke names the owner by its account). */
  async getTenantByAccountId(accountId: string): Promise<TenantRow | undefined> {
    return this.db.query.tenants.findFirst({ where: eq(tenants.accountId, accountId) });
  }

  async getTenantByName(name: string): Promise<TenantRow | undefined> {
    return this.db.query.tenants.findFirst({ where: eq(tenants.name, name) });
  }

  /**
   * Updates a tenant. With `maxReserved`, only if its functions' reserved
   * concurrency adds up to at most that (checked inside the statement);
   * undefined when the tenant is missing or the check fails.
   */
  async updateTenant(
    id: string,
    patch: TenantChanges,
    maxReserved?: number,
  ): Promise<TenantRow | undefined> {
    const reserved = reservedConcurrencySum(this.db, id);
    const [row] = await this.db
      .update(tenants)
      .set(patch)
      .where(and(eq(tenants.id, id), maxReserved === undefined ? undefined : sql`(${reserved}) <= ${maxReserved}`))
      .returning();
    return row;
  }

  /** The tenant's quotas (src/lambda/quotas.ts), or undefined when the tenant is gone. */
  async quotas(id: string): Promise<TenantQuotas | undefined> {
    const [row] = await this.db
      .select({ codeStorageLimit: tenants.codeStorageLimit, shardLimit: tenants.shardLimit })
      .from(tenants)
      .where(eq(tenants.id, id))
      .limit(1);
    return row;
  }

  /** Sum of the reserved concurrency of a tenant's functions. */
  async reservedConcurrency(id: string): Promise<number> {
    const [row] = await reservedConcurrencySum(this.db, id);
    return Number(row?.total ?? 0);
  }

  async insertKey(row: KeyRow): Promise<void> {
    await this.db.insert(apiKeys).values(row);
  }

  async listKeys(tenantId: string): Promise<KeyRow[]> {
    return this.db.query.apiKeys.findMany({ where: eq(apiKeys.tenantId, tenantId), orderBy: asc(apiKeys.createdAt) });
  }

  async deleteKey(tenantId: string, accessKeyId: string): Promise<boolean> {
    const result = await this.db
      .delete(apiKeys)
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.accessKeyId, accessKeyId)))
      .run();
    return result.meta.changes === 1;
  }

  /** A key with the tenant it belongs to, for authentication. */
  async findKey(accessKeyId: string): Promise<{ key: KeyRow; tenant: TenantRow } | undefined> {
    const [row] = await this.db
      .select({ key: apiKeys, tenant: tenants })
      .from(apiKeys)
      .innerJoin(tenants, eq(apiKeys.tenantId, tenants.id))
      .where(eq(apiKeys.accessKeyId, accessKeyId))
      .limit(1);
    return row;
  }
}
