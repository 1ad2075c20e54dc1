/**
 * Backlog mode: after a surge, serve new events first and drain the old ones
 * behind them. PURE: no I/O, no clock (callers pass `now`), unit-tested in
 * test/unit/async-backlog.unit.test.ts.
 *
 * Why: with plain FIFO queues a surge leaves a backlog that every new event
 * queues behind (and, once throttled, backs off behind), so new events stay
 * late until the whole backlog is gone. Serving new work first (a LIFO-like
 * priority) brings new events back to their normal latency at once, while
 * the old events — already late — drain with the capacity new work leaves.
 *
 * How, on the queues that exist (no new queue or binding):
 * - an event found on a shard or sideline queue more than BACKLOG_AGE_MS after
 *   it was due (accepted, or its retry's or backoff's delay over; a new event
 *   is delivered in well under that: a batch, an invoke) waited behind a
 *   backlog and is part of it: it moves to the cell's low-priority queue, so
 *   the shard queues stay short and new events reach the function without
 *   waiting behind it;
 * - on the low-priority queue an old event runs only on concurrency new
 *   events leave idle: its lease is a backlog lease, which the function's
 *   AssignmentPartition grants only while the new events' recent peak in
 *   flight, and one slot more, stays free (admitBacklog in
 *   src/invoke/partition-rules.ts); so the old events drain as fast as the
 *   new ones allow (all but one slot when none come, at least one slot
 *   always) and new events are not throttled behind them; a new event that
 *   finds the reservation full while backlog leases run is handed the next
 *   freed slot rather than throttled (AsyncLane "new", same file);
 * - refused (or throttled) it waits on the low-priority queue
 *   (recheckDelaySeconds) and tries again, until MaximumEventAgeInSeconds:
 *   then it fails with EventAgeExceeded to its failure destination, as
 *   before. Nothing is dropped.
 *
 * Automatic per function (no setting to turn on: a function is in a backlog
 * exactly while it has old events), on by default; the operator can turn it
 * off for the platform with ASYNC_BACKLOG_MODE = "off" (FIFO, as before,
 * npm run bench:backlog compares the two).
 */

/** An event delivered this long after it was accepted is backlog (new ones take well under 1 s here). */
export const BACKLOG_AGE_MS = 2_000;
/** Longest wait of an old event between two tries for a backlog lease. */
export const BACKLOG_RECHECK_MAX_S = 8;

export type BacklogMode = "on" | "off";

/** ASYNC_BACKLOG_MODE: anything but "off" is on. */
export function backlogMode(value: string | undefined): BacklogMode {
  return value === "off" ? "off" : "on";
}

export type BacklogStep =
  /** Run it now (a new event, or mode off: the old behaviour). */
  | { action: "run" }
  /** Old event on a shard or sideline queue: move it to the low-priority queue (no delay). */
  | { action: "demote" }
  /** Old event on the low-priority queue: run it only on idle concurrency (a backlog lease). */
  | { action: "runOnIdle" };

export interface Delivery {
  mode: BacklogMode;
  /** Role of the queue it came from. */
  role: "shard" | "sideline" | "lowpri" | "dlq" | undefined;
  /**
   * Epoch ms from which the message was due: its acceptance, or when its
   * retry's or throttle backoff's delay ended. Not the acceptance alone: an
   * event throttled once and delayed by its own backoff did not wait behind a
   * backlog, and sending it to the back of the old events' lane held new
   * events for minutes (bench:backlog of 2026-12-05: p99 of the events after
   * the surge 586 s).
   */
  dueAt: number;
  now: number;
}

/** What the poller does with an event it was handed (expiry is checked before this). */
export function backlogStep(d: Delivery): BacklogStep {
  if (d.mode === "off") return { action: "run" };
  if (d.role === "lowpri") return { action: "runOnIdle" };
  if ((d.role === "shard" || d.role === "sideline") && d.now - d.dueAt > BACKLOG_AGE_MS) return { action: "demote" };
  return { action: "run" };
}

/** Wait before an old event tries again for a backlog lease: 1, 2, 4, 8 s (doubling with its `tries`), capped. */
export function recheckDelaySeconds(tries: number): number {
  return Math.min(2 ** Math.min(Math.max(0, tries), 10), BACKLOG_RECHECK_MAX_S);
}
