/**
 * Who waits for a concurrency slot of a tenant's unreserved pool
 * (src/invoke/tenant-quota.ts), and in which order: earliest due first, in
 * arrival order among equal due times, at most `limit` waiters (a waiter
 * refused here falls back to its own backoff). A key waits once: asking again
 * keeps the earlier due time, so a waiter that was woken and throttled again
 * keeps its place. The only waiters today are durable executions whose
 * resume was throttled (src/durable/execution-invocation.ts); every other
 * caller gets its 429 at once, as on AWS.
 *
 * Hand-written: a sorted array with binary insertion is a dozen lines and
 * enough for the bounded sizes here (10,000 keys: an insert moves at most
 * that many references); no priority-queue library is installed.
 */

/** Waiters a tenant's quota keeps; beyond it a throttled resume relies on its backoff alone. */
export const MAX_SLOT_WAITERS = 10_000;
/** Waiters one freed slot tries in turn when the first no longer needs it (resumed by its fallback, ended, stopped). */
export const WAKE_TRIES_PER_SLOT = 4;

interface Entry {
  key: string;
  dueAt: number;
}

export class SlotWaiters {
  readonly #limit: number;
  /** Ordered by dueAt, then arrival. */
  #queue: Entry[] = [];
  #dueAt = new Map<string, number>();

  constructor(limit = MAX_SLOT_WAITERS) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#queue.length;
  }

  /** Queues `key` (due at `dueAt`); true when it waits (already waiting counts), false when the queue is full. */
  add(key: string, dueAt: number): boolean {
    const known = this.#dueAt.get(key);
    if (known !== undefined && known <= dueAt) return true;
    if (known !== undefined) this.remove(key);
    else if (this.#queue.length >= this.#limit) return false;
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#queue[mid]?.dueAt ?? Infinity) <= dueAt) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, { key, dueAt });
    this.#dueAt.set(key, dueAt);
    return true;
  }

  /** When `key` became due, if it waits. */
  dueAtOf(key: string): number | undefined {
    return this.#dueAt.get(key);
  }

  /** Takes the first waiter out of the queue. */
  next(): string | undefined {
    const head = this.#queue.shift();
    if (head) this.#dueAt.delete(head.key);
    return head?.key;
  }

  remove(key: string): void {
    if (!this.#dueAt.delete(key)) return;
    const index = this.#queue.findIndex((e) => e.key === key);
    if (index >= 0) this.#queue.splice(index, 1);
  }
}
