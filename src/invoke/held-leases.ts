/**
 * Leases kept by the frontend isolate for a moment after an invocation, so
 * the next warm invocation of the same function here reuses the lease — its
 * environment and concurrency slot — without a round trip to the partition
 * Durable Object. A held lease still counts as in flight at the partition,
 * so limits are never exceeded; the cost is that for LEASE_LINGER_MS a slot
 * idles here instead of serving another isolate.
 */

/** How long a finished invocation's lease waits here for the next invocation. */
export const LEASE_LINGER_MS = 200;
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

const pools = new Map<string, Entry[]>();

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
  while (pool && pool.length > 0) {
    const entry = pool.pop();
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
 * Keeps a lease for LEASE_LINGER_MS, then hands it to `release` unless an
 * invocation took it meanwhile (that invocation then holds or releases it).
 */
export function hold(key: string, lease: HeldLease, release: (lease: HeldLease) => Promise<void>): Promise<void> {
  const entry: Entry = { lease, state: "held" };
  const pool = pools.get(key) ?? [];
  pool.push(entry);
  pools.set(key, pool);
  return new Promise<void>((resolve) => setTimeout(resolve, LEASE_LINGER_MS)).then(async () => {
    if (entry.state === "taken") return;
    removeEntry(key, entry);
    await release(lease);
  });
}

/** Stops reuse of every held lease of a function (its code, config or limits changed); they are released on schedule. */
export function flushHeld(functionKeyPrefix: string): void {
  for (const [key, pool] of pools) {
    if (!key.startsWith(functionKeyPrefix)) continue;
    for (const entry of pool) entry.state = "flushed";
    pools.delete(key);
  }
}

function removeEntry(key: string, entry: Entry): void {
  const pool = pools.get(key);
  if (!pool) return;
  const index = pool.indexOf(entry);
  if (index >= 0) pool.splice(index, 1);
  if (pool.length === 0) pools.delete(key);
}
