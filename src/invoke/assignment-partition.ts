import { DurableObject } from "cloudflare:workers";
import { maybeResetObject } from "../chaos/faults";
import type { AsyncLane, Environment, PeakHold, ThrottleReason } from "./partition-rules";
import { unloadEnvironment } from "../runtime/unload";
import { admitBacklog, admitReserved, environmentId, expiredIdle, functionKey, holdPeak, LEASE_GRACE_MS, NEW_EVENT_WAIT_MS, BACKLOG_WAIT_MS, pickIdle } from "./partition-rules";
import type { ProvisionedReport, ProvisionSpec } from "./provisioned-pool";
import { ProvisionedPool } from "./provisioned-pool";
import { pickProvisioned } from "./provisioned-rules";
import { TenantQuota } from "./tenant-quota";

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
  /** Async backlog mode (AsyncLane): "old" is granted only from idle concurrency, "new" may wait for a backlog lease to end. */
  asyncLane?: AsyncLane;
}

export type LeaseGrant =
  | {
      granted: true;
      leaseId: string;
      environmentId: string;
      cold: boolean;
      expiresAt: number;
      provisioned: boolean;
      /** The version has a provisioned concurrency config (ProvisionedPool.configOf). */
      provisionedConfig?: { qualifier: string; allocated: number };
    }
  /** BacklogDeferred: a backlog lease refused, new events may need the idle slots (not a throttle). */
  | { granted: false; reason: ThrottleReason | "BacklogDeferred" };

interface Lease {
  environmentId: string;
  expiresAt: number;
  /** Whether a slot of the tenant's unreserved pool (TenantQuota) backs it. */
  pooled: boolean;
  /**
   * It runs on a provisioned environment: capacity set aside by its config
   * (the frontend's unreserved limit already leaves it out), so no slot of
   * the tenant's pool backs it.
   */
  provisioned?: boolean;
  /** An old event of the async backlog holds it (LeaseRequest.asyncLane "old"). */
  backlog?: boolean;
}

/** Journal keys: leases in flight, environments, and the environment sequence. */
const LEASE = "lease:";
const ENV = "env:";
const SEQUENCE = "sequence";
const UNCONFIRMED = { allowUnconfirmed: true } as const;

/**
 * One per function: owns its execution environments and counts its
 * invocations in flight. The frontend asks for a lease (environment id +
 * concurrency slot), runs the handler itself, and gives the lease back; the
 * payload never passes through here. Leases and environments are journaled
 * so a restart neither forgets running invocations nor reuses an
 * environment that timed out; the journal is written without waiting for its
 * commit (`allowUnconfirmed`: a grant is not held back by a disk write; a
 * crash in that moment forgets the leases of that moment). A lease whose
 * frontend died expires (timeout + LEASE_GRACE_MS) and its environment is
 * thrown away. A warm acquire writes only its lease.
 */
export class AssignmentPartition extends DurableObject<Env> {
  #envs = new Map<string, Environment>();
  #leases = new Map<string, Lease>();
  #sequence = 0;
  /** Backlog leases in flight (the rest of #leases are new events'), and the new ones' recent peak. */
  #backlogInFlight = 0;
  #newPeak: PeakHold = { value: 0, at: 0 };
  /** Async events waiting for a lease to end (AsyncLane): new ones first, then old ones; first come, first served. */
  #newWaiters: Array<() => void> = [];
  #oldWaiters: Array<() => void> = [];
  /** When the scheduled alarm fires (kept here so no call has to ask storage). */
  #alarmAt: number | null = null;
  #pool = new ProvisionedPool({
    envs: this.#envs,
    newEnvironmentId: (key, versionKey) => environmentId(key, versionKey, "", ++this.#sequence),
    save: (env) => void this.ctx.storage.put({ [ENV + env.id]: env, [SEQUENCE]: this.#sequence }, UNCONFIRMED),
    retire: (envId) => this.#retire(envId),
    wakeAt: (at) => this.#scheduleAlarm(at),
    env: this.env,
    storage: this.ctx.storage,
    waitUntil: (promise) => this.ctx.waitUntil(promise),
  });

  static of(env: Env, tenantId: string, functionName: string): DurableObjectStub<AssignmentPartition> {
    return env.ASSIGNMENT.getByName(functionKey(tenantId, functionName));
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => this.#load());
  }

  async acquire(req: LeaseRequest): Promise<LeaseGrant> {
    return this.#acquire(req, Date.now() + (req.asyncLane === "old" ? BACKLOG_WAIT_MS : NEW_EVENT_WAIT_MS));
  }

  /** `waitUntil`: until when an async event may wait for a lease to end (AsyncLane). */
  async #acquire(req: LeaseRequest, waitUntil: number): Promise<LeaseGrant> {
    const now = Date.now();
    this.#expire(now);
    if (req.reservedConcurrency !== null) {
      const reason = admitReserved(this.#leases.size, req.reservedConcurrency);
      // A new async event waits for the next lease to end (its slot is handed over: see #remove).
      if (reason && req.asyncLane === "new" && now < waitUntil && (await this.#waitForSlot(this.#newWaiters, waitUntil - now))) {
        return this.#acquire(req, waitUntil);
      }
      // An old one is refused by admitBacklog below, which also counts the reservation.
      if (reason && req.asyncLane !== "old") return { granted: false, reason };
    }
    const newInFlight = this.#leases.size - this.#backlogInFlight;
    this.#newPeak = holdPeak(this.#newPeak, newInFlight, now);
    if (req.asyncLane === "old") {
      const admitted =
        this.#newWaiters.length === 0 &&
        admitBacklog({ reserved: req.reservedConcurrency, newInFlight, backlogInFlight: this.#backlogInFlight, newPeak: this.#newPeak.value });
      if (!admitted) {
        if (now < waitUntil && (await this.#waitForSlot(this.#oldWaiters, waitUntil - now))) return this.#acquire(req, waitUntil);
        return { granted: false, reason: "BacklogDeferred" };
      }
    }
    // Claim everything synchronously before the first await, so concurrent
    // acquires interleaving at the quota call still see this lease counted.
    const leaseId = crypto.randomUUID();
    const expiresAt = now + req.timeoutMs + LEASE_GRACE_MS;
    // Provisioned environments first; beyond them, on-demand ones (spillover).
    const provisioned = req.isolationKey === "" ? pickProvisioned(this.#envs.values(), req.versionKey) : undefined;
    const warm = provisioned ?? pickIdle(this.#envs.values(), req.versionKey, req.isolationKey, now);
    const env: Environment = warm ?? {
      id: environmentId(req.functionKey, req.versionKey, req.isolationKey, ++this.#sequence),
      versionKey: req.versionKey,
      isolationKey: req.isolationKey,
      busy: true,
      lastUsedAt: now,
    };
    env.busy = true;
    const lease: Lease = { environmentId: env.id, expiresAt, pooled: req.reservedConcurrency === null && !provisioned };
    if (provisioned) lease.provisioned = true;
    if (req.asyncLane === "old") lease.backlog = true;
    this.#envs.set(env.id, env);
    this.#add(leaseId, lease, now);

    // Leases started under a reservation that has since been removed still
    // run outside the tenant's pool: until they end they count against it.
    let unpooled = 0;
    for (const other of this.#leases.values()) if (!other.pooled && !other.provisioned) unpooled += 1;
    if (lease.pooled && !(await TenantQuota.of(this.env, req.tenantId).take(leaseId, req.unreservedLimit - unpooled, expiresAt))) {
      this.#remove(leaseId, lease, Date.now());
      if (warm) env.busy = false;
      else this.#envs.delete(env.id);
      return { granted: false, reason: "ConcurrentInvocationLimitExceeded" };
    }
    if (!warm) void this.ctx.storage.put({ [ENV + env.id]: env, [SEQUENCE]: this.#sequence }, UNCONFIRMED);
    void this.ctx.storage.put(LEASE + leaseId, lease, UNCONFIRMED);
    this.#scheduleAlarm(expiresAt);
    this.#pool.count(req.versionKey, env);
    const provisionedConfig = this.#pool.configOf(req.versionKey, env);
    return { granted: true, leaseId, environmentId: env.id, cold: !warm, expiresAt, provisioned: provisioned !== undefined, ...(provisionedConfig ? { provisionedConfig } : {}) };
  }

  /** Gives a lease back; `reusable: false` (timeout, crash) retires its environment for good. */
  async release(leaseId: string, tenantId: string, reusable: boolean): Promise<void> {
    maybeResetObject(this.ctx, this.env, "lease-release");
    const lease = this.#leases.get(leaseId);
    if (!lease) return;
    this.#remove(leaseId, lease, Date.now());
    void this.ctx.storage.delete(LEASE + leaseId, UNCONFIRMED);
    const env = this.#envs.get(lease.environmentId);
    if (env && reusable && !env.retiring) {
      env.busy = false;
      env.lastUsedAt = Date.now();
    } else if (env?.provisioned !== undefined) {
      this.#pool.replace(env);
    } else if (env) {
      this.#retire(env.id);
    }
    if (lease.pooled) await TenantQuota.of(this.env, tenantId).give(leaseId);
  }

  /** For tests and operators: what this partition holds right now. */
  async snapshot(): Promise<{ inFlight: number; environments: Array<Omit<Environment, "lastUsedAt">> }> {
    this.#expire(Date.now());
    return {
      inFlight: this.#leases.size,
      environments: [...this.#envs.values()].map(({ id, versionKey, isolationKey, busy, provisioned, ready }) => ({
        id,
        versionKey,
        isolationKey,
        busy,
        ...(provisioned === undefined ? {} : { provisioned, ready: ready === true }),
      })),
    };
  }

  /** PutProvisionedConcurrencyConfig, or an alias it is on changed: keep `spec` initialised from now on. */
  async provision(spec: ProvisionSpec): Promise<void> {
    this.#pool.configure(spec);
  }

  /** DeleteProvisionedConcurrencyConfig (or its alias or version was deleted). */
  async unprovision(qualifier: string): Promise<void> {
    this.#pool.remove(qualifier);
  }

  /** Allocation, status and invocation counters of every provisioned config (or one). */
  async provisionedReports(qualifier?: string): Promise<ProvisionedReport[]> {
    if (qualifier === undefined) return this.#pool.reports();
    const report = this.#pool.report(qualifier);
    return report ? [report] : [];
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    this.#expire(Date.now());
    const nextCheck = await this.#pool.check(Date.now());
    const next = Math.min(...[...this.#leases.values()].map((l) => l.expiresAt), nextCheck ?? Infinity);
    if (Number.isFinite(next)) this.#scheduleAlarm(next);
  }

  /** Reclaims abandoned leases (their environment is never reused) and forgets long-idle environments. */
  #expire(now: number): void {
    for (const [leaseId, lease] of this.#leases) {
      if (lease.expiresAt > now) continue;
      console.warn(`assignment-partition: reclaimed abandoned lease ${leaseId} of ${lease.environmentId}`);
      this.#remove(leaseId, lease, now);
      void this.ctx.storage.delete(LEASE + leaseId, UNCONFIRMED);
      const env = this.#envs.get(lease.environmentId);
      if (env?.provisioned !== undefined) this.#pool.replace(env);
      else this.#retire(lease.environmentId);
      // The quota expires the matching slot on its own clock (same expiresAt).
    }
    for (const env of expiredIdle(this.#envs.values(), now)) this.#retire(env.id);
  }

  /** Every lease enters and leaves #leases here, so the backlog count and the new leases' peak stay true. */
  #add(leaseId: string, lease: Lease, now: number): void {
    this.#leases.set(leaseId, lease);
    if (lease.backlog) this.#backlogInFlight += 1;
    else this.#newPeak = holdPeak(this.#newPeak, this.#leases.size - this.#backlogInFlight, now);
  }

  #remove(leaseId: string, lease: Lease, now: number): void {
    if (!this.#leases.delete(leaseId)) return;
    if (lease.backlog) this.#backlogInFlight -= 1;
    else this.#newPeak = holdPeak(this.#newPeak, this.#leases.size - this.#backlogInFlight, now);
    // The freed slot goes to the first waiting new event, else the first old
    // one (which asks admitBacklog again): it resumes in a microtask, before
    // any other request reaches this object.
    (this.#newWaiters.shift() ?? this.#oldWaiters.shift())?.();
  }

  /** Waits in `line` up to `ms` for a lease to end; true when one did (the waiter is first in line for its slot). */
  #waitForSlot(line: Array<() => void>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const index = line.indexOf(wake);
        if (index >= 0) line.splice(index, 1);
        resolve(false);
      }, ms);
      line.push(wake);
    });
  }

  #retire(envId: string): void {
    if (!this.#envs.delete(envId)) return;
    void this.ctx.storage.delete(ENV + envId, UNCONFIRMED);
    // The id is never used again: unload its isolate, which workerd would otherwise keep for good.
    this.ctx.waitUntil(unloadEnvironment(this.env.LOADER, envId));
  }

  /** Moves the alarm earlier when `at` comes first (an alarm later than needed only reclaims late). */
  #scheduleAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at, UNCONFIRMED);
  }

  async #load(): Promise<void> {
    const storage = this.ctx.storage;
    for (const [key, lease] of await storage.list<Lease>({ prefix: LEASE })) this.#add(key.slice(LEASE.length), lease, Date.now());
    const busy = new Set([...this.#leases.values()].map((l) => l.environmentId));
    const now = Date.now();
    // Idle times are not journaled (a warm acquire writes no environment): a
    // reloaded environment counts as used now, so it is not forgotten early.
    for (const [, env] of await storage.list<Environment>({ prefix: ENV })) {
      this.#envs.set(env.id, { ...env, busy: busy.has(env.id), lastUsedAt: now });
    }
    this.#sequence = (await storage.get<number>(SEQUENCE)) ?? 0;
    await this.#pool.load();
  }
}
