/**
 * Admission control for invokes: shed excess work at the door, before it
 * costs anything, so that past the tipping point the work that is admitted
 * still finishes in time (goodput stays flat) instead of every request
 * slowing down until clients give up on all of them.
 *
 * One limiter per frontend isolate (the isolate's own CPU is what queues).
 * It bounds the requests in flight in the isolate, counted from the moment
 * the request reaches the isolate (before authentication and before its
 * body is read: src/invoke/door.ts), and adapts the bound with an AIMD rule
 * in the manner of TCP Vegas / Netflix's concurrency-limits `VegasLimit`:
 *
 * - Queueing delay is measured at COMPLETION: a request's end-to-end time in
 *   the isolate (arrival → invocation over, both read after I/O, so both are
 *   true times even though a Worker's clock only moves on I/O) minus the
 *   no-load time of the same function (Vegas's rttNoLoad, kept per function
 *   as the smallest end-to-end time of the last BASELINE_WINDOW_MS). So a
 *   slow handler is not mistaken for a queue; waiting behind other requests
 *   for the isolate's CPU, its I/O or a lease is.
 * - Every INTERVAL_MS (once it holds MIN_SAMPLES) the smallest queueing delay
 *   of the interval is judged, as CoDel judges a queue (if even the luckiest
 *   of several requests waited, the queue is standing): above TARGET_QUEUE_MS, when the requests in flight came
 *   within half of the bound, it shrinks in proportion to the excess (never
 *   below half, never below MIN_LIMIT); at or under it, when the
 *   bound was reached in the interval (it is what held work back), it grows.
 *
 * By Little's law the bound is then about the isolate's completion rate ×
 * (no-load time + TARGET_QUEUE_MS): what it can finish within the target.
 * A refused request costs a counter check and a 429 the SDKs back off from.
 *
 * The thread in front of the door: a bound on requests in flight does not
 * keep the isolate's thread from saturating (its handlers are CPU-bound, and
 * each completion admits the next request at once), and once it saturates
 * the queue forms IN FRONT of the door, in the sockets and in wrangler dev's
 * proxy (a separate workerd process): a request waits there before the door
 * can even refuse it, and the completion-time signal above sees none of it.
 * So the door also measures the event loop's lag (a zero-delay timer set at
 * T runs at T + lag; a Worker's clock is true at the start of each event, so
 * the lag is real) and bounds the RATE of admissions by it, judged every
 * INTERVAL_MS by the rule in src/invoke/lag-rate.ts: it engages after a few
 * consecutive intervals whose smallest lag exceeds LAG_TARGET_MS (a standing
 * queue of events, CoDel's test) while the bound on requests in flight
 * refused work, cuts (by at most a fifth of the rate COMPLETED) only while
 * that queue grows or stands past a ceiling, holds while it drains, and grows
 * by a quarter per interval under the target until it no longer binds.
 * While it is engaged the bound on requests in flight does not shrink: both
 * would be answering the one saturated thread, and the cuts compounded.
 * A token bucket of one interval's worth applies it. Admitted work then
 * leaves the thread idle time, so refusals reach the door promptly.
 *
 * Fairness: while the isolate is near its bound, a caller already holding
 * at least its share (bound / active callers) is refused first, so a tenant
 * flooding at many times its share cannot take the slots of the others. The
 * same holds under the rate bound: while its bucket is below half, a caller
 * holding at least an equal split of the requests in flight (among two or
 * more callers) is refused first. And a caller under its share while others
 * hold the rest is admitted up to FAIR_HEADROOM past the bound and the bucket
 * (the bucket goes into debt that the others pay back): a flood that filled
 * the bound while the victim had nothing in flight would keep it out otherwise
 * (only callers the door names from a key it authenticated before: `mayBorrow`).
 *
 * PURE: no I/O and no clock (callers pass `now` in ms); unit-tested in
 * test/unit/admission.unit.test.ts.
 */

import { LAG_TARGET_MS, MIN_RATE, nextRate, PEAK_WINDOW_MS } from "./lag-rate";

export { LAG_TARGET_MS, MIN_RATE };

/**
 * Queueing delay above which a queue is standing (CoDel's target). A tenth
 * of the 1 s a client such as bench:goodput's gives a request: 20 ms shed a
 * closed-loop load of 16 clients (bench:invoke) that Lambda would serve, on
 * a machine where 16 requests in flight wait about 40 ms for the CPU.
 */
export const TARGET_QUEUE_MS = 100;
/** How often the bound is judged (CoDel's interval). */
export const INTERVAL_MS = 100;
/** Completions an interval needs to be judged: one request is no evidence of a standing queue. */
export const MIN_SAMPLES = 3;
/** An interval that gathered fewer samples than this long is dropped unjudged. */
const MAX_INTERVAL_MS = 10 * INTERVAL_MS;
/** How long a function's no-load time is remembered (a windowed minimum, as BBR's min_rtt). */
export const BASELINE_WINDOW_MS = 10_000;
export const INITIAL_LIMIT = 64;
/** Never fewer: enough to keep a saturated isolate busy across its I/O waits. */
export const MIN_LIMIT = 6;
export const MAX_LIMIT = 2_000;
/** Above this fraction of the bound, callers holding their share are refused. */
export const FAIR_SHARE_FROM = 0.75;
/**
 * How far past the bound (a fraction of it, or of the rate bucket's burst)
 * a caller under its share is still admitted while other callers hold the
 * rest: without it a flood that filled the bound (or drained the bucket)
 * while the victim had nothing in flight keeps the victim out for good.
 */
export const FAIR_HEADROOM = 0.25;
/** Per-function baselines remembered; past it they are forgotten (and relearned). */
const MAX_BASELINES = 10_000;

export interface LimiterSettings {
  initial: number;
  min: number;
  max: number;
  /** Bound the admission rate by the event loop's lag (off: the bound on requests in flight alone decides; tests). */
  lagBound: boolean;
}

export interface Ticket {
  readonly caller: string;
  readonly arrivedAt: number;
  done: boolean;
}

/** Why a request was refused: the isolate is at its bound, or the caller holds its share of a nearly full one. */
export type Refusal = "capacity" | "share";

export interface AdmissionStats {
  limit: number;
  /** Admissions per second allowed now (Infinity while the event loop keeps up). */
  rate: number;
  inFlight: number;
  admitted: number;
  refused: number;
  /** Refusals by the rule that refused: the bound on requests in flight, a share of it, the rate bucket, a split under the rate bound. */
  refusedBy: Record<RefusedBy, number>;
  /** Times the rate bound engaged (went from lifted to bound). */
  rateEngaged: number;
  /** The smallest event-loop lag of the last judged interval (ms). */
  lastLagMin: number;
}

/** Which rule refused (stats only; the caller sees a `Refusal`). */
export type RefusedBy = "bound" | "share" | "rate" | "rateShare";

interface Baseline {
  /** Smallest time of the current half-window and of the one before. */
  current: number;
  previous: number;
  since: number;
}

export class AdmissionLimiter {
  readonly #settings: LimiterSettings;
  #limit: number;
  #inFlight = 0;
  #byCaller = new Map<string, number>();
  #baselines = new Map<string, Baseline>();
  #windowStart = Number.NEGATIVE_INFINITY;
  #windowMinQueue = Number.POSITIVE_INFINITY;
  #windowSamples = 0;
  #windowPeak = 0;
  #admitted = 0;
  #refusedBy: Record<RefusedBy, number> = { bound: 0, share: 0, rate: 0, rateShare: 0 };
  #rateEngaged = 0;
  #rate = Number.POSITIVE_INFINITY;
  #tokens = 0;
  #tokensAt = 0;
  #lagStart = Number.NEGATIVE_INFINITY;
  #lagMin = Number.POSITIVE_INFINITY;
  #lagSamples = 0;
  #lagPreviousMin = Number.POSITIVE_INFINITY;
  #lagBoundRefused = 0;
  #lagRefused = 0;
  /** Invocations completed in this lag interval, and over the current run of intervals over LAG_TARGET_MS. */
  #lagCompleted = 0;
  #overStreak = 0;
  #streakStart = 0;
  #streakCompleted = 0;
  #streakBoundRefused = false;
  /** Windowed max of the per-interval completion rate over two half-windows of PEAK_WINDOW_MS / 2 (as the no-load baseline). */
  #peak = { current: 0, previous: 0, since: 0 };

  constructor(settings: Partial<LimiterSettings> = {}) {
    this.#settings = { initial: INITIAL_LIMIT, min: MIN_LIMIT, max: MAX_LIMIT, lagBound: true, ...settings };
    this.#limit = this.#settings.initial;
  }

  /**
   * A ticket for one request of `caller`, or why it is refused now.
   * `mayBorrow`: the caller's name is known good (the door: a tenant whose key it has
   * authenticated before), so it may use FAIR_HEADROOM; a name any request can claim
   * (an unknown key id) may not, or forged names would take the headroom.
   */
  admit(caller: string, now: number, mayBorrow = true): Ticket | Refusal {
    const mine = this.#byCaller.get(caller) ?? 0;
    const others = this.#byCaller.size - (mine > 0 ? 1 : 0);
    // A caller under its share while another holds the rest (a victim beside a flood that filled the
    // bound or drained the bucket before the victim's request came) may exceed them by FAIR_HEADROOM.
    const underShare = mayBorrow && others > 0 && mine < this.#fairShare(mine);
    if (this.#inFlight >= this.#limit && !(underShare && this.#inFlight < this.#limit * (1 + FAIR_HEADROOM))) return this.#refuseAtBound("capacity", "bound");
    if (this.#inFlight >= this.#limit * FAIR_SHARE_FROM && mine >= this.#fairShare(mine)) return this.#refuseAtBound("share", "share");
    if (this.#rate !== Number.POSITIVE_INFINITY) {
      const burst = this.#burst();
      this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) * this.#rate) / 1000);
      this.#tokensAt = now;
      // The bucket may go into debt by FAIR_HEADROOM of a burst for callers under their share; the callers over it pay the debt back.
      if (this.#tokens < 1 && !(underShare && this.#tokens > 1 - burst * FAIR_HEADROOM)) return this.#refuse("capacity", "rate");
      if (this.#tokens < burst / 2 && others > 0 && mine > 0 && mine >= this.#inFlight / (others + 1)) return this.#refuse("share", "rateShare");
      this.#tokens--;
    }
    this.#inFlight++;
    this.#byCaller.set(caller, mine + 1);
    this.#windowPeak = Math.max(this.#windowPeak, this.#inFlight);
    this.#admitted++;
    return { caller, arrivedAt: now, done: false };
  }

  /**
   * The request is over. `work` names what it ran (tenant and function) when
   * it was an invocation that ran to its end, whose time is a sample of the
   * queue; requests that ended otherwise (refused by auth or by a lease, a
   * bad parameter) give no sample, as concurrency-limits ignores them. Idempotent.
   */
  complete(ticket: Ticket, now: number, work?: string): void {
    if (ticket.done) return;
    ticket.done = true;
    this.#inFlight--;
    const left = (this.#byCaller.get(ticket.caller) ?? 1) - 1;
    if (left <= 0) this.#byCaller.delete(ticket.caller);
    else this.#byCaller.set(ticket.caller, left);
    if (work !== undefined) {
      const took = Math.max(0, now - ticket.arrivedAt);
      this.#windowMinQueue = Math.min(this.#windowMinQueue, took - this.#baseline(work, took, now));
      this.#windowSamples++;
      this.#lagCompleted++;
    }
    this.#judge(now);
  }

  /**
   * One sample of the event loop's lag (ms a zero-delay timer waited past its
   * time), read at `now`. Judges the rate bound every INTERVAL_MS.
   */
  loopLag(lag: number, now: number): void {
    if (!this.#settings.lagBound) return;
    if (this.#lagSamples === 0 && this.#lagStart === Number.NEGATIVE_INFINITY) {
      this.#lagStart = now;
      this.#lagCompleted = 0;
    }
    this.#lagMin = Math.min(this.#lagMin, Math.max(0, lag));
    this.#lagSamples++;
    const age = now - this.#lagStart;
    if (age < INTERVAL_MS) return;
    const engaged = this.#rate !== Number.POSITIVE_INFINITY;
    if (this.#lagMin > LAG_TARGET_MS) {
      if (this.#overStreak === 0) {
        this.#streakStart = this.#lagStart;
        this.#streakCompleted = 0;
        this.#streakBoundRefused = false;
      }
      this.#overStreak++;
      this.#streakCompleted += this.#lagCompleted;
      this.#streakBoundRefused ||= this.#lagBoundRefused > 0;
    } else {
      this.#overStreak = 0;
    }
    const over = this.#overStreak > 0;
    const intervalRate = (this.#lagCompleted * 1000) / age;
    if (now - this.#peak.since >= PEAK_WINDOW_MS / 2) this.#peak = { current: 0, previous: this.#peak.current, since: now };
    this.#peak.current = Math.max(this.#peak.current, intervalRate);
    const next = nextRate(this.#rate, {
      lagMin: this.#lagMin,
      previousLagMin: this.#lagPreviousMin,
      overStreak: this.#overStreak,
      boundRefused: this.#streakBoundRefused,
      refused: this.#lagRefused,
      completedRate: over ? (this.#streakCompleted * 1000) / Math.max(1, now - this.#streakStart) : intervalRate,
      intervalCompletedRate: intervalRate,
      peakCompletedRate: Math.max(this.#peak.current, this.#peak.previous),
    });
    if (!engaged && next !== Number.POSITIVE_INFINITY) {
      this.#rateEngaged++;
      this.#tokens = Math.min(1, (next * INTERVAL_MS) / 1000);
      this.#tokensAt = now;
    }
    this.#rate = next;
    this.#lagPreviousMin = this.#lagMin;
    this.#lagStart = now;
    this.#lagMin = Number.POSITIVE_INFINITY;
    this.#lagSamples = 0;
    this.#lagBoundRefused = 0;
    this.#lagRefused = 0;
    this.#lagCompleted = 0;
  }

  stats(): AdmissionStats {
    return {
      limit: this.#limit,
      rate: this.#rate,
      inFlight: this.#inFlight,
      admitted: this.#admitted,
      refused: Object.values(this.#refusedBy).reduce((sum, n) => sum + n, 0),
      refusedBy: { ...this.#refusedBy },
      rateEngaged: this.#rateEngaged,
      lastLagMin: Number.isFinite(this.#lagPreviousMin) ? this.#lagPreviousMin : 0,
    };
  }

  /** The bucket holds one interval's worth of admissions (at least one). */
  #burst(): number {
    return Math.max(1, (this.#rate * INTERVAL_MS) / 1000);
  }

  /** Refused by the bound on requests in flight: the evidence of overload the rate bound needs to engage. */
  #refuseAtBound(why: Refusal, by: RefusedBy): Refusal {
    this.#lagBoundRefused++;
    return this.#refuse(why, by);
  }

  #refuse(why: Refusal, by: RefusedBy): Refusal {
    this.#refusedBy[by]++;
    this.#lagRefused++;
    return why;
  }

  /** The caller's share of the bound; a caller that is the only one active has all of it. */
  #fairShare(mine: number): number {
    const active = this.#byCaller.size + (mine === 0 ? 1 : 0);
    return Math.max(1, Math.floor(this.#limit / active));
  }

  /** The function's no-load time, learning from `took` (a windowed minimum over two half-windows). */
  #baseline(work: string, took: number, now: number): number {
    let b = this.#baselines.get(work);
    if (!b) {
      if (this.#baselines.size >= MAX_BASELINES) this.#baselines.clear();
      b = { current: took, previous: Number.POSITIVE_INFINITY, since: now };
      this.#baselines.set(work, b);
    }
    if (now - b.since >= BASELINE_WINDOW_MS / 2) {
      b.previous = b.current;
      b.current = Number.POSITIVE_INFINITY;
      b.since = now;
    }
    b.current = Math.min(b.current, took);
    return Math.min(b.current, b.previous);
  }

  #judge(now: number): void {
    const age = now - this.#windowStart;
    if (age < INTERVAL_MS || (this.#windowSamples < MIN_SAMPLES && age < MAX_INTERVAL_MS)) return;
    const queue = this.#windowMinQueue;
    const { min, max } = this.#settings;
    if (this.#windowSamples >= MIN_SAMPLES) {
      // While the rate bound is engaged it is what acts on the thread's saturation, which this queue
      // also measures: shrinking both for the one cause compounded into refusing work that completes.
      if (queue > TARGET_QUEUE_MS && this.#windowPeak >= this.#limit / 2 && this.#rate === Number.POSITIVE_INFINITY) {
        // A standing queue that the requests admitted may be causing (they came
        // near the bound; far below it, something else slows the isolate and
        // refusing would not help): shrink in proportion to how far past the target it stands.
        const factor = Math.max(0.5, Math.min(0.9, TARGET_QUEUE_MS / queue));
        this.#limit = Math.max(min, Math.floor(this.#limit * factor));
      } else if (this.#windowPeak >= this.#limit) {
        // The bound was what held work back, and the queue stayed short: more fits.
        this.#limit = Math.min(max, this.#limit + Math.max(1, Math.floor(this.#limit * 0.05)));
      }
    }
    this.#windowStart = now;
    this.#windowMinQueue = Number.POSITIVE_INFINITY;
    this.#windowSamples = 0;
    this.#windowPeak = this.#inFlight;
  }
}
