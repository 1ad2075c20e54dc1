import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { durableExecutions } from "../db/schema";

export type DurableExecutionRow = typeof durableExecutions.$inferSelect;

export interface DurableExecutionFilter {
  functionName: string;
  version?: string;
  executionName?: string;
  statuses?: string[];
  startedAfter?: number;
  startedBefore?: number;
  /** Oldest first when true; newest first by default, as AWS lists. */
  oldestFirst: boolean;
  /** The last row of the previous page. */
  after?: { startedAt: number; executionArn: string };
  limit: number;
}

/**
 * The tenant-scoped index of durable executions (`durable_executions`).
 * Every query carries `tenant_id = this.tenantId`: a tenant lists only its own.
 */
export class DurableExecutionStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async put(row: Omit<DurableExecutionRow, "tenantId">): Promise<void> {
    const values = { ...row, tenantId: this.tenantId };
    await this.db
      .insert(durableExecutions)
      .values(values)
      .onConflictDoUpdate({ target: [durableExecutions.tenantId, durableExecutions.executionArn], set: { status: row.status, endedAt: row.endedAt } });
  }

  async remove(executionArn: string): Promise<void> {
    await this.db.delete(durableExecutions).where(and(eq(durableExecutions.tenantId, this.tenantId), eq(durableExecutions.executionArn, executionArn)));
  }

  async list(f: DurableExecutionFilter): Promise<DurableExecutionRow[]> {
    const t = durableExecutions;
    const after = f.after;
    const cursor = after === undefined
      ? undefined
      : f.oldestFirst
        ? or(gt(t.startedAt, after.startedAt), and(eq(t.startedAt, after.startedAt), gt(t.executionArn, after.executionArn)))
        : or(lt(t.startedAt, after.startedAt), and(eq(t.startedAt, after.startedAt), lt(t.executionArn, after.executionArn)));
    return this.db.query.durableExecutions.findMany({
      where: and(
        eq(t.tenantId, this.tenantId),
        eq(t.functionName, f.functionName),
        f.version === undefined ? undefined : eq(t.version, f.version),
        f.executionName === undefined ? undefined : eq(t.executionName, f.executionName),
        f.statuses === undefined || f.statuses.length === 0 ? undefined : inArray(t.status, f.statuses),
        f.startedAfter === undefined ? undefined : gte(t.startedAt, f.startedAfter),
        f.startedBefore === undefined ? undefined : lte(t.startedAt, f.startedBefore),
        cursor,
      ),
      orderBy: f.oldestFirst ? [asc(t.startedAt), asc(t.executionArn)] : [desc(t.startedAt), desc(t.executionArn)],
      limit: f.limit,
    });
  }
}
