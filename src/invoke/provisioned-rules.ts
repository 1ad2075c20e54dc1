/**
 * Pure rules of provisioned concurrency inside the assignment partition
 * (src/invoke/provisioned-pool.ts): which environments a config needs, which
 * one an invocation gets, and what the config reports.
 */
import type { Environment } from "./partition-rules";

/** How many environments of one version (`<version>@<revisionId>`) a config keeps initialised. */
export interface ProvisionedShare {
  versionKey: string;
  count: number;
}

/** How often ready environments are checked (and re-initialised when the runtime evicted them). */
export const PROVISIONED_CHECK_MS = 60_000;
/** How soon an init that failed for a platform reason (not the function's) is tried again. */
export const PROVISIONED_RETRY_MS = 5_000;

/**
 * The environments a config must add and retire so that it holds exactly
 * `shares`: extra ones go idle-and-unready first, busy ones last (a busy one
 * retired here finishes its invocation first: the partition retires it on
 * release).
 */
export function reconcile(existing: readonly Environment[], shares: readonly ProvisionedShare[]): { create: string[]; retire: Environment[] } {
  const create: string[] = [];
  const retire: Environment[] = [];
  const wanted = new Map(shares.map((s) => [s.versionKey, s.count]));
  for (const env of existing) if (!wanted.has(env.versionKey)) retire.push(env);
  for (const [versionKey, count] of wanted) {
    const have = existing.filter((e) => e.versionKey === versionKey);
    for (let i = have.length; i < count; i++) create.push(versionKey);
    const surplus = [...have].sort((a, b) => retireOrder(a) - retireOrder(b)).slice(0, Math.max(0, have.length - count));
    retire.push(...surplus);
  }
  return { create, retire };
}

function retireOrder(env: Environment): number {
  if (env.busy) return 2;
  return env.ready ? 1 : 0;
}

/**
 * The provisioned environment an invocation of `versionKey` gets: idle and
 * initialised, most recently used first. Undefined when all are busy or not
 * ready yet: the invocation spills over to an on-demand environment.
 */
export function pickProvisioned(envs: Iterable<Environment>, versionKey: string): Environment | undefined {
  let best: Environment | undefined;
  for (const env of envs) {
    if (env.provisioned === undefined || !env.ready || env.busy || env.versionKey !== versionKey) continue;
    if (!best || env.lastUsedAt > best.lastUsedAt) best = env;
  }
  return best;
}

/** Allocated: initialised environments; available: those of them idle now. */
export function allocation(envs: Iterable<Environment>, qualifier: string): { allocated: number; available: number } {
  let allocated = 0;
  let available = 0;
  for (const env of envs) {
    if (env.provisioned !== qualifier || !env.ready) continue;
    allocated += 1;
    if (!env.busy) available += 1;
  }
  return { allocated, available };
}
