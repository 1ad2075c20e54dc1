import { DurableObject } from "cloudflare:workers";
import { SlotWaiters, WAKE_TRIES_PER_SLOT } from "./slot-waiters";

/** Journal keys of held slots: `slot:<leaseId>` → expiresAt (ms). */
const SLOT_PREFIX = "slot:";
/** Journal keys of slot waiters: `wait:<execution object name>` → due since (ms). */
const WAIT_PREFIX = "wait:";

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
 *
 * Durable executions whose invocation was refused here queue for a slot
 * (src/invoke/slot-waiters.ts): each slot given back wakes the first of them,
 * so a throttled resume runs when a slot frees instead of after a blind
 * backoff. The queue is journaled like the slots (unconfirmed), so the idle
 * eviction of this object while one long invocation holds the last slot
 * forgets no waiter; each waiter's fallback retry
 * (src/durable/throttle-backoff.ts) covers what a crash loses.
 */
export class TenantQuota extends DurableObject<Env> {
  /** leaseId → expiresAt (ms). */
  #slots = new Map<string, number>();
  /** When the scheduled alarm fires (kept here so no call has to ask storage). */
  #alarmAt: number | null = null;
  /** Durable executions waiting for a slot (their objects' names). */
  #waiters = new SlotWaiters();
  /** The limit of the latest take: whether a slot is free when a waiter arrives. */
  #limit = 0;

  static of(env: Env, tenantId: string): DurableObjectStub<TenantQuota> {
    return env.TENANT_QUOTA.getByName(tenantId);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      for (const [key, expiresAt] of await ctx.storage.list<number>({ prefix: SLOT_PREFIX })) {
        this.#slots.set(key.slice(SLOT_PREFIX.length), expiresAt);
      }
      for (const [key, dueAt] of await ctx.storage.list<number>({ prefix: WAIT_PREFIX })) this.#waiters.add(key.slice(WAIT_PREFIX.length), dueAt);
    });
  }

  /** Takes a slot if fewer than `limit` are held. */
  async take(leaseId: string, limit: number, expiresAt: number): Promise<boolean> {
    this.#expire(Date.now());
    this.#limit = limit;
    if (this.#slots.size >= limit) return false;
    this.#slots.set(leaseId, expiresAt);
    void this.ctx.storage.put(SLOT_PREFIX + leaseId, expiresAt, { allowUnconfirmed: true });
    this.#scheduleAlarm(expiresAt);
    return true;
  }

  async give(leaseId: string): Promise<void> {
    if (!this.#slots.delete(leaseId)) return;
    void this.ctx.storage.delete(SLOT_PREFIX + leaseId, { allowUnconfirmed: true });
    this.#wake(1);
  }

  /**
   * Queues the durable execution whose object is named `executionKey`, due
   * since `dueAt`, for the next free slot; false when the queue is full (it
   * then backs off on its own). A slot freed since its refusal wakes it now.
   */
  async waitForSlot(executionKey: string, dueAt: number): Promise<boolean> {
    this.#expire(Date.now());
    const queued = this.#waiters.add(executionKey, dueAt);
    if (queued) void this.ctx.storage.put(WAIT_PREFIX + executionKey, this.#waiters.dueAtOf(executionKey) ?? dueAt, { allowUnconfirmed: true });
    if (queued && this.#slots.size < this.#limit) this.#wake(this.#limit - this.#slots.size);
    return queued;
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
      this.#wake(1);
    }
  }

  /** Wakes a waiter for each of `slots` freed slots. */
  #wake(slots: number): void {
    for (let i = 0; i < slots && this.#waiters.size > 0; i++) this.ctx.waitUntil(this.#wakeOne());
  }

  /** Hands a freed slot to the first waiter that still wants one (a waiter resumed by its fallback, or ended, declines). */
  async #wakeOne(): Promise<void> {
    for (let tries = 0; tries < WAKE_TRIES_PER_SLOT; tries++) {
      const key = this.#waiters.next();
      if (key === undefined) return;
      void this.ctx.storage.delete(WAIT_PREFIX + key, { allowUnconfirmed: true });
      try {
        if (await this.env.DURABLE_EXECUTION.getByName(key).slotFreed()) return;
      } catch (err) {
        console.warn(`tenant-quota: waking ${key}: ${String(err)}`);
      }
    }
  }

  /** Moves the alarm earlier when `at` comes first (an alarm later than needed only reclaims late). */
  #scheduleAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at, { allowUnconfirmed: true });
  }
}
