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
 * - on the low-priority queue an old event runs only with one of the
 *   function's backlog slots (counted by the cell's QueueManager), at most
 *   `backlogSlots(reserved)` at once — about half the function's
 *   concurrency — so the old events can never take all of it and new events
 *   are not throttled behind them;
 * - without a slot (or throttled) it waits on the low-priority queue
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
/** Backlog slots of a function without reserved concurrency (its limit is the account's pool). */
export const UNRESERVED_BACKLOG_SLOTS = 10;
/** Share of a function's reserved concurrency the backlog may use at once (the rest stays free for new events). */
export const BACKLOG_SHARE = 0.5;
/** Longest wait of an old event between two tries for a backlog slot. */
export const BACKLOG_RECHECK_MAX_S = 8;
/** A backlog slot is given back after this long even if its holder never reports (a crashed run). */
export const BACKLOG_SLOT_LEASE_MS = 15 * 60_000 + 30_000;

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
  /** Old event on the low-priority queue: run it only with a backlog slot. */
  | { action: "runWithSlot" };

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
  if (d.role === "lowpri") return { action: "runWithSlot" };
  if ((d.role === "shard" || d.role === "sideline") && d.now - d.dueAt > BACKLOG_AGE_MS) return { action: "demote" };
  return { action: "run" };
}

/** How many old events of a function may run at once (never all of its reserved concurrency unless it is 1). */
export function backlogSlots(reservedConcurrency: number | null): number {
  if (reservedConcurrency === null) return UNRESERVED_BACKLOG_SLOTS;
  return Math.max(1, Math.floor(reservedConcurrency * BACKLOG_SHARE));
}

/** Wait before an old event tries again for a slot: 1, 2, 4, 8 s (doubling with its `tries`), capped. */
export function recheckDelaySeconds(tries: number): number {
  return Math.min(2 ** Math.min(Math.max(0, tries), 10), BACKLOG_RECHECK_MAX_S);
}

/** In-flight slots of one function: expiry times (epoch ms) of the leases held. */
export function freeSlot(leases: readonly number[], limit: number, now: number): { granted: boolean; leases: number[] } {
  const live = leases.filter((expiresAt) => expiresAt > now);
  if (live.length >= limit) return { granted: false, leases: live };
  return { granted: true, leases: [...live, now + BACKLOG_SLOT_LEASE_MS] };
}

/** Gives one lease back (the one that would expire first). */
export function releaseSlot(leases: readonly number[], now: number): number[] {
  const live = leases.filter((expiresAt) => expiresAt > now).sort((a, b) => a - b);
  return live.slice(1);
}
