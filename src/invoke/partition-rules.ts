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
