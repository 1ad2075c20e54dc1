import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { failedEvents } from "../db/schema";

export type FailedEventRow = typeof failedEvents.$inferSelect;
export type NewFailedEvent = Omit<FailedEventRow, "tenantId" | "redrivenAt">;

/** Position in a listing: the last row returned, by (created_at, id). */
export interface FailedEventCursor {
  createdAt: number;
  id: string;
}

/**
 * The tenant-scoped data access for failed events (`failed_events`: async
 * events that ended without success, with their invocation record). Every
 * query carries `tenant_id = this.tenantId`; nothing else in the app reads
 * this table, so a tenant only ever sees and redrives its own events.
 */
export class FailedEventStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /** The insert statement, for a D1 batch with the event's status change. */
  insertStatement(row: NewFailedEvent) {
    return this.db.insert(failedEvents).values({ ...row, tenantId: this.tenantId, redrivenAt: null });
  }

  async insert(row: NewFailedEvent): Promise<void> {
    await this.insertStatement(row);
  }

  /** Failed events of one function, oldest first, after `after`. */
  async list(functionName: string, after: FailedEventCursor | undefined, limit: number): Promise<FailedEventRow[]> {
    return this.db.query.failedEvents.findMany({
      where: and(
        eq(failedEvents.tenantId, this.tenantId),
        eq(failedEvents.functionName, functionName),
        after === undefined
          ? undefined
          : or(gt(failedEvents.createdAt, after.createdAt), and(eq(failedEvents.createdAt, after.createdAt), gt(failedEvents.id, after.id))),
      ),
      orderBy: [asc(failedEvents.createdAt), asc(failedEvents.id)],
      limit,
    });
  }

  async get(functionName: string, id: string): Promise<FailedEventRow | undefined> {
    return this.db.query.failedEvents.findFirst({
      where: and(eq(failedEvents.tenantId, this.tenantId), eq(failedEvents.functionName, functionName), eq(failedEvents.id, id)),
    });
  }

  /** Failed events recorded for one request id (any function of the tenant). */
  async byRequestId(requestId: string): Promise<FailedEventRow[]> {
    return this.db.query.failedEvents.findMany({
      where: and(eq(failedEvents.tenantId, this.tenantId), eq(failedEvents.requestId, requestId)),
      orderBy: asc(failedEvents.createdAt),
    });
  }

  /** Claims the one redrive of a failed event; false when it was redriven already (or is not this tenant's). */
  async claimRedrive(functionName: string, id: string, at: number): Promise<boolean> {
    const result = await this.db
      .update(failedEvents)
      .set({ redrivenAt: at })
      .where(and(this.#row(functionName, id), isNull(failedEvents.redrivenAt)))
      .run();
    return result.meta.changes === 1;
  }

  /** Gives a claimed redrive back (its event could not be accepted). */
  async unclaimRedrive(functionName: string, id: string, at: number): Promise<void> {
    await this.db
      .update(failedEvents)
      .set({ redrivenAt: null })
      .where(and(this.#row(functionName, id), eq(failedEvents.redrivenAt, at)));
  }

  #row(functionName: string, id: string) {
    return and(eq(failedEvents.tenantId, this.tenantId), eq(failedEvents.functionName, functionName), eq(failedEvents.id, id));
  }
}
