/**
 * How old the oldest event on a cell's queue is, estimated from what the
 * queue manager already sees: events routed or moved onto a queue (+n at a
 * time) and events the poller took off it (−n), taken oldest first. Cloudflare
 * Queues deliver roughly in order, so "oldest first" is an estimate, exact
 * for a queue consumed in order; like the depths it restarts with the object.
 * Pure: counts per whole second, so memory grows with the seconds a backlog
 * spans (capped: the oldest buckets merge beyond MAX_BUCKETS), not with events.
 */

/** Seconds kept apart per queue; older ones are merged into the oldest bucket (its age stays the oldest). */
export const MAX_BUCKETS = 4_096;

interface Bucket {
  second: number;
  count: number;
}

export class QueueAges {
  #queues = new Map<string, Bucket[]>();

  /** `n` events arrived on `queue` at `nowMs`. */
  add(queue: string, n: number, nowMs: number): void {
    if (n <= 0) return;
    const second = Math.floor(nowMs / 1000);
    let buckets = this.#queues.get(queue);
    if (!buckets) this.#queues.set(queue, (buckets = []));
    const last = buckets.at(-1);
    if (last && last.second >= second) last.count += n;
    else buckets.push({ second, count: n });
    if (buckets.length > MAX_BUCKETS) {
      const [first, second2] = buckets;
      buckets.splice(0, 2, { second: first!.second, count: first!.count + second2!.count });
    }
  }

  /** `n` events left `queue` (acknowledged or moved elsewhere): the oldest go first. */
  take(queue: string, n: number): void {
    const buckets = this.#queues.get(queue);
    if (!buckets) return;
    let left = n;
    while (left > 0 && buckets.length > 0) {
      const head = buckets[0]!;
      const used = Math.min(head.count, left);
      head.count -= used;
      left -= used;
      if (head.count === 0) buckets.shift();
    }
    if (buckets.length === 0) this.#queues.delete(queue);
  }

  /** Seconds since the oldest event still counted on each queue arrived (queues with none are left out). */
  oldestAgeSeconds(nowMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [queue, buckets] of this.#queues) {
      const head = buckets[0];
      if (head) out[queue] = Math.max(0, Math.floor(nowMs / 1000) - head.second);
    }
    return out;
  }
}
