import { DurableObject } from "cloudflare:workers";
import type { Environment, ThrottleReason } from "./partition-rules";
import { admitReserved, environmentId, expiredIdle, LEASE_GRACE_MS, pickIdle } from "./partition-rules";

/** What the frontend asks for before it runs one invocation. */
export interface LeaseRequest {
  tenantId: string;
  /** `<tenantId>/<functionName>`: prefix of every environment id of this function. */
  functionKey: string;
  versionKey: string;
  /** X-Amz-Tenant-Id for PER_TENANT functions, "" otherwise. */
  isolationKey: string;
  /** null: the function draws on the tenant's unreserved pool. */
  reservedConcurrency: number | null;
  /** The tenant's concurrency limit minus every reservation. */
  unreservedLimit: number;
  timeoutMs: number;
}

export type LeaseGrant =
  | { granted: true; leaseId: string; environmentId: string; cold: boolean; expiresAt: number }
  | { granted: false; reason: ThrottleReason };

interface Lease {
  environmentId: string;
  expiresAt: number;
  /** Whether a slot of the tenant's unreserved pool (TenantQuota) backs it. */
  pooled: boolean;
}

/**
 * One per function: owns its execution environments and counts its
 * invocations in flight. The frontend asks for a lease (environment id +
 * concurrency slot), runs the handler itself, and gives the lease back; the
 * payload never passes through here. Leases and environments are journaled
 * in SQLite so a restart neither forgets running invocations nor reuses an
 * environment that timed out. A lease whose frontend died expires
 * (timeout + LEASE_GRACE_MS) and its environment is thrown away.
 */
export class AssignmentPartition extends DurableObject<Env> {
  #envs = new Map<string, Environment>();
  #leases = new Map<string, Lease>();
  #sequence = 0;
  /** When the scheduled alarm fires (kept here so no call has to ask storage). */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => this.#load());
  }

  async acquire(req: LeaseRequest): Promise<LeaseGrant> {
    const now = Date.now();
    this.#expire(now);
    if (req.reservedConcurrency !== null) {
      const reason = admitReserved(this.#leases.size, req.reservedConcurrency);
      if (reason) return { granted: false, reason };
    }
    // Claim everything synchronously before the first await, so concurrent
    // acquires interleaving at the quota call still see this lease counted.
    const leaseId = crypto.randomUUID();
    const expiresAt = now + req.timeoutMs + LEASE_GRACE_MS;
    const warm = pickIdle(this.#envs.values(), req.versionKey, req.isolationKey, now);
    const env: Environment = warm ?? {
      id: environmentId(req.functionKey, req.versionKey, req.isolationKey, ++this.#sequence),
      versionKey: req.versionKey,
      isolationKey: req.isolationKey,
      busy: true,
      lastUsedAt: now,
    };
    env.busy = true;
    const lease: Lease = { environmentId: env.id, expiresAt, pooled: req.reservedConcurrency === null };
    this.#envs.set(env.id, env);
    this.#leases.set(leaseId, lease);

    // Leases started under a reservation that has since been removed still
    // run outside the tenant's pool: until they end they count against it.
    let unpooled = 0;
    for (const other of this.#leases.values()) if (!other.pooled) unpooled += 1;
    if (lease.pooled && !(await this.#quota(req.tenantId).take(leaseId, req.unreservedLimit - unpooled, expiresAt))) {
      this.#leases.delete(leaseId);
      if (warm) env.busy = false;
      else this.#envs.delete(env.id);
      return { granted: false, reason: "ConcurrentInvocationLimitExceeded" };
    }
    this.#saveEnv(env);
    this.ctx.storage.sql.exec(
      "INSERT INTO leases (lease_id, env_id, expires_at, pooled, tenant_id) VALUES (?, ?, ?, ?, ?)",
      leaseId,
      env.id,
      expiresAt,
      lease.pooled ? 1 : 0,
      req.tenantId,
    );
    await this.#scheduleAlarm();
    return { granted: true, leaseId, environmentId: env.id, cold: !warm, expiresAt };
  }

  /** Gives a lease back; `reusable: false` (timeout, crash) retires its environment for good. */
  async release(leaseId: string, tenantId: string, reusable: boolean): Promise<void> {
    const lease = this.#leases.get(leaseId);
    if (!lease) return;
    this.#leases.delete(leaseId);
    this.ctx.storage.sql.exec("DELETE FROM leases WHERE lease_id = ?", leaseId);
    const env = this.#envs.get(lease.environmentId);
    if (env && reusable) {
      env.busy = false;
      env.lastUsedAt = Date.now();
      this.#saveEnv(env);
    } else if (env) {
      this.#retire(env.id);
    }
    if (lease.pooled) await this.#quota(tenantId).give(leaseId);
  }

  /** For tests and operators: what this partition holds right now. */
  async snapshot(): Promise<{ inFlight: number; environments: Array<Omit<Environment, "lastUsedAt">> }> {
    this.#expire(Date.now());
    return {
      inFlight: this.#leases.size,
      environments: [...this.#envs.values()].map(({ id, versionKey, isolationKey, busy }) => ({ id, versionKey, isolationKey, busy })),
    };
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    this.#expire(Date.now());
    await this.#scheduleAlarm();
  }

  /** Reclaims abandoned leases (their environment is never reused) and forgets long-idle environments. */
  #expire(now: number): void {
    for (const [leaseId, lease] of this.#leases) {
      if (lease.expiresAt > now) continue;
      console.warn(`assignment-partition: reclaimed abandoned lease ${leaseId} of ${lease.environmentId}`);
      this.#leases.delete(leaseId);
      this.ctx.storage.sql.exec("DELETE FROM leases WHERE lease_id = ?", leaseId);
      this.#retire(lease.environmentId);
      // The quota expires the matching slot on its own clock (same expiresAt).
    }
    for (const env of expiredIdle(this.#envs.values(), now)) this.#retire(env.id);
  }

  #retire(envId: string): void {
    this.#envs.delete(envId);
    this.ctx.storage.sql.exec("DELETE FROM environments WHERE env_id = ?", envId);
  }

  #saveEnv(env: Environment): void {
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO environments (env_id, version_key, isolation_key, busy, last_used_at) VALUES (?, ?, ?, ?, ?)",
      env.id,
      env.versionKey,
      env.isolationKey,
      env.busy ? 1 : 0,
      env.lastUsedAt,
    );
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('sequence', ?)", this.#sequence);
  }

  async #scheduleAlarm(): Promise<void> {
    const times = [...this.#leases.values()].map((l) => l.expiresAt);
    const next = Math.min(...times);
    if (!Number.isFinite(next) || (this.#alarmAt !== null && this.#alarmAt <= next)) return;
    this.#alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  #quota(tenantId: string) {
    return this.env.TENANT_QUOTA.get(this.env.TENANT_QUOTA.idFromName(tenantId));
  }

  #load(): void {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS environments (
      env_id TEXT PRIMARY KEY, version_key TEXT NOT NULL, isolation_key TEXT NOT NULL,
      busy INTEGER NOT NULL, last_used_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS leases (
      lease_id TEXT PRIMARY KEY, env_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
      pooled INTEGER NOT NULL, tenant_id TEXT NOT NULL)`);
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    for (const row of sql.exec<{ env_id: string; version_key: string; isolation_key: string; busy: number; last_used_at: number }>(
      "SELECT * FROM environments",
    )) {
      this.#envs.set(row.env_id, {
        id: row.env_id,
        versionKey: row.version_key,
        isolationKey: row.isolation_key,
        busy: row.busy === 1,
        lastUsedAt: row.last_used_at,
      });
    }
    for (const row of sql.exec<{ lease_id: string; env_id: string; expires_at: number; pooled: number }>("SELECT * FROM leases")) {
      this.#leases.set(row.lease_id, { environmentId: row.env_id, expiresAt: row.expires_at, pooled: row.pooled === 1 });
    }
    const seq = sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'sequence'").toArray()[0];
    this.#sequence = seq?.value ?? 0;
  }
}
