/**
 * One synchronous invocation: lease → runtime → release. The lease refuses
 * with 429 before any user code runs; the runtime never throws; the log lines
 * and the release (hold for the next warm invocation, or give back) go on
 * under waitUntil.
 */
import { environmentsFailing, functionCouldNotStart, LambdaError, recursiveInvocation, requestAbandoned } from "../errors";
import { functionArn } from "../lambda/function-name";
import type { InvocationResult, InvokeStreaming } from "../runtime/executor";
import { invoke as runInEnvironment } from "../runtime/executor";
import { platformStreamName, throttleLine } from "../logs/platform-events";
import { shipInvocationLog } from "../logs/shipper";
import type { ConcurrencyFacts } from "../metrics/concurrency-samples";
import { recordInvocation, recordRecursionStopped, recordThrottle } from "../metrics/record-events";
import { countThrottle } from "../metrics/throttle-reasons";
import type { TenantScope } from "../services/scope";
import type { InvokeOptions } from "./invocation";
import { invocationFor } from "./invocation";
import type { Lease, LeaseSource } from "./lease";
import { acquire, release } from "./lease";
import type { AsyncLane } from "./partition-rules";
import { lineageOfInvocation, stopsRecursion } from "./recursion";
import type { InvokeTarget } from "./target";

export type { InvokeOptions } from "./invocation";

export interface InvokeOutcome extends InvocationResult {
  executedVersion: string;
  /** How the lease of the attempt that answered was had (the Invoke route reports it in Server-Timing). */
  lease: LeaseTiming;
}

/** `ms`: the acquire's wall time (workerd's clock moves only across I/O, so a held lease shows 0). */
export interface LeaseTiming {
  source: LeaseSource;
  ms: number;
}

/** Environments one invocation tries when they turn out to have crashed between invocations. */
const MAX_ENVIRONMENT_ATTEMPTS = 3;

/** What the door that admitted the request (src/invoke/door.ts) wants to hear about its invocation. */
export interface Admission {
  /** The invocation is over, whatever its outcome; `ran`: it ran to its end (a sample of the queue). */
  finished(ran: boolean): void;
}

export interface RunControl {
  waitUntil: (promise: Promise<unknown>) => void;
  /** The client's request: once it aborts, no user code is started for it. */
  signal?: AbortSignal;
  admission?: Admission;
  /** Async backlog mode (AsyncLane in src/invoke/partition-rules.ts): "old" runs only on idle concurrency, or throws BacklogDeferred. */
  asyncLane?: AsyncLane;
}

export async function invokeSync(scope: TenantScope, target: InvokeTarget, opts: InvokeOptions & RunControl & InvokeStreaming): Promise<InvokeOutcome> {
  let ran = false;
  try {
    const outcome = await run(scope, target, opts);
    ran = true;
    return outcome;
  } finally {
    opts.admission?.finished(ran);
  }
}

async function run(scope: TenantScope, target: InvokeTarget, opts: InvokeOptions & RunControl & InvokeStreaming): Promise<InvokeOutcome> {
  const metrics = metricsOf(scope, target);
  const unqualifiedArn = functionArn(scope.names, target.fn.name);
  const lineage = lineageOfInvocation(opts.lineage, unqualifiedArn);
  if (stopsRecursion(lineage, unqualifiedArn, target.fn.recursiveLoop)) {
    recordRecursionStopped(scope.env, metrics, opts.waitUntil);
    throw recursiveInvocation();
  }
  for (let attempt = 1; ; attempt++) {
    const acquireStarted = performance.now();
    const lease = await acquire(scope, target, opts.tenantId ?? "", opts.asyncLane).catch((err: unknown) => {
      if (err instanceof LambdaError && err.status === 429) noteThrottle(scope, target, opts.requestId, opts.waitUntil, err.extra.reason ?? "TooManyRequestsException");
      throw err;
    });
    const leaseTiming: LeaseTiming = { source: lease.source, ms: performance.now() - acquireStarted };
    let reusable = false;
    try {
      const { environment, request } = await invocationFor(scope, target, lease, opts, lineage);
      // A client that gave up (a timeout, a closed connection) gets no work
      // started for it; the environment ran nothing and stays usable.
      if (opts.signal?.aborted) {
        reusable = true;
        throw requestAbandoned();
      }
      const result = await runInEnvironment(scope.env.LOADER, environment, request, opts.onStream ? { onStream: opts.onStream } : {});
      const log = { tenantId: scope.principal.tenantId, logGroup: request.logGroupName, logStream: request.logStreamName, lines: result.lines };
      shipInvocationLog(scope.env, log, opts.waitUntil);
      reusable = result.reusable;
      // Crashed after its last invocation: nothing ran in it; it is retired, try another.
      if (result.crashedBefore && attempt < MAX_ENVIRONMENT_ATTEMPTS) continue;
      if (result.crashedBefore) throw environmentsFailing();
      if (result.platformError) {
        // Our fault (e.g. the bundle could not be read), not the function's: a 500 the SDKs retry.
        console.error(`invoke ${request.invokedFunctionArn}: ${result.platformError}`);
        reusable = false;
        throw functionCouldNotStart();
      }
      recordInvocation(scope.env, metrics, result, concurrencyFacts(scope, target, lease), opts.waitUntil);
      return { ...result, executedVersion: target.version.version, lease: leaseTiming };
    } finally {
      opts.waitUntil(release(scope.env, lease, reusable));
    }
  }
}

/** The metric dimensions of an invocation of `target`. */
function metricsOf(scope: TenantScope, target: InvokeTarget) {
  return { tenantId: scope.principal.tenantId, functionName: target.fn.name, qualifier: target.qualifier, executedVersion: target.version.version };
}

/** What the concurrency metrics need to know, from what the invocation already holds (no lookup). */
function concurrencyFacts(scope: TenantScope, target: InvokeTarget, lease: Lease): ConcurrencyFacts {
  const config = lease.provisionedConfig;
  return {
    unreserved: target.fn.reservedConcurrency === null,
    allocatedConcurrency: scope.principal.concurrencyLimit - target.unreservedLimit,
    ...(config ? { provisioned: { ...config, onProvisioned: lease.provisioned === true } } : {}),
  };
}

/**
 * A throttle (429 before any code ran): the tenant's `Throttles` metric, the
 * isolate's count by reason, and a `Throttled` line in the function's log
 * group (its platform stream), as a timeout leaves one in the environment's.
 */
export function noteThrottle(scope: TenantScope, target: InvokeTarget, requestId: string, waitUntil: (promise: Promise<unknown>) => void, reason: string): void {
  recordThrottle(scope.env, metricsOf(scope, target), waitUntil);
  countThrottle(reason);
  const now = new Date();
  shipInvocationLog(
    scope.env,
    {
      tenantId: scope.principal.tenantId,
      logGroup: target.version.config.LoggingConfig.LogGroup,
      logStream: platformStreamName(target.version.version, now),
      lines: [throttleLine(now, requestId, reason)],
    },
    waitUntil,
  );
}
