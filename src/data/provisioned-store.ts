import { and, asc, eq, gt, isNull, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { functions, provisionedConcurrencyConfigs } from "../db/schema";

export type ProvisionedConfigRow = typeof provisionedConcurrencyConfigs.$inferSelect;

/**
 * The tenant-scoped data access for provisioned concurrency settings
 * (`provisioned_concurrency_configs`, one row per function + alias or
 * version). Every query carries `tenant_id = this.tenantId`; nothing else in
 * the app reads this table.
 */
export class ProvisionedStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async get(name: string, qualifier: string): Promise<ProvisionedConfigRow | undefined> {
    return this.db.query.provisionedConcurrencyConfigs.findFirst({ where: this.#one(name, qualifier) });
  }

  /** Configs of one function ordered by qualifier, after `afterQualifier`. */
  async list(name: string, afterQualifier: string | undefined, limit: number): Promise<ProvisionedConfigRow[]> {
    return this.db.query.provisionedConcurrencyConfigs.findMany({
      where: and(this.#of(name), afterQualifier === undefined ? undefined : gt(provisionedConcurrencyConfigs.qualifier, afterQualifier)),
      orderBy: asc(provisionedConcurrencyConfigs.qualifier),
      limit,
    });
  }

  async put(name: string, qualifier: string, requested: number, lastModified: string): Promise<void> {
    await this.db
      .insert(provisionedConcurrencyConfigs)
      .values({ tenantId: this.tenantId, functionName: name, qualifier, requested, lastModified })
      .onConflictDoUpdate({
        target: [provisionedConcurrencyConfigs.tenantId, provisionedConcurrencyConfigs.functionName, provisionedConcurrencyConfigs.qualifier],
        set: { requested, lastModified },
      });
  }

  /** Deletes one config; false when there was none. */
  async delete(name: string, qualifier: string): Promise<boolean> {
    const result = await this.db.delete(provisionedConcurrencyConfigs).where(this.#one(name, qualifier)).run();
    return result.meta.changes > 0;
  }

  /** Deletes every config of a function (DeleteFunction). */
  async deleteAll(name: string): Promise<void> {
    await this.db.delete(provisionedConcurrencyConfigs).where(this.#of(name));
  }

  /** What a function has provisioned on its other aliases and versions. */
  async functionTotal(name: string, exceptQualifier: string): Promise<number> {
    const [row] = await this.db
      .select({ total: sql<number>`coalesce(sum(${provisionedConcurrencyConfigs.requested}), 0)` })
      .from(provisionedConcurrencyConfigs)
      .where(and(this.#of(name), ne(provisionedConcurrencyConfigs.qualifier, exceptQualifier)));
    return row?.total ?? 0;
  }

  /**
   * What the tenant's functions without reserved concurrency have provisioned
   * (taken from the unreserved pool), leaving out one config when given.
   */
  async unreservedTotal(except?: { name: string; qualifier: string }): Promise<number> {
    const pc = provisionedConcurrencyConfigs;
    const [row] = await this.db
      .select({ total: sql<number>`coalesce(sum(${pc.requested}), 0)` })
      .from(pc)
      .innerJoin(functions, and(eq(functions.tenantId, pc.tenantId), eq(functions.name, pc.functionName)))
      .where(
        and(
          eq(pc.tenantId, this.tenantId),
          isNull(functions.reservedConcurrency),
          except ? sql`not (${pc.functionName} = ${except.name} and ${pc.qualifier} = ${except.qualifier})` : undefined,
        ),
      );
    return row?.total ?? 0;
  }

  #of(name: string) {
    return and(eq(provisionedConcurrencyConfigs.tenantId, this.tenantId), eq(provisionedConcurrencyConfigs.functionName, name));
  }

  #one(name: string, qualifier: string) {
    return and(this.#of(name), eq(provisionedConcurrencyConfigs.qualifier, qualifier));
  }
}
