import { and, asc, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client";
import { functionUrls } from "../db/schema";

export type FunctionUrlRow = typeof functionUrls.$inferSelect;
export type FunctionUrlValues = Pick<FunctionUrlRow, "authType" | "cors" | "invokeMode">;

/**
 * A tenant's function URL configurations, one per function and qualifier
 * ("" unqualified, else an alias). Tenant-scoped like FunctionStore; only
 * `findByUrlId` (static) crosses tenants, for the URL front door, which has
 * nothing but the host's url id to go on.
 */
export class FunctionUrlStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /** The URL served under `urlId`, whoever owns it. */
  static async findByUrlId(db: Database, urlId: string): Promise<FunctionUrlRow | undefined> {
    return db.query.functionUrls.findFirst({ where: eq(functionUrls.urlId, urlId) });
  }

  async get(name: string, qualifier: string): Promise<FunctionUrlRow | undefined> {
    return this.db.query.functionUrls.findFirst({ where: this.#of(name, qualifier) });
  }

  /** Inserts a new URL; false when the function and qualifier already have one (the unique index decides, so racing creates cannot both win). */
  async create(row: Omit<FunctionUrlRow, "tenantId">): Promise<boolean> {
    const result = await this.db.insert(functionUrls).values({ ...row, tenantId: this.tenantId }).onConflictDoNothing().run();
    return result.meta.changes === 1;
  }

  /** Replaces the settings if the row is still as read (`lastModifiedTime`); false when it changed or went away meanwhile. */
  async update(name: string, qualifier: string, readAt: string, values: FunctionUrlValues & { lastModifiedTime: string }): Promise<boolean> {
    const result = await this.db
      .update(functionUrls)
      .set(values)
      .where(and(this.#of(name, qualifier), eq(functionUrls.lastModifiedTime, readAt)))
      .run();
    return result.meta.changes === 1;
  }

  async delete(name: string, qualifier: string): Promise<FunctionUrlRow | undefined> {
    const [row] = await this.db.delete(functionUrls).where(this.#of(name, qualifier)).returning();
    return row;
  }

  /** The function's URLs ordered by qualifier ("" first), after `afterQualifier`. */
  async list(name: string, afterQualifier: string | undefined, limit: number): Promise<FunctionUrlRow[]> {
    const base = and(eq(functionUrls.tenantId, this.tenantId), eq(functionUrls.functionName, name));
    return this.db.query.functionUrls.findMany({
      where: afterQualifier === undefined ? base : and(base, gt(functionUrls.qualifier, afterQualifier)),
      orderBy: asc(functionUrls.qualifier),
      limit,
    });
  }

  /** Drops the URLs of a deleted function (every qualifier) or of one deleted alias; returns their url ids. */
  async dropAll(name: string, qualifier?: string): Promise<string[]> {
    const where =
      qualifier === undefined
        ? and(eq(functionUrls.tenantId, this.tenantId), eq(functionUrls.functionName, name))
        : this.#of(name, qualifier);
    const rows = await this.db.delete(functionUrls).where(where).returning({ urlId: functionUrls.urlId });
    return rows.map((r) => r.urlId);
  }

  #of(name: string, qualifier: string) {
    return and(eq(functionUrls.tenantId, this.tenantId), eq(functionUrls.functionName, name), eq(functionUrls.qualifier, qualifier));
  }
}
