/**
 * When a tenant is sidelined to its cell's dedicated queue: a tenant that
 * sends more than FLOOD_MIN_EVENTS in SIDELINE_WINDOW_MS and more than
 * FLOOD_SHARE of the cell's events in that window (a retry storm, a runaway
 * loop, a burst far over its concurrency) goes to the sideline queue, so its
 * backlog cannot delay the other tenants' shards. It comes back when its rate
 * falls under half the threshold. Operators can force either state.
 */
export const SIDELINE_WINDOW_MS = 10_000;
export const FLOOD_MIN_EVENTS = 200;
export const FLOOD_SHARE = 0.5;

export type SidelineMode = "auto" | "on" | "off";

export interface TenantRate {
  /** Events the tenant sent in the current window. */
  events: number;
  /** Events the whole cell received in the same window. */
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
