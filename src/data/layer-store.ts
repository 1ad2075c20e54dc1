import { and, asc, desc, eq, gt, lt, max, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { layerVersions, layerVersionStatements } from "../db/schema";
import type { LayerStatement } from "../lambda/layers";

export type LayerVersionRow = typeof layerVersions.$inferSelect;
export type NewLayerVersion = Omit<LayerVersionRow, "tenantId" | "layerName" | "version" | "deleted">;
export interface LayerGrant {
  principal: string;
  statement: LayerStatement;
}

/**
 * One tenant's layer versions and their policies. Tenant-scoped like
 * FunctionStore; a use of another tenant's layer builds one for the owner
 * only after its policy was checked (src/services/function-layers.ts).
 */
export class LayerStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /**
   * Writes the next version of `name` (1 for a new layer); numbers are never
   * reused, deleted versions included. Two publishers racing for the same
   * number: the primary key lets one win, the other takes the next.
   */
  async publish(name: string, row: NewLayerVersion): Promise<LayerVersionRow> {
    for (let attempt = 0; ; attempt++) {
      const [top] = await this.db
        .select({ version: max(layerVersions.version) })
        .from(layerVersions)
        .where(and(eq(layerVersions.tenantId, this.tenantId), eq(layerVersions.layerName, name)));
      const full: LayerVersionRow = { ...row, tenantId: this.tenantId, layerName: name, version: (top?.version ?? 0) + 1, deleted: false };
      const written = await this.db.insert(layerVersions).values(full).onConflictDoNothing().run();
      if (written.meta.changes === 1) return full;
      if (attempt >= PUBLISH_ATTEMPTS) throw new Error(`could not number a new version of layer ${name}`);
    }
  }

  /** A version that was not deleted (`withDeleted`: also a deleted one, for functions that named it). */
  async get(name: string, version: number, opts: { withDeleted?: boolean } = {}): Promise<LayerVersionRow | undefined> {
    const row = await this.db.query.layerVersions.findFirst({ where: this.#version(name, version) });
    return row && (opts.withDeleted || !row.deleted) ? row : undefined;
  }

  /** Versions of `name`, newest first, below `before` (a marker) when given. */
  async versions(name: string, before: number | undefined): Promise<LayerVersionRow[]> {
    const conditions = [eq(layerVersions.tenantId, this.tenantId), eq(layerVersions.layerName, name), eq(layerVersions.deleted, false)];
    if (before !== undefined) conditions.push(lt(layerVersions.version, before));
    return this.db.select().from(layerVersions).where(and(...conditions)).orderBy(desc(layerVersions.version));
  }

  /** Every live version of every layer after `afterName`, by name then newest version first (ListLayers). */
  async allVersions(afterName: string | undefined): Promise<LayerVersionRow[]> {
    const conditions = [eq(layerVersions.tenantId, this.tenantId), eq(layerVersions.deleted, false)];
    if (afterName !== undefined) conditions.push(gt(layerVersions.layerName, afterName));
    return this.db.select().from(layerVersions).where(and(...conditions)).orderBy(asc(layerVersions.layerName), desc(layerVersions.version));
  }

  /** Bytes of the tenant's live layer versions (GetAccountSettings' TotalCodeSize counts them). */
  async totalCodeSize(): Promise<number> {
    const [row] = await this.db
      .select({ total: sql<number>`coalesce(sum(${layerVersions.codeSize}), 0)` })
      .from(layerVersions)
      .where(and(eq(layerVersions.tenantId, this.tenantId), eq(layerVersions.deleted, false)));
    return Number(row?.total ?? 0);
  }

  async markDeleted(name: string, version: number): Promise<void> {
    await this.db.update(layerVersions).set({ deleted: true }).where(this.#version(name, version));
    await this.db.delete(layerVersionStatements).where(this.#statementsOf(name, version));
  }

  async grants(name: string, version: number): Promise<LayerGrant[]> {
    const rows = await this.db.select().from(layerVersionStatements).where(this.#statementsOf(name, version)).orderBy(asc(layerVersionStatements.addedAt));
    return rows.map((r) => ({ principal: r.principal, statement: r.statement as LayerStatement }));
  }

  /** Adds a statement and gives the policy a new RevisionId; false when the Sid is taken (the primary key decides). */
  async addGrant(name: string, version: number, grant: LayerGrant): Promise<boolean> {
    const inserted = await this.db
      .insert(layerVersionStatements)
      .values({ tenantId: this.tenantId, layerName: name, version, sid: grant.statement.Sid, statement: grant.statement, principal: grant.principal, addedAt: Date.now() })
      .onConflictDoNothing()
      .run();
    if (inserted.meta.changes !== 1) return false;
    await this.#newRevision(name, version);
    return true;
  }

  /** Removes a statement and gives the policy a new RevisionId; false when there is no such Sid. */
  async removeGrant(name: string, version: number, sid: string): Promise<boolean> {
    const removed = await this.db.delete(layerVersionStatements).where(and(this.#statementsOf(name, version), eq(layerVersionStatements.sid, sid))).run();
    if (removed.meta.changes !== 1) return false;
    await this.#newRevision(name, version);
    return true;
  }

  async #newRevision(name: string, version: number): Promise<void> {
    await this.db.update(layerVersions).set({ policyRevisionId: crypto.randomUUID() }).where(this.#version(name, version));
  }

  #version(name: string, version: number) {
    return and(eq(layerVersions.tenantId, this.tenantId), eq(layerVersions.layerName, name), eq(layerVersions.version, version));
  }

  #statementsOf(name: string, version: number) {
    return and(
      eq(layerVersionStatements.tenantId, this.tenantId),
      eq(layerVersionStatements.layerName, name),
      eq(layerVersionStatements.version, version),
    );
  }
}

const PUBLISH_ATTEMPTS = 5;
