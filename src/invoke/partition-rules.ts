/**
 * Pure rules of the assignment partition (src/invoke/assignment-partition.ts):
 * which warm environment a lease gets and when environments and leases expire
 * (provisioned environments: src/invoke/provisioned-rules.ts).
 */

/** An execution environment: one Dynamic Worker id, one invocation at a time. */
export interface Environment {
  id: string;
  /** `<version>@<revisionId>`: code and configuration the isolate was built from. */
  versionKey: string;
  /** X-Amz-Tenant-Id for PER_TENANT functions, "" otherwise. */
  isolationKey: string;
  busy: boolean;
  lastUsedAt: number;
  /**
   * Provisioned concurrency: the alias or version whose config keeps this
   * environment initialised (src/invoke/provisioned-pool.ts). Such an
   * environment never idles out and is leased only once `ready`.
   */
  provisioned?: string;
  /** A provisioned environment whose init phase has run. */
  ready?: boolean;
  /** Taken out of a provisioned pool while busy: retired when its lease ends. */
  retiring?: boolean;
}

/** How long an idle environment stays warm before it is forgotten. */
export const ENV_IDLE_MS = 10 * 60_000;
/** Extra time a lease lives past the function timeout before it is reclaimed as abandoned. */
export const LEASE_GRACE_MS = 30_000;

/**
 * The idle environment to reuse: same code and same isolation key, most
 * recently used first so a few environments stay hot instead of many lukewarm.
 */
export function pickIdle(envs: Iterable<Environment>, versionKey: string, isolationKey: string, now: number): Environment | undefined {
  let best: Environment | undefined;
  for (const env of envs) {
    if (env.busy || env.provisioned !== undefined || env.versionKey !== versionKey || env.isolationKey !== isolationKey) continue;
    if (now - env.lastUsedAt > ENV_IDLE_MS) continue;
    if (!best || env.lastUsedAt > best.lastUsedAt) best = env;
  }
  return best;
}

/** Idle environments past their idle time. */
export function expiredIdle(envs: Iterable<Environment>, now: number): Environment[] {
  return [...envs].filter((e) => !e.busy && e.provisioned === undefined && now - e.lastUsedAt > ENV_IDLE_MS);
}

/** The partition name of a function (`<tenantId>/<name>`), and the prefix of its environment ids. */
export function functionKey(tenantId: string, name: string): string {
  return `${tenantId}/${name}`;
}

/** The Worker Loader id of a new environment; unique per function, code, isolation key and sequence. */
export function environmentId(functionKey: string, versionKey: string, isolationKey: string, sequence: number): string {
  const iso = isolationKey === "" ? "-" : encodeURIComponent(isolationKey);
  return `${functionKey}/${versionKey}/${iso}/${sequence}`;
}

export type ThrottleReason = "ReservedFunctionConcurrentInvocationLimitExceeded" | "ConcurrentInvocationLimitExceeded";

/** Whether one more invocation may start given what is in flight. */
export function admitReserved(inFlight: number, reserved: number): ThrottleReason | null {
  return inFlight >= reserved ? "ReservedFunctionConcurrentInvocationLimitExceeded" : null;
}

/**
 * Backlog leases (async backlog mode, src/async/backlog.ts): an old event runs
 * only on concurrency that new events leave idle. The partition keeps, for the
 * new (non-backlog) leases, their recent peak in flight (PeakHold), and grants
 * a backlog lease only while, after it, the new ones still have one slot more
 * than that peak free. A fixed share of the reserved concurrency did not work:
 * at half of it, new events at half of the function's capacity were throttled
 * (and backed off ≥ 1 s) on their half while old events kept the other
 * (bench:backlog, 2026-12-05).
 */

/**
 * The async lane of a lease request in backlog mode, and how each waits in
 * the partition instead of being refused at once (an async event has no
 * client waiting on a 429: a refusal only sends it back to its queue):
 * - "new", a new event: when the reservation is full it waits up to
 *   NEW_EVENT_WAIT_MS for the next lease to end, first in line, instead of a
 *   throttle and a queue backoff of ≥ 1 s. Waiting only for the slots backlog
 *   leases held left new events' own bursts (queue batches arriving together)
 *   to that backoff (traced in bench:backlog, 2026-12-05).
 * - "old", an event of the backlog: granted only from idle concurrency
 *   (admitBacklog); when there is none it waits up to BACKLOG_WAIT_MS for a
 *   lease to end while no new event waits, then is deferred (BacklogDeferred)
 *   and rechecks from its queue. Refused at once, the backlog's thousands of
 *   events came back every few seconds each (≈ 200 rechecks a second on the
 *   low-priority queue, 2026-12-05), and that churn cost the new events the
 *   CPU they needed.
 * Sync invokes and mode off: refused at once, as on AWS.
 */
export type AsyncLane = "old" | "new";

/** Longest wait of a new async event for a slot (then it is throttled and backs off as before). */
export const NEW_EVENT_WAIT_MS = 2_000;

/** Longest wait of an old event for idle concurrency (then it is deferred and rechecks from its queue). */
export const BACKLOG_WAIT_MS = 5_000;

/** How long a peak of new leases in flight is remembered: long enough to cover their bursts (a queue batch). */
export const NEW_PEAK_HOLD_MS = 5_000;
/** Backlog leases of a function without reserved concurrency at once (its limit is the tenant's pool, shared). */
export const UNRESERVED_BACKLOG_LEASES = 10;

/** The highest count seen since `at`; a peak older than NEW_PEAK_HOLD_MS gives way to the current count. */
export interface PeakHold {
  value: number;
  at: number;
}

/** The peak after the count changed to `current` at `now`. */
export function holdPeak(peak: PeakHold, current: number, now: number): PeakHold {
  if (current >= peak.value || now - peak.at > NEW_PEAK_HOLD_MS) return { value: current, at: now };
  return peak;
}

/** Whether one more backlog lease may start, given the leases in flight and the new ones' recent peak. */
export function admitBacklog(f: { reserved: number | null; newInFlight: number; backlogInFlight: number; newPeak: number }): boolean {
  if (f.reserved === null) return f.backlogInFlight < UNRESERVED_BACKLOG_LEASES;
  // Slots kept for new events: their peak and one more, but never all: the
  // backlog always gets one slot when every other is idle, so it drains.
  const keep = Math.min(f.reserved - 1, Math.max(f.newInFlight, f.newPeak) + 1);
  return f.newInFlight + f.backlogInFlight < f.reserved && f.backlogInFlight < f.reserved - keep;
}
