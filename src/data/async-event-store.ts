import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { asyncEvents } from "../db/schema";

export type AsyncEventRow = typeof asyncEvents.$inferSelect;

/**
 * The tenant-scoped data access for accepted async events (`async_events`:
 * the poller's idempotency record), with the event's state machine as named
 * transitions:
 *
 *   accept → queued ─┬─ advance (a retry, backoff or move: message attempt + 1) ─┐
 *                    │                                  ↑────────────────────────┘
 *                    ├─ succeed → succeeded
 *                    └─ fail    → failed
 *
 * `succeed` and `fail` only move a `queued` row, so a late copy of a message
 * can never turn one outcome into the other; `advance` only moves forward.
 */
export class AsyncEventStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /** The insert of a newly accepted event (status queued, attempt 0). */
  accept(event: { requestId: string; functionName: string; qualifier: string | null; acceptedAt: number }) {
    return this.db.insert(asyncEvents).values({
      ...event,
      tenantId: this.tenantId,
      status: "queued",
      invokeCount: 0,
      attempt: 0,
      updatedAt: event.acceptedAt,
    });
  }

  /** Undoes an accept whose send failed (the caller answered with an error, not 202). */
  async forget(requestId: string): Promise<void> {
    await this.db.delete(asyncEvents).where(this.#event(requestId));
  }

  async get(requestId: string): Promise<AsyncEventRow | undefined> {
    return this.db.query.asyncEvents.findFirst({ where: this.#event(requestId) });
  }

  async exists(requestId: string): Promise<boolean> {
    const row = await this.db.query.asyncEvents.findFirst({ columns: { requestId: true }, where: this.#event(requestId) });
    return row !== undefined;
  }

  /** queued → succeeded, counting the run. */
  async succeed(requestId: string, now: number): Promise<void> {
    await this.db
      .update(asyncEvents)
      .set({ status: "succeeded", invokeCount: sql`${asyncEvents.invokeCount} + 1`, updatedAt: now })
      .where(and(this.#event(requestId), eq(asyncEvents.status, "queued")));
  }

  /** queued → failed, as a statement for a D1 batch with the failed event's insert. */
  failStatement(requestId: string, now: number, invokeCount?: number) {
    return this.db
      .update(asyncEvents)
      .set({ status: "failed", updatedAt: now, ...(invokeCount === undefined ? {} : { invokeCount }) })
      .where(and(this.#event(requestId), eq(asyncEvents.status, "queued")));
  }

  /** Records message `attempt` as the newest (older copies are stale), counting a run if there was one. */
  async advance(requestId: string, attempt: number, ran: boolean, now: number): Promise<void> {
    await this.db
      .update(asyncEvents)
      .set({ attempt, updatedAt: now, ...(ran ? { invokeCount: sql`${asyncEvents.invokeCount} + 1` } : {}) })
      .where(and(this.#event(requestId), lt(asyncEvents.attempt, attempt)));
  }

  #event(requestId: string) {
    return and(eq(asyncEvents.tenantId, this.tenantId), eq(asyncEvents.requestId, requestId));
  }
}
