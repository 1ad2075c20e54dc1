/**
 * The rule of the admission RATE bound (src/invoke/admission.ts keeps its
 * state and applies it with a token bucket): what rate of admissions the door
 * allows next, from one interval's evidence of the event loop's lag (the
 * queue of events in front of the door) and of the work the isolate
 * completed. Issue 18: the earlier rule refused half the work at 1× where
 * the ungated platform served all of it in time, because
 *
 * - it engaged on a single interval over the lag target (a transient stall:
 *   a GC, the machine's other work) and set the rate below the rate ADMITTED
 *   in it, which a stalled thread reads low;
 * - it cut by up to half per interval for as long as the lag stood over the
 *   target, even a lag that was standing still (a stable queue of 60 ms is
 *   work served well within a client's 1 s), so a load at the isolate's
 *   capacity was cut again and again, down to MIN_RATE;
 * - and it grew back by a tenth per interval (a halved rate took 8 intervals).
 *
 * So, as BBR judges a path by the rate it DELIVERED (and CoDel only acts on
 * a queue that stands for a whole interval):
 *
 * - it engages only after ENGAGE_AFTER consecutive intervals over the target,
 *   while the bound on requests in flight refused in them (an open load: a
 *   closed loop never meets that bound, and a thread slowed by the machine's
 *   other work is not refused into idleness);
 * - a cut is made only while the queue is growing (the smallest lag above
 *   the one of the interval before) or stands past LAG_CEILING_MS; a queue
 *   over the target that is draining or standing still is held, not cut;
 * - a cut is from the rate COMPLETED over the run of intervals over the
 *   target (what the isolate demonstrably serves), by at most a fifth, and
 *   never below half the peak rate completed in the last 2 s;
 * - under the target (or refusing nothing) the rate grows by a quarter per
 *   interval, and is lifted once it is twice what completes.
 *
 * PURE: unit-tested through the limiter in test/unit/admission.unit.test.ts.
 */

/**
 * Event-loop lag above which the isolate's thread is saturated: 50 ms leave a
 * closed loop of 16 clients (bench:invoke; its lag is bounded by the work of
 * 16 requests) alone, while an open-loop overload, whose lag grows without
 * bound, is caught within a few intervals.
 */
export const LAG_TARGET_MS = 50;
/** A queue of events standing past this is cut even when it is not growing (a tenth of a 1 s client timeout). */
export const LAG_CEILING_MS = 100;
/** Consecutive intervals over LAG_TARGET_MS before the rate bound engages: one late interval is a stall, not a load. */
export const ENGAGE_AFTER = 3;
/** The deepest cut in one interval (a fraction of the rate that completed). */
export const MAX_CUT = 0.8;
/**
 * The rate bound never goes below this fraction of the highest rate that
 * completed in an interval of the last PEAK_WINDOW_MS (BBR's windowed max of
 * the delivery rate): while the bound binds, what completes is what it
 * admits, so cuts from the rate completed alone compound (a loaded run cut a
 * load the ungated platform served to MIN_RATE); with the floor a lag that
 * stands whatever is cut (the machine's other work) halves the rate at most
 * once per window.
 */
export const PEAK_FLOOR = 0.5;
export const PEAK_WINDOW_MS = 2_000;
/** The gentlest cut. */
const MIN_CUT = 0.95;
/** Growth per interval once the lag is under the target. */
export const RATE_GROWTH = 1.25;
/** The admission rate bound never goes below this (per second): some work always gets through. */
export const MIN_RATE = 5;
/** Past this (per second) the rate bound is lifted. */
const MAX_RATE = 100_000;

/** One lag interval's evidence. */
export interface LagEvidence {
  /** The smallest lag of this interval (ms). */
  lagMin: number;
  /** The smallest lag of the interval before (Infinity when there was none). */
  previousLagMin: number;
  /** Consecutive intervals, this one included, whose smallest lag exceeded LAG_TARGET_MS. */
  overStreak: number;
  /** The bound on requests in flight refused work during that streak. */
  boundRefused: boolean;
  /** Requests refused in this interval, by any rule. */
  refused: number;
  /** Invocations completed per second over the streak (this interval alone when it is under the target). */
  completedRate: number;
  /** Invocations completed per second in this interval alone. */
  intervalCompletedRate: number;
  /** The highest per-interval completion rate of the last PEAK_WINDOW_MS. */
  peakCompletedRate: number;
}

/** The admission rate after an interval with `evidence`, from `rate` (Infinity: not bound). */
export function nextRate(rate: number, evidence: LagEvidence): number {
  const { lagMin, previousLagMin, overStreak, boundRefused, refused, completedRate, intervalCompletedRate, peakCompletedRate } = evidence;
  const floor = Math.max(MIN_RATE, peakCompletedRate * PEAK_FLOOR);
  const engaged = rate !== Number.POSITIVE_INFINITY;
  const over = lagMin > LAG_TARGET_MS;
  // The queue in front of the door is growing, or stands too long: admit less than completes.
  const cut = over && (lagMin > previousLagMin || lagMin > LAG_CEILING_MS);
  const factor = Math.max(MAX_CUT, Math.min(MIN_CUT, LAG_TARGET_MS / Math.max(1, lagMin)));
  if (!engaged) {
    if (cut && overStreak >= ENGAGE_AFTER && boundRefused && refused > 0) return Math.max(floor, completedRate * factor);
    return Number.POSITIVE_INFINITY;
  }
  // Once engaged it cuts only while it refuses work: an interval that refused nothing is no overload of ours.
  if (cut && refused > 0) return Math.min(rate, Math.max(floor, Math.min(rate, completedRate) * factor));
  // Over the target but draining or standing still: hold.
  if (over && refused > 0) return rate;
  const next = rate * RATE_GROWTH;
  // No longer binding: lifted.
  if (next > MAX_RATE || (refused === 0 && next > 2 * intervalCompletedRate)) return Number.POSITIVE_INFINITY;
  return next;
}
