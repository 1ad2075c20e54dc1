import { and, asc, eq, gt, isNotNull, lt, sql } from "drizzle-orm";
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

  /**
   * Local development only (src/async/volatile-queues.ts): the row of one http(s)
   * destination delivery, queued with its first message; a second call for the
   * same delivery (its source event's settle ran again) changes nothing.
   */
  async keepDelivery(delivery: { requestId: string; functionName: string; message: string; now: number }): Promise<void> {
    await this.db
      .insert(asyncEvents)
      .values({
        requestId: delivery.requestId,
        functionName: delivery.functionName,
        qualifier: null,
        tenantId: this.tenantId,
        status: "queued",
        invokeCount: 0,
        attempt: 0,
        acceptedAt: delivery.now,
        updatedAt: delivery.now,
        message: delivery.message,
      })
      .onConflictDoNothing();
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

  /**
   * Records message `attempt` as the newest (older copies are stale), counting a run if there was one;
   * `message` (local development only, src/async/volatile-queues.ts) is that message, kept to be sent again.
   */
  async advance(requestId: string, attempt: number, ran: boolean, now: number, message?: string): Promise<void> {
    await this.db
      .update(asyncEvents)
      .set({ attempt, updatedAt: now, ...(ran ? { invokeCount: sql`${asyncEvents.invokeCount} + 1` } : {}), ...(message === undefined ? {} : { message }) })
      .where(and(this.#event(requestId), lt(asyncEvents.attempt, attempt)));
  }

  /** Keeps the queue message of a queued event (local development only, src/async/volatile-queues.ts). */
  async remember(requestId: string, message: string): Promise<void> {
    await this.db.update(asyncEvents).set({ message }).where(and(this.#event(requestId), eq(asyncEvents.status, "queued")));
  }

  /**
   * Operator-level, across tenants (the one such query here, for a recovery that runs before any
   * tenant is known): queued events last sent before `before` whose message was kept, a page at a
   * time after `afterRequestId`.
   */
  static async queuedBefore(db: Database, before: number, afterRequestId: string, limit: number): Promise<{ requestId: string; tenantId: string; message: string }[]> {
    const rows = await db
      .select({ requestId: asyncEvents.requestId, tenantId: asyncEvents.tenantId, message: asyncEvents.message })
      .from(asyncEvents)
      .where(and(eq(asyncEvents.status, "queued"), lt(asyncEvents.updatedAt, before), gt(asyncEvents.requestId, afterRequestId), isNotNull(asyncEvents.message)))
      .orderBy(asc(asyncEvents.requestId))
      .limit(limit);
    return rows.flatMap((r) => (r.message === null ? [] : [{ requestId: r.requestId, tenantId: r.tenantId, message: r.message }]));
  }

  #event(requestId: string) {
    return and(eq(asyncEvents.tenantId, this.tenantId), eq(asyncEvents.requestId, requestId));
  }
}
