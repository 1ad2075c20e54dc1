/**
 * How many events each of a cell's queues holds, and how old the oldest of
 * them is, from what the queue manager sees: events routed or moved onto a
 * queue (+n at a time) and events the poller took off it (−n, never below
 * zero), taken oldest first. Cloudflare Queues deliver roughly in order, so
 * the age is an estimate, exact for a queue consumed in order; both restart
 * with the object. Pure: counts per whole second, so memory grows with the
 * seconds a backlog spans (capped: the oldest buckets merge beyond
 * MAX_BUCKETS), not with events; the depth is kept as a running total so
 * routing reads it without summing.
 */

/** Seconds kept apart per queue; older ones are merged into the oldest bucket (its age stays the oldest). */
export const MAX_BUCKETS = 4_096;

interface Bucket {
  second: number;
  count: number;
}

interface Counted {
  depth: number;
  buckets: Bucket[];
}

export class QueueCounts {
  /** Every queue the manager was told of (an emptied one stays, at depth 0). */
  #queues = new Map<string, Counted>();

  /** `n` events arrived on `queue` at `nowMs`. */
  add(queue: string, n: number, nowMs: number): void {
    const counted = this.#counted(queue);
    counted.depth += n;
    if (n <= 0) return;
    const second = Math.floor(nowMs / 1000);
    const { buckets } = counted;
    const last = buckets.at(-1);
    if (last && last.second >= second) last.count += n;
    else buckets.push({ second, count: n });
    if (buckets.length > MAX_BUCKETS) {
      const [first, next] = buckets;
      buckets.splice(0, 2, { second: first!.second, count: first!.count + next!.count });
    }
  }

  /** `n` events left `queue` (acknowledged or moved elsewhere): the oldest go first; the depth never goes below 0. */
  take(queue: string, n: number): void {
    const counted = this.#counted(queue);
    const { buckets } = counted;
    let left = n;
    while (left > 0 && buckets.length > 0) {
      const head = buckets[0]!;
      const used = Math.min(head.count, left);
      head.count -= used;
      left -= used;
      if (head.count === 0) buckets.shift();
    }
    counted.depth = Math.max(0, counted.depth - n);
  }

  #counted(queue: string): Counted {
    let counted = this.#queues.get(queue);
    if (!counted) this.#queues.set(queue, (counted = { depth: 0, buckets: [] }));
    return counted;
  }

  /** Events counted on `queue` now (0 for a queue never seen). */
  depth(queue: string): number {
    return this.#queues.get(queue)?.depth ?? 0;
  }

  /** Depth of every queue the manager was told of. */
  depths(): Record<string, number> {
    return Object.fromEntries([...this.#queues].map(([queue, { depth }]) => [queue, depth]));
  }

  /** Seconds since the oldest event still counted on each queue arrived (queues with none are left out). */
  oldestAgeSeconds(nowMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [queue, { buckets }] of this.#queues) {
      const head = buckets[0];
      if (head) out[queue] = Math.max(0, Math.floor(nowMs / 1000) - head.second);
    }
    return out;
  }
}
