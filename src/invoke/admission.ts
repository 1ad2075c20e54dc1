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
 * Fairness: while the isolate is near its bound, a caller already holding
 * at least its share (bound / active callers) is refused first, so a tenant
 * flooding at many times its share cannot take the slots of the others.
 *
 * PURE: no I/O and no clock (callers pass `now` in ms); unit-tested in
 * test/unit/admission.unit.test.ts.
 */

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
/** Per-function baselines remembered; past it they are forgotten (and relearned). */
const MAX_BASELINES = 10_000;

export interface LimiterSettings {
  initial: number;
  min: number;
  max: number;
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
  inFlight: number;
  admitted: number;
  refused: number;
}

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
  #refused = 0;

  constructor(settings: Partial<LimiterSettings> = {}) {
    this.#settings = { initial: INITIAL_LIMIT, min: MIN_LIMIT, max: MAX_LIMIT, ...settings };
    this.#limit = this.#settings.initial;
  }

  /** A ticket for one request of `caller`, or why it is refused now. */
  admit(caller: string, now: number): Ticket | Refusal {
    const mine = this.#byCaller.get(caller) ?? 0;
    if (this.#inFlight >= this.#limit) return this.#refuse("capacity");
    if (this.#inFlight >= this.#limit * FAIR_SHARE_FROM && mine >= this.#fairShare(mine)) return this.#refuse("share");
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
    }
    this.#judge(now);
  }

  stats(): AdmissionStats {
    return { limit: this.#limit, inFlight: this.#inFlight, admitted: this.#admitted, refused: this.#refused };
  }

  #refuse(why: Refusal): Refusal {
    this.#refused++;
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
      if (queue > TARGET_QUEUE_MS && this.#windowPeak >= this.#limit / 2) {
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
