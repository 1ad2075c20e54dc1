/**
 * The lease of one invocation: an execution environment (a Worker Loader id)
 * and a concurrency slot. `acquire` takes one this isolate still holds from a
 * finished invocation of the same code (held-leases.ts: no round trip) or asks
 * the function's AssignmentPartition, which refuses with 429 before any user
 * code runs when a limit is reached. `release` holds a reusable lease here
 * for the next invocation a moment longer, or gives it back. Callers never
 * see the cache or the Durable Object stubs.
 *
 * A backlog lease (an old async event, src/async/backlog.ts) always asks the
 * partition, which grants it only from concurrency new events leave idle, and
 * is given back at once: a held lease would carry the backlog's mark to the
 * next (new) invocation, or a new event's slot to the backlog.
 */
import { tooManyRequests } from "../errors";
import type { TenantScope } from "../services/scope";
import { AssignmentPartition } from "./assignment-partition";
import type { HeldLease } from "./held-leases";
import { hold, poolKey, takeHeld } from "./held-leases";
import type { AsyncLane } from "./partition-rules";
import { functionKey } from "./partition-rules";
import type { InvokeTarget } from "./target";

export interface Lease extends HeldLease {
  /** The environment ran an invocation before (or, provisioned, its init phase). */
  warm: boolean;
  /** Where a held lease waits for reuse: same function, code, isolation key and limits. */
  pool: string;
  tenantId: string;
  functionName: string;
  /** Where it came from: this isolate's held leases (no round trip) or a trip to the partition. */
  source: LeaseSource;
  /** Granted to an old event of the async backlog. */
  backlog?: boolean;
}

/** A backlog lease the partition did not grant: new events may need the function's idle slots (not a throttle). */
export class BacklogDeferred extends Error {
  constructor() {
    super("backlog lease deferred: new events may need the idle concurrency");
    this.name = "BacklogDeferred";
  }
}

export type LeaseSource = "held" | "partition";

export async function acquire(scope: TenantScope, target: InvokeTarget, isolationKey: string, asyncLane?: AsyncLane): Promise<Lease> {
  const backlog = asyncLane === "old";
  const { fn, version } = target;
  if (fn.reservedConcurrency === 0) throw tooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded");
  const tenantId = scope.principal.tenantId;
  const key = functionKey(tenantId, fn.name);
  const versionKey = `${version.version}@${version.revisionId}`;
  const timeoutMs = version.config.Timeout * 1000;
  const pool = poolKey({ functionKey: key, versionKey, isolationKey, reserved: fn.reservedConcurrency, unreservedLimit: target.unreservedLimit });
  const owner = { pool, tenantId, functionName: fn.name, ...(backlog ? { backlog } : {}) };
  const held = backlog ? undefined : takeHeld(pool, timeoutMs);
  if (held) return { ...held, ...owner, warm: true, source: "held" };

  const grant = await AssignmentPartition.of(scope.env, tenantId, fn.name).acquire({
    tenantId,
    functionKey: key,
    versionKey,
    isolationKey,
    reservedConcurrency: fn.reservedConcurrency,
    unreservedLimit: target.unreservedLimit,
    timeoutMs,
    ...(asyncLane ? { asyncLane } : {}),
  });
  if (!grant.granted) throw grant.reason === "BacklogDeferred" ? new BacklogDeferred() : tooManyRequests(grant.reason);
  return {
    leaseId: grant.leaseId,
    environmentId: grant.environmentId,
    expiresAt: grant.expiresAt,
    ...owner,
    warm: !grant.cold,
    source: "partition",
    ...(grant.provisioned ? { provisioned: true } : {}),
    ...(grant.provisionedConfig ? { provisionedConfig: grant.provisionedConfig } : {}),
  };
}

/** Resolves once the lease is back with its partition (after its hold, when reusable): run it under waitUntil. */
export function release(env: Env, lease: Lease, reusable: boolean): Promise<void> {
  const giveBack = (held: HeldLease, keep: boolean) =>
    AssignmentPartition.of(env, lease.tenantId, lease.functionName).release(held.leaseId, lease.tenantId, keep);
  return reusable && !lease.backlog ? hold(lease.pool, lease, (held) => giveBack(held, true)) : giveBack(lease, reusable);
}
