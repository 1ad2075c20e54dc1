import { DurableObject } from "cloudflare:workers";

/**
 * One per tenant: the tenant's unreserved concurrency, shared by all its
 * functions without reserved concurrency. Partitions take a slot per
 * invocation and give it back; slots are journaled in SQLite with an expiry,
 * so a partition that vanishes mid-invocation never leaks one.
 */
export class TenantQuota extends DurableObject<Env> {
  /** leaseId → expiresAt (ms). */
  #slots = new Map<string, number>();
  /** When the scheduled alarm fires (kept here so no call has to ask storage). */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS slots (lease_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
      for (const row of ctx.storage.sql.exec<{ lease_id: string; expires_at: number }>("SELECT * FROM slots")) {
        this.#slots.set(row.lease_id, row.expires_at);
      }
    });
  }

  /** Takes a slot if fewer than `limit` are held. */
  async take(leaseId: string, limit: number, expiresAt: number): Promise<boolean> {
    this.#expire(Date.now());
    if (this.#slots.size >= limit) return false;
    this.#slots.set(leaseId, expiresAt);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO slots VALUES (?, ?)", leaseId, expiresAt);
    await this.#scheduleAlarm();
    return true;
  }

  async give(leaseId: string): Promise<void> {
    if (!this.#slots.delete(leaseId)) return;
    this.ctx.storage.sql.exec("DELETE FROM slots WHERE lease_id = ?", leaseId);
  }

  async inFlight(): Promise<number> {
    this.#expire(Date.now());
    return this.#slots.size;
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    this.#expire(Date.now());
    await this.#scheduleAlarm();
  }

  #expire(now: number): void {
    for (const [leaseId, expiresAt] of this.#slots) {
      if (expiresAt > now) continue;
      console.warn(`tenant-quota: reclaimed abandoned slot ${leaseId}`);
      this.#slots.delete(leaseId);
      this.ctx.storage.sql.exec("DELETE FROM slots WHERE lease_id = ?", leaseId);
    }
  }

  async #scheduleAlarm(): Promise<void> {
    const next = Math.min(...this.#slots.values());
    if (!Number.isFinite(next) || (this.#alarmAt !== null && this.#alarmAt <= next)) return;
    this.#alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }
}
