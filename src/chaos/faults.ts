/**
 * Test-only fault injection for `npm run chaos` (bench/chaos/): makes chosen
 * Durable Object operations reset their object mid-write and makes the async
 * poller redeliver or delay queue messages on purpose, each with a
 * probability. It is off unless TWO variables are set, neither of which is in
 * wrangler.toml or .dev.vars.example, so neither `npm start` nor
 * `wrangler deploy` can turn it on:
 *
 *   CHAOS_FAULTS         "site=probability,..." e.g. "sqs-delete=0.05,queue-duplicate=0.1"
 *   CHAOS_FAULTS_UNLOCK  must be exactly "local-dev-only"; without it CHAOS_FAULTS is refused (logged once, ignored)
 *
 * The chaos harness passes both with `wrangler dev --var`. The variables are
 * read untyped on purpose: declaring them in wrangler.toml (so that
 * `wrangler types` types them) would ship them in every deployment.
 */

/** The places a fault can be injected. */
export const FAULT_SITES = [
  /** SqsQueue: reset the object before a SendMessage(Batch) answers (the message may or may not be kept). */
  "sqs-send",
  /** SqsQueue: reset the object before a DeleteMessage(Batch) is applied (the message comes back after its visibility timeout). */
  "sqs-delete",
  /** AssignmentPartition: reset the object before a lease is given back (the lease is held until it expires). */
  "lease-release",
  /** DurableExecution: reset the object after a checkpoint is committed (durable), before it is answered. */
  "durable-checkpoint",
  /** StreamPoller: reset the object in its alarm, before a poll step. */
  "stream-poll",
  /** Async poller: after an event was settled, ask the queue to deliver its message again (a duplicate delivery). */
  "queue-duplicate",
  /** Async poller: before an event runs, put its message back with a delay (a delayed delivery). */
  "queue-delay",
  /** The door: refuse the request as past the isolate's bound (bench:refusal-cost measures what a refusal costs the thread). Not logged. */
  "door-refuse",
] as const;
export type FaultSite = (typeof FAULT_SITES)[number];

export const FAULTS_UNLOCK_VALUE = "local-dev-only";

export type FaultPlan = ReadonlyMap<FaultSite, number>;

/**
 * Parses CHAOS_FAULTS. Pure; throws on a malformed plan (unknown site,
 * probability outside 0..1) so that a typo in a chaos run fails loudly.
 * Without the unlock value the plan is empty whatever CHAOS_FAULTS says.
 */
export function parseFaultPlan(spec: string | undefined, unlock: string | undefined): FaultPlan {
  const plan = new Map<FaultSite, number>();
  if (!spec || spec.trim() === "") return plan;
  if (unlock !== FAULTS_UNLOCK_VALUE) return plan;
  for (const part of spec.split(",")) {
    const [site, raw] = part.split("=").map((s) => s.trim());
    if (!site) continue;
    if (!(FAULT_SITES as readonly string[]).includes(site)) throw new Error(`CHAOS_FAULTS: unknown fault site ${JSON.stringify(site)} (known: ${FAULT_SITES.join(", ")})`);
    const p = Number(raw);
    if (raw === undefined || raw === "" || !Number.isFinite(p) || p < 0 || p > 1) throw new Error(`CHAOS_FAULTS: ${site} needs a probability between 0 and 1, got ${JSON.stringify(raw)}`);
    plan.set(site as FaultSite, p);
  }
  return plan;
}

interface FaultVars {
  CHAOS_FAULTS?: string;
  CHAOS_FAULTS_UNLOCK?: string;
}

const plans = new Map<string, FaultPlan>();
let refusalLogged = false;

function planOf(env: Env): FaultPlan | undefined {
  const vars = env as unknown as FaultVars;
  const spec = vars.CHAOS_FAULTS;
  if (!spec) return undefined;
  if (vars.CHAOS_FAULTS_UNLOCK !== FAULTS_UNLOCK_VALUE) {
    if (!refusalLogged) console.error(`chaos: CHAOS_FAULTS is set but CHAOS_FAULTS_UNLOCK is not ${JSON.stringify(FAULTS_UNLOCK_VALUE)}; no fault is injected`);
    refusalLogged = true;
    return undefined;
  }
  let plan = plans.get(spec);
  if (!plan) {
    plan = parseFaultPlan(spec, vars.CHAOS_FAULTS_UNLOCK);
    plans.set(spec, plan);
  }
  return plan;
}

/** Whether the fault at `site` fires this time (always false unless both variables are set). */
export function faultFires(env: Env, site: FaultSite): boolean {
  const p = planOf(env)?.get(site);
  if (!p) return false;
  const fires = Math.random() < p;
  // A refusal at the door is logged by nobody, real or injected: a line per request would be most of its cost.
  if (fires && site !== "door-refuse") console.warn(`chaos: injected fault ${site}`);
  return fires;
}

/** Thrown after a Durable Object was reset by an injected fault. */
export class InjectedFault extends Error {
  override name = "InjectedFault";
}

/**
 * Like maybeResetObject, but first waits until the object's writes so far
 * are durable: a reset right after a synchronous write would otherwise roll
 * it back with the object's open implicit transaction, losing the write
 * rather than only its answer.
 */
export async function maybeResetObjectAfterCommit(ctx: DurableObjectState, env: Env, site: FaultSite): Promise<void> {
  if (!faultFires(env, site)) return;
  await ctx.storage.sync();
  resetObject(ctx, site);
}

/**
 * Resets the calling Durable Object (`ctx.abort()`: its in-memory state is
 * gone, the next call builds it again from storage) when the fault at `site`
 * fires, and throws so the caller sees the failure a real reset would give.
 */
export function maybeResetObject(ctx: DurableObjectState, env: Env, site: FaultSite): void {
  if (faultFires(env, site)) resetObject(ctx, site);
}

function resetObject(ctx: DurableObjectState, site: FaultSite): never {
  const message = `chaos: injected reset at ${site}`;
  try {
    ctx.abort(message);
  } catch {
    // abort() throws in some runtimes; the object is reset either way.
  }
  throw new InjectedFault(message);
}
