/**
 * Admission control for synchronous invokes: shed excess work at the door,
 * before it costs anything, so that past the tipping point the work that is
 * admitted still finishes in time (goodput stays flat) instead of every
 * request slowing down until clients give up on all of them.
 *
 * One limiter per frontend isolate (the isolate's own CPU is what queues).
 * It bounds the invocations in flight in the isolate, and adapts the bound
 * from the queueing it sees, as CoDel judges a queue by its sojourn time:
 * the time from admission until the handler starts (auth, metadata, lease,
 * loading) is platform work only, so it does not grow with a handler that
 * is merely slow, but it grows when the isolate is saturated. When the
 * smallest sojourn of an interval is above TARGET_SOJOURN_MS there is a
 * standing queue and the bound shrinks multiplicatively; when the bound was
 * reached and the queue stayed short, it grows. A refused request costs a
 * counter check and a 429 the SDKs back off from.
 *
 * Fairness: while the isolate is near its bound, a tenant already holding
 * more than its share (bound / active tenants) is refused first, so a tenant
 * flooding at many times its share cannot take the slots of the others.
 *
 * PURE: no I/O and no clock (callers pass `now` in ms); unit-tested in
 * test/unit/admission.unit.test.ts.
 */

/** Sojourn (admission → handler start) above which a queue is standing (CoDel's target, scaled to this path). */
export const TARGET_SOJOURN_MS = 25;
/** How often the bound is judged (CoDel's interval). */
export const INTERVAL_MS = 100;
export const INITIAL_LIMIT = 200;
/** Never fewer: enough for a saturated isolate to stay busy, and for bursts of a few parallel calls. */
export const MIN_LIMIT = 16;
export const MAX_LIMIT = 2_000;
/** Shrink factor when a queue stands. */
const DECREASE = 0.9;
/** Above this fraction of the bound, tenants over their share are refused. */
const FAIR_SHARE_FROM = 0.8;

export interface Ticket {
  tenantId: string;
  admittedAt: number;
}

export interface AdmissionStats {
  limit: number;
  inFlight: number;
  admitted: number;
  refused: number;
}

export class AdmissionLimiter {
  #limit = INITIAL_LIMIT;
  #inFlight = 0;
  #byTenant = new Map<string, number>();
  #windowStart = 0;
  #windowMinSojourn = Number.POSITIVE_INFINITY;
  #windowPeak = 0;
  #admitted = 0;
  #refused = 0;

  /** A ticket for one invocation of `tenantId`, or null: refuse it now. */
  admit(tenantId: string, now: number): Ticket | null {
    const mine = this.#byTenant.get(tenantId) ?? 0;
    if (this.#inFlight >= this.#limit || (this.#inFlight >= this.#limit * FAIR_SHARE_FROM && mine >= this.#fairShare(mine))) {
      this.#refused++;
      return null;
    }
    this.#inFlight++;
    this.#byTenant.set(tenantId, mine + 1);
    this.#windowPeak = Math.max(this.#windowPeak, this.#inFlight);
    this.#admitted++;
    return { tenantId, admittedAt: now };
  }

  /** The handler is about to start: the ticket's sojourn is a sample of the queue. */
  started(ticket: Ticket, now: number): void {
    this.#windowMinSojourn = Math.min(this.#windowMinSojourn, now - ticket.admittedAt);
    this.#judge(now);
  }

  /** The invocation is over (answered, failed or abandoned). */
  finished(ticket: Ticket, now: number): void {
    this.#inFlight--;
    const left = (this.#byTenant.get(ticket.tenantId) ?? 1) - 1;
    if (left <= 0) this.#byTenant.delete(ticket.tenantId);
    else this.#byTenant.set(ticket.tenantId, left);
    this.#judge(now);
  }

  stats(): AdmissionStats {
    return { limit: this.#limit, inFlight: this.#inFlight, admitted: this.#admitted, refused: this.#refused };
  }

  /** The tenant's share of the bound; a tenant that is the only one active has all of it. */
  #fairShare(mine: number): number {
    const active = this.#byTenant.size + (mine === 0 ? 1 : 0);
    return Math.max(1, Math.floor(this.#limit / active));
  }

  #judge(now: number): void {
    if (now - this.#windowStart < INTERVAL_MS) return;
    const sampled = this.#windowMinSojourn !== Number.POSITIVE_INFINITY;
    if (sampled && this.#windowMinSojourn > TARGET_SOJOURN_MS) {
      this.#limit = Math.max(MIN_LIMIT, Math.floor(this.#limit * DECREASE));
    } else if (sampled && this.#windowPeak >= this.#limit - 1) {
      // The bound was what held work back, and the queue stayed short: more fits.
      this.#limit = Math.min(MAX_LIMIT, this.#limit + Math.max(1, Math.floor(this.#limit * 0.05)));
    }
    this.#windowStart = now;
    this.#windowMinSojourn = Number.POSITIVE_INFINITY;
    this.#windowPeak = this.#inFlight;
  }
}
