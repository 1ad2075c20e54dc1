/**
 * When a tenant is sidelined to its cell's dedicated queue: a tenant that
 * sends more than FLOOD_MIN_EVENTS in the last SIDELINE_WINDOW_MS and more
 * than FLOOD_SHARE of the cell's events in that time (a retry storm, a
 * runaway loop, a burst far over its concurrency) goes to the sideline queue,
 * so its backlog cannot delay the other tenants' shards. It comes back when
 * its rate falls under half the threshold. Operators can force either state.
 *
 * "The last SIDELINE_WINDOW_MS" is a sliding-window estimate (the previous
 * fixed window's count, weighted by how much of it still overlaps, plus the
 * current one's), so a steady flood does not look like a fresh start at
 * every window boundary.
 */
export const SIDELINE_WINDOW_MS = 10_000;
export const FLOOD_MIN_EVENTS = 200;
export const FLOOD_SHARE = 0.5;

export type SidelineMode = "auto" | "on" | "off";

/** Event counts of two consecutive fixed windows; `start` opens the current one. */
export interface SlidingCount {
  start: number;
  current: number;
  previous: number;
}

export function emptyCount(now: number): SlidingCount {
  return { start: now, current: 0, previous: 0 };
}

/** Rolls the windows forward to `now` (windows stay aligned to the first start). */
export function advance(count: SlidingCount, now: number, windowMs = SIDELINE_WINDOW_MS): SlidingCount {
  const elapsed = now - count.start;
  if (elapsed < windowMs) return count;
  if (elapsed < 2 * windowMs) return { start: count.start + windowMs, current: 0, previous: count.current };
  return { start: now - (elapsed % windowMs), current: 0, previous: 0 };
}

/** Events in the `windowMs` before `now`, estimated from the two windows. */
export function recentEvents(count: SlidingCount, now: number, windowMs = SIDELINE_WINDOW_MS): number {
  const c = advance(count, now, windowMs);
  const overlap = Math.max(0, 1 - (now - c.start) / windowMs);
  return c.current + c.previous * overlap;
}

export interface TenantRate {
  /** Events the tenant sent in the last window (see recentEvents). */
  events: number;
  /** Events the whole cell received in the same time. */
  cellEvents: number;
  /** Whether it is sidelined now. */
  sidelined: boolean;
}

export function shouldSideline(mode: SidelineMode, rate: TenantRate): boolean {
  if (mode === "on") return true;
  if (mode === "off") return false;
  if (rate.sidelined) return rate.events >= FLOOD_MIN_EVENTS / 2;
  return rate.events > FLOOD_MIN_EVENTS && rate.events > FLOOD_SHARE * rate.cellEvents;
}

/** Best-of-two: of two distinct candidates drawn at random, the shallower (ties: the first drawn). */
export function bestOfTwo(candidates: readonly string[], depth: (queue: string) => number, random: () => number): string {
  if (candidates.length === 0) throw new RangeError("no candidate queues");
  const first = Math.floor(random() * candidates.length);
  if (candidates.length === 1) return candidates[first] ?? candidates[0] ?? "";
  let second = Math.floor(random() * (candidates.length - 1));
  if (second >= first) second += 1;
  const a = candidates[first] ?? "";
  const b = candidates[second] ?? "";
  return depth(b) < depth(a) ? b : a;
}
