/**
 * Leases kept by the frontend isolate for a moment after an invocation, so
 * the next warm invocation of the same function here reuses the lease — its
 * environment and concurrency slot — without a round trip to the partition
 * Durable Object. A held lease still counts as in flight at the partition,
 * so limits are never exceeded; the cost is that a held slot idles here
 * instead of serving another isolate.
 *
 * How long: while its pool is busy (a lease of it was held or taken within
 * LEASE_LINGER_MS), up to LEASE_LINGER_MAX_MS; once the pool has been quiet
 * for LEASE_LINGER_MS, it is given back. A fixed LEASE_LINGER_MS per lease
 * broke down under CPU load (bench:invoke, issue 10): when the way back to
 * the client and in again took longer than the linger, the next invocation
 * found its lease just released and went to the partition (1 trip per 2
 * invokes at concurrency 16), whose trips cost more CPU, which made the way
 * longer still.
 */

/** How long a pool must be quiet (no lease held or taken) before its held leases are given back. */
export const LEASE_LINGER_MS = 200;
/** The longest a lease stays held unused, however busy its pool (a surplus lease after the load dropped). */
export const LEASE_LINGER_MAX_MS = 2_000;
/**
 * A held lease is reused only if it outlives one more full invocation by this
 * much: a warm environment may have been evicted and need its init again
 * (up to the executor's 10 s init deadline), then the log drain, plus clock
 * skew between this isolate and the partition.
 */
export const REUSE_MARGIN_MS = 16_000;

export interface HeldLease {
  leaseId: string;
  environmentId: string;
  /** When the partition will reclaim the lease as abandoned. */
  expiresAt: number;
  /** A provisioned environment (kept when the lease is reused). */
  provisioned?: boolean;
  /** The version has a provisioned concurrency config: its alias or version and its initialised environments (for metrics). */
  provisionedConfig?: { qualifier: string; allocated: number };
}

interface Entry {
  lease: HeldLease;
  state: "held" | "taken" | "flushed";
}

interface Pool {
  entries: Entry[];
  /** The last time a lease of this pool was held or taken (Date.now()). */
  activeAt: number;
}

const pools = new Map<string, Pool>();

/**
 * Milliseconds a lease held since `heldAt` still waits, given its pool's last
 * activity; 0 or less: give it back now.
 */
export function lingerLeft(heldAt: number, activeAt: number, now: number): number {
  return Math.min(activeAt + LEASE_LINGER_MS, heldAt + LEASE_LINGER_MAX_MS) - now;
}

/**
 * The pool a lease may be reused from: same function, code, isolation key
 * and concurrency settings (a changed reservation never reuses an old lease).
 */
export function poolKey(parts: { functionKey: string; versionKey: string; isolationKey: string; reserved: number | null; unreservedLimit: number }): string {
  return [parts.functionKey, parts.versionKey, parts.isolationKey, parts.reserved ?? "-", parts.unreservedLimit].join("\u0000");
}

/** Takes a held lease that can carry one more invocation of `timeoutMs`, if any. */
export function takeHeld(key: string, timeoutMs: number, now = Date.now()): HeldLease | undefined {
  const pool = pools.get(key);
  if (pool) pool.activeAt = now;
  while (pool && pool.entries.length > 0) {
    const entry = pool.entries.pop();
    if (!entry) break;
    if (entry.lease.expiresAt - now > timeoutMs + REUSE_MARGIN_MS) {
      entry.state = "taken";
      return entry.lease;
    }
    // Too close to its expiry: leave it to its linger timer to release.
    entry.state = "flushed";
  }
  return undefined;
}

/**
 * Keeps a lease while its pool is busy (lingerLeft), then hands it to
 * `release` unless an invocation took it meanwhile (that invocation then
 * holds or releases it). Its timers run in the invocation that held it.
 */
export async function hold(key: string, lease: HeldLease, release: (lease: HeldLease) => Promise<void>): Promise<void> {
  const entry: Entry = { lease, state: "held" };
  const heldAt = Date.now();
  const pool = pools.get(key) ?? { entries: [], activeAt: heldAt };
  pool.entries.push(entry);
  pool.activeAt = heldAt;
  pools.set(key, pool);
  let wait = LEASE_LINGER_MS;
  while (wait > 0) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (entry.state !== "held") break;
    wait = lingerLeft(heldAt, pools.get(key)?.activeAt ?? heldAt, Date.now());
  }
  if (entry.state === "taken") return;
  removeEntry(key, entry);
  await release(lease);
}

/** Stops reuse of every held lease of a function (its code, config or limits changed); they are released on schedule. */
export function flushHeld(functionKeyPrefix: string): void {
  for (const [key, pool] of pools) {
    if (!key.startsWith(functionKeyPrefix)) continue;
    for (const entry of pool.entries) entry.state = "flushed";
    pools.delete(key);
  }
}

function removeEntry(key: string, entry: Entry): void {
  const pool = pools.get(key);
  if (!pool) return;
  const index = pool.entries.indexOf(entry);
  if (index >= 0) pool.entries.splice(index, 1);
  if (pool.entries.length === 0) pools.delete(key);
}
