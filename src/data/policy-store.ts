import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { policyStatements } from "../db/schema";
import type { PolicyStatement } from "../lambda/policy";

/**
 * A tenant's resource-based policy statements. Tenant-scoped like
 * FunctionStore; the invoke path builds one for the function's owner (the
 * tenant of the full ARN's account) to decide a cross-tenant invoke with
 * `allowsInvoke` (src/lambda/policy.ts).
 */
export class PolicyStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /** The statements of `name` at `qualifier` ("" unqualified), in the order they were added. */
  async statements(name: string, qualifier: string): Promise<PolicyStatement[]> {
    const rows = await this.db.query.policyStatements.findMany({
      where: this.#of(name, qualifier),
      orderBy: asc(policyStatements.addedAt),
    });
    return rows.map((r) => r.statement as PolicyStatement);
  }

  /** Adds a statement; false when its Sid is taken (the primary key decides, so racing adds cannot both win). */
  async add(name: string, qualifier: string, statement: PolicyStatement): Promise<boolean> {
    const result = await this.db
      .insert(policyStatements)
      .values({ tenantId: this.tenantId, functionName: name, qualifier, sid: statement.Sid, statement, addedAt: Date.now() })
      .onConflictDoNothing()
      .run();
    return result.meta.changes === 1;
  }

  async remove(name: string, qualifier: string, sid: string): Promise<boolean> {
    const result = await this.db.delete(policyStatements).where(and(this.#of(name, qualifier), eq(policyStatements.sid, sid))).run();
    return result.meta.changes === 1;
  }

  /** Drops the statements of a deleted function (all qualifiers) or of one deleted version or alias. */
  async dropAll(name: string, qualifier?: string): Promise<void> {
    const where =
      qualifier === undefined
        ? and(eq(policyStatements.tenantId, this.tenantId), eq(policyStatements.functionName, name))
        : this.#of(name, qualifier);
    await this.db.delete(policyStatements).where(where);
  }

  #of(name: string, qualifier: string) {
    return and(eq(policyStatements.tenantId, this.tenantId), eq(policyStatements.functionName, name), eq(policyStatements.qualifier, qualifier));
  }
}
