import { and, asc, count, eq, gt, ne, or, sql } from "drizzle-orm";
import type { CodeRef } from "./code-store";
import type { Database } from "../db/client";
import { aliases, functions, functionVersions } from "../db/schema";
import type { StoredConfig } from "../lambda/function-config";
import type { RecursiveLoop } from "../invoke/recursion";

export type FunctionRow = typeof functions.$inferSelect;
export type AliasRow = typeof aliases.$inferSelect;
export interface VersionRow extends Omit<typeof functionVersions.$inferSelect, "config"> {
  config: StoredConfig;
}
export type NewVersion = Omit<VersionRow, "tenantId" | "functionName">;

export const LATEST = "$LATEST";

/**
 * The tenant-scoped data access for functions, versions and aliases. Every
 * query carries `tenant_id = this.tenantId`; nothing else in the app reads
 * these tables, so a tenant can only ever see its own rows.
 */
export class FunctionStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async getFunction(name: string): Promise<FunctionRow | undefined> {
    return this.db.query.functions.findFirst({
      where: and(eq(functions.tenantId, this.tenantId), eq(functions.name, name)),
    });
  }

  async getVersion(name: string, version: string): Promise<VersionRow | undefined> {
    const row = await this.db.query.functionVersions.findFirst({
      where: and(this.#versionsOf(name), eq(functionVersions.version, version)),
    });
    return row as VersionRow | undefined;
  }

  /** $LATEST of every function, ordered by name, after `afterName`. */
  async listLatest(afterName: string | undefined, limit: number): Promise<VersionRow[]> {
    const rows = await this.db.query.functionVersions.findMany({
      where: and(
        eq(functionVersions.tenantId, this.tenantId),
        eq(functionVersions.version, LATEST),
        afterName === undefined ? undefined : gt(functionVersions.functionName, afterName),
      ),
      orderBy: asc(functionVersions.functionName),
      limit,
    });
    return rows as VersionRow[];
  }

  /** Names of the tenant's functions with reserved concurrency (their leases are not the tenant pool's slots). */
  async listReservedNames(): Promise<string[]> {
    const rows = await this.db
      .select({ name: functions.name })
      .from(functions)
      .where(and(eq(functions.tenantId, this.tenantId), gt(functions.reservedConcurrency, 0)))
      .orderBy(asc(functions.name));
    return rows.map((r) => r.name);
  }

  /** Every version of every function, ordered by (name, version number), after `after`. */
  async listAllVersions(after: { name: string; number: number } | undefined, limit: number): Promise<VersionRow[]> {
    const rows = await this.db.query.functionVersions.findMany({
      where: and(
        eq(functionVersions.tenantId, this.tenantId),
        after === undefined
          ? undefined
          : or(
              gt(functionVersions.functionName, after.name),
              and(eq(functionVersions.functionName, after.name), gt(functionVersions.versionNumber, after.number)),
            ),
      ),
      orderBy: [asc(functionVersions.functionName), asc(functionVersions.versionNumber)],
      limit,
    });
    return rows as VersionRow[];
  }

  /** Versions of one function ($LATEST first, then by number), after version number `afterNumber`. */
  async listVersions(name: string, afterNumber: number, limit: number): Promise<VersionRow[]> {
    const rows = await this.db.query.functionVersions.findMany({
      where: and(this.#versionsOf(name), gt(functionVersions.versionNumber, afterNumber)),
      orderBy: asc(functionVersions.versionNumber),
      limit,
    });
    return rows as VersionRow[];
  }

  async createFunction(name: string, latest: NewVersion, published?: NewVersion, tags: Record<string, string> | null = null): Promise<void> {
    const now = latest.lastModified;
    const fn = { tenantId: this.tenantId, name, createdAt: now, lastVersion: published ? 1 : 0, tags };
    const inserts = [this.db.insert(functions).values(fn), this.#insertVersion(name, latest)] as const;
    if (published) await this.db.batch([...inserts, this.#insertVersion(name, published)]);
    else await this.db.batch(inserts);
  }

  /** Replaces $LATEST if its revision is still `expectedRevision`; false when someone else won. */
  async replaceLatest(name: string, expectedRevision: string, next: NewVersion): Promise<boolean> {
    const result = await this.db
      .update(functionVersions)
      .set({ ...next, version: LATEST, versionNumber: 0 })
      .where(
        and(
          this.#versionsOf(name),
          eq(functionVersions.version, LATEST),
          eq(functionVersions.revisionId, expectedRevision),
        ),
      )
      .run();
    return result.meta.changes === 1;
  }

  /**
   * Changes columns of one version if its revision is still
   * `expectedRevision` (every change gives a row a new revision, so this is
   * the compare-and-set of the control plane); false when someone else won.
   */
  async patchVersion(name: string, version: string, expectedRevision: string, patch: Partial<NewVersion>): Promise<boolean> {
    const result = await this.db
      .update(functionVersions)
      .set(patch)
      .where(and(this.#versionsOf(name), eq(functionVersions.version, version), eq(functionVersions.revisionId, expectedRevision)))
      .run();
    return result.meta.changes === 1;
  }

  /**
   * Records a new version, bumps the function's counter and gives $LATEST a
   * new revision (AWS's PublishVersion changes $LATEST's RevisionId too), in
   * one batch. The counter update only applies while it still holds
   * `previousNumber`, and the version's primary key refuses a duplicate, so
   * two racing publishes cannot both take the same number.
   */
  async publish(name: string, previousNumber: number, version: NewVersion, latestRevision: { from: string; to: string }): Promise<void> {
    await this.db.batch([
      this.db
        .update(functions)
        .set({ lastVersion: version.versionNumber })
        .where(and(this.#function(name), eq(functions.lastVersion, previousNumber))),
      this.#insertVersion(name, version),
      this.db
        .update(functionVersions)
        .set({ revisionId: latestRevision.to })
        .where(and(this.#versionsOf(name), eq(functionVersions.version, LATEST), eq(functionVersions.revisionId, latestRevision.from))),
    ]);
  }

  /** Deletes a function with all its versions and aliases; returns the code its versions used. */
  async deleteFunction(name: string): Promise<CodeRef[]> {
    const code = await this.db
      .selectDistinct({ bundleKey: functionVersions.bundleKey, codeSha256: functionVersions.codeSha256 })
      .from(functionVersions)
      .where(this.#versionsOf(name));
    await this.db.batch([
      this.db.delete(aliases).where(this.#aliasesOf(name)),
      this.db.delete(functionVersions).where(this.#versionsOf(name)),
      this.db.delete(functions).where(this.#function(name)),
    ]);
    return code;
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    await this.db.delete(functionVersions).where(and(this.#versionsOf(name), eq(functionVersions.version, version)));
  }

  async setTags(name: string, tags: Record<string, string>): Promise<void> {
    await this.db.update(functions).set({ tags: Object.keys(tags).length > 0 ? tags : null }).where(this.#function(name));
  }

  async setRecursiveLoop(name: string, value: RecursiveLoop): Promise<void> {
    await this.db.update(functions).set({ recursiveLoop: value }).where(this.#function(name));
  }

  async setReservedConcurrency(name: string, value: number | null): Promise<void> {
    await this.db.update(functions).set({ reservedConcurrency: value }).where(this.#function(name));
  }

  /**
   * Reserves `value` for a function only if the tenant's other reservations
   * plus it stay within `maxReserved`, in one statement (concurrent
   * reservations cannot both pass); false when they would not.
   */
  async reserveConcurrency(name: string, value: number, maxReserved: number): Promise<boolean> {
    const others = reservedConcurrencySum(this.db, this.tenantId, name);
    const result = await this.db
      .update(functions)
      .set({ reservedConcurrency: value })
      .where(and(this.#function(name), sql`(${others}) + ${value} <= ${maxReserved}`))
      .run();
    return result.meta.changes === 1;
  }

  /** Sum of reserved concurrency over the tenant's functions, leaving out `exceptName`. */
  async reservedConcurrencyTotal(exceptName?: string): Promise<number> {
    const [row] = await reservedConcurrencySum(this.db, this.tenantId, exceptName);
    return Number(row?.total ?? 0);
  }

  async usage(): Promise<{ functionCount: number; totalCodeSize: number }> {
    const [fnCount] = await this.db.select({ n: count() }).from(functions).where(eq(functions.tenantId, this.tenantId));
    const [code] = await this.db
      .select({ total: sql<number>`coalesce(sum(${functionVersions.codeSize}), 0)` })
      .from(functionVersions)
      .where(eq(functionVersions.tenantId, this.tenantId));
    return { functionCount: fnCount?.n ?? 0, totalCodeSize: Number(code?.total ?? 0) };
  }

  // --- aliases -----------------------------------------------------------

  async getAlias(name: string, alias: string): Promise<AliasRow | undefined> {
    return this.db.query.aliases.findFirst({ where: and(this.#aliasesOf(name), eq(aliases.name, alias)) });
  }

  async listAliases(name: string, afterAlias: string | undefined, limit: number, version?: string): Promise<AliasRow[]> {
    return this.db.query.aliases.findMany({
      where: and(
        this.#aliasesOf(name),
        afterAlias === undefined ? undefined : gt(aliases.name, afterAlias),
        version === undefined ? undefined : eq(aliases.functionVersion, version),
      ),
      orderBy: asc(aliases.name),
      limit,
    });
  }

  /** Aliases that route to `version`, as primary or as the weighted extra version. */
  async aliasesRoutingTo(name: string, version: string): Promise<AliasRow[]> {
    const all = await this.db.query.aliases.findMany({ where: this.#aliasesOf(name) });
    return all.filter((a) => a.functionVersion === version || Object.hasOwn(a.additionalVersionWeights ?? {}, version));
  }

  async insertAlias(row: Omit<AliasRow, "tenantId">): Promise<void> {
    await this.db.insert(aliases).values({ ...row, tenantId: this.tenantId });
  }

  async updateAlias(name: string, alias: string, expectedRevision: string, next: Omit<AliasRow, "tenantId" | "functionName" | "name">): Promise<boolean> {
    const result = await this.db
      .update(aliases)
      .set(next)
      .where(and(this.#aliasesOf(name), eq(aliases.name, alias), eq(aliases.revisionId, expectedRevision)))
      .run();
    return result.meta.changes === 1;
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.db.delete(aliases).where(and(this.#aliasesOf(name), eq(aliases.name, alias)));
  }

  // --- scoping -------------------------------------------------------------

  #function(name: string) {
    return and(eq(functions.tenantId, this.tenantId), eq(functions.name, name));
  }

  #versionsOf(name: string) {
    return and(eq(functionVersions.tenantId, this.tenantId), eq(functionVersions.functionName, name));
  }

  #aliasesOf(name: string) {
    return and(eq(aliases.tenantId, this.tenantId), eq(aliases.functionName, name));
  }

  #insertVersion(name: string, version: NewVersion) {
    return this.db.insert(functionVersions).values({ ...version, tenantId: this.tenantId, functionName: name });
  }
}

/**
 * The query for the sum of a tenant's reserved concurrency (0 when none),
 * leaving out `exceptName`: awaited for the number, or embedded as a
 * subquery in a conditional write.
 */
export function reservedConcurrencySum(db: Database, tenantId: string, exceptName?: string) {
  return db
    .select({ total: sql<number>`coalesce(sum(${functions.reservedConcurrency}), 0)` })
    .from(functions)
    .where(and(eq(functions.tenantId, tenantId), exceptName === undefined ? undefined : ne(functions.name, exceptName)));
}
