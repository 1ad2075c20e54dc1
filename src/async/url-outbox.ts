/**
 * The outbox of one tenant's http(s) destination deliveries: the poller hands
 * it each delivery (`take`, idempotent by delivery id) and moves on; the
 * outbox POSTs them side by side (up to MAX_IN_FLIGHT at once), retries
 * non-2xx answers and network errors with backoff (src/async/deliver.ts:
 * `deliverToUrl`, URL_DELIVERY_ATTEMPTS), and keeps the record as a failed
 * event (DestinationDeliveryFailed) when the last attempt fails.
 *
 * Why not the async queues, where deliveries used to travel: a webhook that
 * answers slowly or never holds its queue batch until its 10 s deadline, and
 * a queue runs its consumer's batches one after another (wrangler dev's
 * broker strictly; deployed Queues until their concurrency scales), so the
 * events behind it waited for someone else's webhook. The 30-minute soak of
 * 2026-12-05 left 9,222 async events unrun that way (a test double that
 * hangs on a quarter of its deliveries). Here a slow receiver holds one
 * slot of its own tenant's outbox and nothing else.
 *
 * Nothing is lost: a delivery is written to the object's SQLite before
 * `take` answers (so the poller acknowledges its message only then), and a
 * delivery being POSTed carries a lease (`due_at` = the end of its attempt's
 * deadline + grace) and an alarm no later than that, so an object evicted or
 * restarted mid-POST tries it again (at least once, as before).
 */
import { DurableObject } from "cloudflare:workers";
import { deliverToUrl, recordDeliveryFailure, URL_DELIVERY_TIMEOUT_MS } from "./deliver";
import type { DestinationDelivery } from "./messages";
import { destinationDeliverySchema } from "./messages";

/**
 * POSTs of one tenant in flight at once. With receivers that hang on a
 * quarter of their POSTs (10 s each), 16 carried about 5 POSTs/s, below the
 * soak's 9 deliveries/s with their retries (npm run soak:path, SOAK_PATH=async).
 */
export const MAX_IN_FLIGHT = 64;
/** A delivery being POSTed is not taken again for this long (its deadline + grace; a function: deliver.ts imports this module). */
const leaseMs = () => URL_DELIVERY_TIMEOUT_MS + 5_000;
/** Ids taken are remembered this long, so a settle that runs again later takes nothing twice (an event lives at most 6 h). */
const TAKEN_KEEP_MS = 6 * 3600_000;
/** Wait before trying again to keep a failed delivery's record when D1 refused it. */
const RECORD_RETRY_MS = 30_000;

export class UrlOutbox extends DurableObject<Env> {
  /** The outbox of a tenant. */
  static of(env: Env, tenantId: string): DurableObjectStub<UrlOutbox> {
    return env.URL_OUTBOX.getByName(tenantId);
  }

  readonly #sql: SqlStorage;
  /** Deliveries this instance is POSTing (by id). */
  readonly #running = new Map<string, Promise<void>>();
  #draining: Promise<void> | undefined;
  /** Wakes a drain waiting on its POSTs when a new delivery arrives. */
  #wake: (() => void) | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, message TEXT NOT NULL, due_at INTEGER NOT NULL)");
    this.#sql.exec("CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at)");
    this.#sql.exec("CREATE TABLE IF NOT EXISTS taken (id TEXT PRIMARY KEY, at INTEGER NOT NULL)");
    this.#sql.exec("CREATE INDEX IF NOT EXISTS taken_at ON taken (at)");
  }

  /** Takes a delivery to POST (a second `take` of the same id is a no-op). Answers once it is stored. */
  async take(id: string, message: DestinationDelivery): Promise<void> {
    const now = Date.now();
    if (this.#sql.exec("SELECT 1 FROM taken WHERE id = ?", id).toArray().length > 0) return;
    this.#sql.exec("DELETE FROM taken WHERE at < ?", now - TAKEN_KEEP_MS);
    this.#sql.exec("INSERT INTO taken (id, at) VALUES (?, ?)", id, now);
    this.#sql.exec("INSERT INTO deliveries (id, message, due_at) VALUES (?, ?, ?)", id, JSON.stringify(message), now);
    // The safety net if this instance goes away before the POST ends.
    await this.#armAlarm(now + leaseMs());
    this.#kick();
  }

  /** Deliveries waiting or in flight (for tests and operators). */
  async pending(): Promise<number> {
    return Number(this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries").one().n);
  }

  override async alarm(): Promise<void> {
    // Not awaited: under steady load a drain goes on while deliveries keep coming; it arms the next alarm itself.
    this.#kick();
  }

  #kick(): void {
    if (this.#draining) {
      this.#wake?.();
      return;
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
    this.ctx.waitUntil(this.#draining);
  }

  /** Starts every due delivery (up to MAX_IN_FLIGHT at once) until none is due or running; then arms the alarm for the next. */
  async #drain(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const free = MAX_IN_FLIGHT - this.#running.size;
      if (free > 0) {
        const due = this.#sql
          .exec<{ id: string; message: string }>("SELECT id, message FROM deliveries WHERE due_at <= ? ORDER BY due_at LIMIT ?", now, free + this.#running.size)
          .toArray()
          .filter((row) => !this.#running.has(row.id))
          .slice(0, free);
        for (const row of due) {
          this.#sql.exec("UPDATE deliveries SET due_at = ? WHERE id = ?", now + leaseMs(), row.id);
          this.#running.set(row.id, this.#attempt(row.id, row.message).finally(() => this.#running.delete(row.id)));
        }
        if (due.length > 0) await this.#armNext();
      }
      if (this.#running.size === 0) break;
      await Promise.race([...this.#running.values(), new Promise<void>((resolve) => (this.#wake = resolve))]);
      this.#wake = undefined;
    }
    await this.#armNext();
  }

  /** One POST and what follows from it; never throws (a failure to record is retried later). */
  async #attempt(id: string, raw: string): Promise<void> {
    const message = destinationDeliverySchema.safeParse(JSON.parse(raw));
    if (!message.success) {
      console.error(`url outbox: delivery ${id} does not parse; dropped: ${message.error.message}`);
      this.#sql.exec("DELETE FROM deliveries WHERE id = ?", id);
      return;
    }
    const delivery = message.data;
    const outcome = await deliverToUrl(this.env, delivery);
    switch (outcome.kind) {
      case "delivered":
        this.#sql.exec("DELETE FROM deliveries WHERE id = ?", id);
        return;
      case "retry": {
        const next: DestinationDelivery = { ...delivery, attempt: delivery.attempt + 1 };
        this.#sql.exec("UPDATE deliveries SET message = ?, due_at = ? WHERE id = ?", JSON.stringify(next), Date.now() + outcome.delaySeconds * 1000, id);
        return;
      }
      case "failed":
        try {
          await recordDeliveryFailure(this.env, delivery, delivery.record, `${delivery.url}: ${outcome.reason}`);
          this.#sql.exec("DELETE FROM deliveries WHERE id = ?", id);
        } catch (err) {
          console.error(`url outbox: could not keep the failed delivery ${id}; trying again`, err);
          this.#sql.exec("UPDATE deliveries SET due_at = ? WHERE id = ?", Date.now() + RECORD_RETRY_MS, id);
        }
        return;
    }
  }

  /** The alarm at the earliest due time (a leased delivery's is its lease's end), or none when the outbox is empty. */
  async #armNext(): Promise<void> {
    const next = this.#sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM deliveries").one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** Moves the alarm earlier, never later. */
  async #armAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
