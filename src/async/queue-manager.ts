import { DurableObject } from "cloudflare:workers";
import type { SidelineMode, SlidingCount } from "../placement/sideline";
import { advance, bestOfTwo, emptyCount, recentEvents, shouldSideline } from "../placement/sideline";
import { QueueCounts } from "./queue-counts";

export interface RouteRequest {
  tenantId: string;
  /** The function's shard: the queue names it may use. */
  candidates: string[];
  /** The cell's sideline queue. */
  sidelineQueue: string;
}

export interface CellStatus {
  depths: Record<string, number>;
  /** Seconds since the oldest event still counted on each queue arrived (./queue-counts.ts; queues with none left out). */
  oldestAgeSeconds: Record<string, number>;
  tenants: Array<{ tenantId: string; mode: SidelineMode; sidelined: boolean; eventsInWindow: number }>;
  lowPriorityAfterSeconds: number | null;
}

/** Default age after which the poller moves backlog to the low-priority queue. */
export const DEFAULT_LOW_PRIORITY_AFTER_SECONDS = 30;

interface TenantRate {
  count: SlidingCount;
  sidelined: boolean;
}

/**
 * One per cell. Routes each accepted async event to a queue: the shallower
 * of two of the function's shard queues (depths counted here: +1 on route,
 * -n when the poller settles), or the sideline queue for a flooding tenant.
 * Depths are an in-memory estimate (they restart at zero with the object);
 * operator settings — forced sideline modes and the low-priority age — are
 * kept in SQLite.
 */
export class QueueManager extends DurableObject<Env> {
  /** The manager of a cell's queues. */
  static ofCell(env: Env, cell: number): DurableObjectStub<QueueManager> {
    return env.QUEUE_MANAGER.getByName(`cell-${cell}`);
  }

  /** Every cell's status with its number, for the operator's views (admin API, metrics, console). */
  static allCells(env: Env): Promise<Array<{ cell: number } & CellStatus>> {
    return Promise.all(Array.from({ length: Number(env.CELL_COUNT) }, async (_, cell) => ({ cell, ...(await QueueManager.ofCell(env, cell).status()) })));
  }

  /** Events on each queue and their ages (./queue-counts.ts). */
  #queues = new QueueCounts();
  #tenants = new Map<string, TenantRate>();
  #modes = new Map<string, SidelineMode>();
  #cellCount = emptyCount(Date.now());
  #lowPriorityAfterSeconds: number | null = DEFAULT_LOW_PRIORITY_AFTER_SECONDS;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS sideline_modes (tenant_id TEXT PRIMARY KEY, mode TEXT NOT NULL)");
      sql.exec("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT)");
      for (const row of sql.exec<{ tenant_id: string; mode: SidelineMode }>("SELECT * FROM sideline_modes")) {
        this.#modes.set(row.tenant_id, row.mode);
      }
      const lowPri = sql.exec<{ value: string | null }>("SELECT value FROM settings WHERE key = 'low_priority_after_seconds'").toArray()[0];
      if (lowPri) this.#lowPriorityAfterSeconds = lowPri.value === null ? null : Number(lowPri.value);
    });
  }

  async route(req: RouteRequest): Promise<{ queue: string; sidelined: boolean }> {
    const now = Date.now();
    this.#cellCount = advance(this.#cellCount, now);
    this.#cellCount.current += 1;
    const tenant = this.#rateOf(req.tenantId, now);
    tenant.count.current += 1;
    const events = recentEvents(tenant.count, now);
    const sidelined = shouldSideline(this.#modes.get(req.tenantId) ?? "auto", {
      events,
      cellEvents: recentEvents(this.#cellCount, now),
      sidelined: tenant.sidelined,
    });
    if (sidelined !== tenant.sidelined) {
      console.log(`queue-manager: tenant ${req.tenantId} ${sidelined ? "sidelined" : "back on its shard"} (${Math.round(events)} recent events)`);
      tenant.sidelined = sidelined;
    }
    const queue = sidelined ? req.sidelineQueue : bestOfTwo(req.candidates, (q) => this.#queues.depth(q), Math.random);
    this.#queues.add(queue, 1, now);
    return { queue, sidelined };
  }

  /** The poller reports messages it took off queues (acknowledged or moved elsewhere). */
  async settled(counts: Record<string, number>): Promise<void> {
    for (const [queue, n] of Object.entries(counts)) this.#queues.take(queue, n);
  }

  /** The poller moved messages onto `queue` (low priority, retries): count them there. */
  async added(counts: Record<string, number>): Promise<void> {
    const now = Date.now();
    for (const [queue, n] of Object.entries(counts)) this.#queues.add(queue, n, now);
  }

  async setSidelineMode(tenantId: string, mode: SidelineMode): Promise<void> {
    if (mode === "auto") {
      this.#modes.delete(tenantId);
      this.ctx.storage.sql.exec("DELETE FROM sideline_modes WHERE tenant_id = ?", tenantId);
    } else {
      this.#modes.set(tenantId, mode);
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO sideline_modes VALUES (?, ?)", tenantId, mode);
    }
    const rate = this.#tenants.get(tenantId);
    if (rate && mode !== "auto") rate.sidelined = mode === "on";
  }

  async setLowPriorityAfter(seconds: number | null): Promise<void> {
    this.#lowPriorityAfterSeconds = seconds;
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO settings VALUES ('low_priority_after_seconds', ?)",
      seconds === null ? null : String(seconds),
    );
  }

  async status(): Promise<CellStatus> {
    const now = Date.now();
    const ids = new Set([...this.#tenants.keys(), ...this.#modes.keys()]);
    return {
      depths: this.#queues.depths(),
      oldestAgeSeconds: this.#queues.oldestAgeSeconds(now),
      tenants: [...ids].map((tenantId) => {
        const rate = this.#rateOf(tenantId, now);
        const eventsInWindow = Math.round(recentEvents(rate.count, now));
        return { tenantId, mode: this.#modes.get(tenantId) ?? "auto", sidelined: rate.sidelined, eventsInWindow };
      }),
      lowPriorityAfterSeconds: this.#lowPriorityAfterSeconds,
    };
  }

  #rateOf(tenantId: string, now: number): TenantRate {
    let rate = this.#tenants.get(tenantId);
    if (!rate) {
      rate = { count: emptyCount(now), sidelined: this.#modes.get(tenantId) === "on" };
      this.#tenants.set(tenantId, rate);
    } else {
      rate.count = advance(rate.count, now);
    }
    return rate;
  }
}
