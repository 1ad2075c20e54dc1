import { DurableObject } from "cloudflare:workers";

/** Journal keys of held slots: `slot:<leaseId>` → expiresAt (ms). */
const SLOT_PREFIX = "slot:";

/**
 * One per tenant: the tenant's unreserved concurrency, shared by all its
 * functions without reserved concurrency. Partitions take a slot per
 * invocation and give it back. Slots carry an expiry, so a partition that
 * vanishes mid-invocation never leaks one.
 *
 * The journal is written without waiting for the commit (`allowUnconfirmed`):
 * a grant is answered at once instead of after a disk write. What that risks
 * is a crash of this object within the moment before the commit, which would
 * forget the slots granted in that moment until their invocations end.
 */
export class TenantQuota extends DurableObject<Env> {
  /** leaseId → expiresAt (ms). */
  #slots = new Map<string, number>();
  /** When the scheduled alarm fires (kept here so no call has to ask storage). */
  #alarmAt: number | null = null;

  static of(env: Env, tenantId: string): DurableObjectStub<TenantQuota> {
    return env.TENANT_QUOTA.getByName(tenantId);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      for (const [key, expiresAt] of await ctx.storage.list<number>({ prefix: SLOT_PREFIX })) {
        this.#slots.set(key.slice(SLOT_PREFIX.length), expiresAt);
      }
    });
  }

  /** Takes a slot if fewer than `limit` are held. */
  async take(leaseId: string, limit: number, expiresAt: number): Promise<boolean> {
    this.#expire(Date.now());
    if (this.#slots.size >= limit) return false;
    this.#slots.set(leaseId, expiresAt);
    void this.ctx.storage.put(SLOT_PREFIX + leaseId, expiresAt, { allowUnconfirmed: true });
    this.#scheduleAlarm(expiresAt);
    return true;
  }

  async give(leaseId: string): Promise<void> {
    if (!this.#slots.delete(leaseId)) return;
    void this.ctx.storage.delete(SLOT_PREFIX + leaseId, { allowUnconfirmed: true });
  }

  async inFlight(): Promise<number> {
    this.#expire(Date.now());
    return this.#slots.size;
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    this.#expire(Date.now());
    const next = Math.min(...this.#slots.values());
    if (Number.isFinite(next)) this.#scheduleAlarm(next);
  }

  #expire(now: number): void {
    for (const [leaseId, expiresAt] of this.#slots) {
      if (expiresAt > now) continue;
      console.warn(`tenant-quota: reclaimed abandoned slot ${leaseId}`);
      this.#slots.delete(leaseId);
      void this.ctx.storage.delete(SLOT_PREFIX + leaseId, { allowUnconfirmed: true });
    }
  }

  /** Moves the alarm earlier when `at` comes first (an alarm later than needed only reclaims late). */
  #scheduleAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at, { allowUnconfirmed: true });
  }
}
