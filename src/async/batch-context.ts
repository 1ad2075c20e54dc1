/**
 * What the poller's pieces share while handling one batch: where it came
 * from, the depth report for the cells' QueueManagers, and the settings the
 * poller reads (retry unit, the cell's low-priority age).
 */
import type { Database } from "../db/client";
import { QueueManager } from "./queue-manager";
import type { QueueRole } from "./queues";
import { parseQueueName } from "./queues";
import { TtlCache } from "../util/ttl-cache";

/** How long an isolate trusts the cell's low-priority age (QueueManager.status()). */
export const LOW_PRIORITY_CACHE_MS = 5_000;

export interface QueueSource {
  /** The queue the batch came from. */
  name: string;
  cell: number | undefined;
  role: QueueRole | undefined;
}

/** Depth changes of one batch, reported to the cells' QueueManagers once. */
export class DepthReport {
  readonly settled = new Map<string, number>();
  readonly added = new Map<string, number>();

  settle(queue: string): void {
    this.settled.set(queue, (this.settled.get(queue) ?? 0) + 1);
  }

  add(queue: string, n = 1): void {
    this.added.set(queue, (this.added.get(queue) ?? 0) + n);
  }

  async send(env: Env): Promise<void> {
    const byCell = new Map<number, { settled: Record<string, number>; added: Record<string, number> }>();
    const cellOf = (queue: string) => {
      const cell = parseQueueName(queue)?.cell;
      if (cell === undefined) return undefined;
      let entry = byCell.get(cell);
      if (!entry) byCell.set(cell, (entry = { settled: {}, added: {} }));
      return entry;
    };
    for (const [queue, n] of this.settled) {
      const entry = cellOf(queue);
      if (entry) entry.settled[queue] = n;
    }
    for (const [queue, n] of this.added) {
      const entry = cellOf(queue);
      if (entry) entry.added[queue] = n;
    }
    await Promise.all(
      [...byCell].map(async ([cell, counts]) => {
        try {
          const manager = QueueManager.ofCell(env, cell);
          if (Object.keys(counts.settled).length > 0) await manager.settled(counts.settled);
          if (Object.keys(counts.added).length > 0) await manager.added(counts.added);
        } catch (err) {
          // Depths are an estimate for routing; a lost report only skews best-of-two for a while.
          console.error(`poller: depth report to cell ${cell} failed`, err);
        }
      }),
    );
  }
}

export interface BatchContext {
  env: Env;
  ctx: ExecutionContext;
  source: QueueSource;
  report: DepthReport;
  db: Database;
}

// ---------------------------------------------------------------- settings

/** ASYNC_RETRY_UNIT_SECONDS (Lambda's "about a minute" between function-error retries). */
export function retryUnitSeconds(env: Env): number {
  const value = Number(env.ASYNC_RETRY_UNIT_SECONDS);
  return Number.isFinite(value) && value >= 0 ? value : 60;
}

/** Cells are few; the bound only keeps the cache's contract. */
const lowPriorityCache = new TtlCache<number | null>(LOW_PRIORITY_CACHE_MS, 1_000);

/** The cell's low-priority age (null: never move), cached per isolate for LOW_PRIORITY_CACHE_MS. */
export function lowPriorityAfterSeconds(env: Env, cell: number): Promise<number | null> {
  return lowPriorityCache.get(String(cell), async () => {
    try {
      return (await QueueManager.ofCell(env, cell).status()).lowPriorityAfterSeconds;
    } catch (err) {
      console.error(`poller: cell ${cell} status unavailable; not moving backlog this time`, err);
      return null;
    }
  });
}

/** Forgets cached cell settings (tests change them). */
export function forgetLowPriorityCache(): void {
  lowPriorityCache.clear();
}
