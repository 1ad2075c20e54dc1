import { exports } from "cloudflare:workers";
import type { LeaseGrant } from "./assignment-partition";
import { LATEST } from "../data/function-store";
import { invalidParameter, LambdaError } from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";
import type { HeldLease } from "./held-leases";
import { hold, poolKey, takeHeld } from "./held-leases";
import { hash32 } from "../placement/hash";
import { loadBundle } from "../runtime/bundle-cache";
import { deriveEgressSecret, signInvocationToken } from "../runtime/lineage";
import type { InvocationResult } from "../runtime/executor";
import { invoke as runInEnvironment } from "../runtime/executor";
import type { InvokeTarget } from "./target";
import { functionKey, invokeTarget } from "./target";
import type { TenantScope } from "../services/scope";

export interface InvokeOptions {
  requestId: string;
  payload: string;
  /** X-Amz-Tenant-Id. */
  tenantId: string | undefined;
  clientContext: unknown;
  /** Keeps the lease release running after the response (ExecutionContext.waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
  /** Depth of the invocation chain this request belongs to (1 when not called from a function). */
  lineageDepth: number;
}

export interface InvokeOutcome extends InvocationResult {
  executedVersion: string;
}

/** Checks the function, qualifier and tenancy header without running anything (DryRun, and before every run). */
export async function prepareInvoke(scope: TenantScope, ref: FunctionRef, tenantId: string | undefined): Promise<InvokeTarget> {
  const target = await invokeTarget(scope, ref);
  const isolated = target.version.config.TenancyConfig?.TenantIsolationMode === "PER_TENANT";
  if (isolated && tenantId === undefined) {
    throw invalidParameter(
      "The function uses tenant isolation mode (TenancyConfig PER_TENANT): pass a tenant id in the X-Amz-Tenant-Id header (CLI --tenant-id, SDK TenantId).",
    );
  }
  if (!isolated && tenantId !== undefined) {
    throw invalidParameter(
      "The function does not use tenant isolation mode: remove the X-Amz-Tenant-Id header, or create the function with TenancyConfig {\"TenantIsolationMode\":\"PER_TENANT\"}.",
    );
  }
  return target;
}

/**
 * Runs one synchronous invocation: take a lease (429 before any user code if
 * over a limit), run the handler in this request through the executor, and
 * after responding hold the lease for the next warm invocation or give it back.
 */
export async function invokeSync(scope: TenantScope, target: InvokeTarget, opts: InvokeOptions): Promise<InvokeOutcome> {
  const { fn, version } = target;
  const config = version.config;
  const tenantId = scope.principal.tenantId;
  const timeoutMs = config.Timeout * 1000;
  const invokedArn = functionArn(scope.names, fn.name, target.qualifier);
  const executedArn = functionArn(scope.names, fn.name, version.version === LATEST ? undefined : version.version);
  // Another try only when the environment turns out to have crashed after
  // its last invocation: nothing ran in it, and it is retired.
  for (let attempt = 1; ; attempt++) {
    const lease = await leaseFor(scope, target, opts.tenantId ?? "", timeoutMs);
    let reusable = false;
    try {
      const result = await runInEnvironment(
        scope.env.LOADER,
        {
          id: lease.environmentId,
          loadBundle: () => loadBundle(scope.env, version.bundleKey),
          environment: config.Environment?.Variables ?? {},
          warm: lease.warm,
          egress: exports.EgressGateway({
            props: { allowPrivateEgress: scope.env.ALLOW_PRIVATE_EGRESS === "true", functionArn: executedArn },
          }),
          runtime: config.Runtime,
          handler: config.Handler,
        },
        {
          requestId: opts.requestId,
          payload: opts.payload,
          functionName: fn.name,
          functionVersion: version.version,
          invokedFunctionArn: invokedArn,
          memoryLimitInMB: config.MemorySize,
          timeoutSeconds: config.Timeout,
          logGroupName: config.LoggingConfig.LogGroup,
          logStreamName: logStreamName(version.version, lease.environmentId),
          ...(opts.clientContext === undefined ? {} : { clientContext: opts.clientContext }),
          ...(opts.tenantId === undefined ? {} : { tenantId: opts.tenantId }),
          egressToken: await signInvocationToken(await egressSecret(scope.env.KEY_DERIVATION_SECRET), {
            requestId: opts.requestId,
            functionArn: executedArn,
            depth: opts.lineageDepth,
          }),
        },
      );
      reusable = result.reusable;
      if (result.crashedBefore && attempt < MAX_ENVIRONMENT_ATTEMPTS) continue;
      if (result.crashedBefore) throw new LambdaError(500, "ServiceException", "The function's execution environments kept failing. Retry the request.");
      if (result.platformError) {
        // Our fault (e.g. the bundle could not be read), not the function's: a 500 the SDKs retry.
        console.error(`invoke ${invokedArn}: ${result.platformError}`);
        reusable = false;
        throw new LambdaError(500, "ServiceException", "The function could not be started. Retry the request.");
      }
      return { ...result, executedVersion: version.version };
    } finally {
      const release = (held: HeldLease, keep: boolean) => partitionOf(scope, fn.name).release(held.leaseId, tenantId, keep);
      opts.waitUntil(reusable ? hold(lease.poolKey, lease, (held) => release(held, true)) : release(lease, false));
    }
  }
}

/** Environments one invocation tries when they turn out to have crashed between invocations. */
const MAX_ENVIRONMENT_ATTEMPTS = 3;

interface Lease extends HeldLease {
  poolKey: string;
  /** The environment ran an invocation before. */
  warm: boolean;
}

/**
 * A lease for one invocation: one this isolate still holds from a finished
 * invocation of the same code if there is one (no round trip), else a new
 * one from the function's assignment partition, which refuses with 429
 * before any user code runs when a limit is reached.
 */
async function leaseFor(scope: TenantScope, target: InvokeTarget, isolationKey: string, timeoutMs: number): Promise<Lease> {
  const { fn, version } = target;
  if (fn.reservedConcurrency === 0) throw throttled("ReservedFunctionConcurrentInvocationLimitExceeded");
  const key = functionKey(scope.principal.tenantId, fn.name);
  const versionKey = `${version.version}@${version.revisionId}`;
  const pool = poolKey({ functionKey: key, versionKey, isolationKey, reserved: fn.reservedConcurrency, unreservedLimit: target.unreservedLimit });
  const held = takeHeld(pool, timeoutMs);
  if (held) return { ...held, poolKey: pool, warm: true };

  const grant: LeaseGrant = await partitionOf(scope, fn.name).acquire({
    tenantId: scope.principal.tenantId,
    functionKey: key,
    versionKey,
    isolationKey,
    reservedConcurrency: fn.reservedConcurrency,
    unreservedLimit: target.unreservedLimit,
    timeoutMs,
  });
  if (!grant.granted) throw throttled(grant.reason);
  return { leaseId: grant.leaseId, environmentId: grant.environmentId, expiresAt: grant.expiresAt, poolKey: pool, warm: !grant.cold };
}

/** The derived egress signing key, computed once per isolate (kept as a string, never a shared promise). */
let derivedEgress: { master: string; secret: string } | undefined;
async function egressSecret(master: string): Promise<string> {
  if (derivedEgress?.master !== master) derivedEgress = { master, secret: await deriveEgressSecret(master) };
  return derivedEgress.secret;
}

function partitionOf(scope: TenantScope, name: string) {
  return scope.env.ASSIGNMENT.get(scope.env.ASSIGNMENT.idFromName(functionKey(scope.principal.tenantId, name)));
}

const throttled = (reason: string) =>
  new LambdaError(429, "TooManyRequestsException", "Rate Exceeded.", { reason, retryAfterSeconds: 1 });

/** `YYYY/MM/DD/[version]<32 hex>`, stable per environment like Lambda's per-sandbox stream. */
function logStreamName(version: string, environmentId: string): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  const hex = [0, 1, 2, 3].map((i) => hash32(`${environmentId}#${i}`).toString(16).padStart(8, "0")).join("");
  return `${day}/[${version}]${hex}`;
}
