/**
 * What the runtime gets for one invocation on a leased environment: the
 * environment (code, variables, egress) and the request (payload, context
 * fields, the signed lineage token the egress gateway checks).
 */
import { exports } from "cloudflare:workers";
import { LATEST } from "../data/function-store";
import { functionArn } from "../lambda/function-name";
import { hash32 } from "../placement/hash";
import { loadBundle } from "../runtime/bundle-cache";
import type { ExecutionEnvironment, InvocationRequest } from "../runtime/executor";
import type { SessionCredentials } from "../auth/session-credentials";
import { mintSessionCredentials, SESSION_TTL_S } from "../auth/session-credentials";
import { deriveEgressSecret, invocationToken, invocationTraceId } from "../runtime/lineage";
import type { LineageCounts } from "../runtime/lineage";
import type { TenantScope } from "../services/scope";
import type { Lease } from "./lease";
import type { InvokeTarget } from "./target";

export interface InvokeOptions {
  requestId: string;
  payload: string;
  /** X-Amz-Tenant-Id. */
  tenantId: string | undefined;
  clientContext: unknown;
  /** The chain of invocations that caused this one (NO_LINEAGE when not called from a function). */
  lineage: LineageCounts;
}

export async function invocationFor(
  scope: TenantScope,
  target: InvokeTarget,
  lease: Lease,
  opts: InvokeOptions,
  /** This invocation's own chain (src/invoke/recursion.ts), stamped on its outgoing requests. */
  lineage: LineageCounts,
): Promise<{ environment: ExecutionEnvironment; request: InvocationRequest }> {
  const { fn, version } = target;
  const config = version.config;
  const executedArn = functionArn(scope.names, fn.name, version.version === LATEST ? undefined : version.version);
  const env = scope.env;
  const environment: ExecutionEnvironment = {
    id: lease.environmentId,
    loadBundle: () => loadBundle(env, version.bundleKey),
    environment: config.Environment?.Variables ?? {},
    warm: lease.warm,
    initializationType: lease.provisioned ? "provisioned-concurrency" : "on-demand",
    // Only a new isolate needs its egress stub: built when the loader asks.
    get egress() {
      return exports.EgressGateway({ props: { allowPrivateEgress: env.ALLOW_PRIVATE_EGRESS === "true", functionArn: executedArn } });
    },
    runtime: config.Runtime,
    handler: config.Handler,
    ephemeralStorageMB: config.EphemeralStorage.Size,

    logging: config.LoggingConfig,
  };
  const request: InvocationRequest = {
    requestId: opts.requestId,
    payload: opts.payload,
    functionName: fn.name,
    functionVersion: version.version,
    invokedFunctionArn: functionArn(scope.names, fn.name, target.qualifier),
    memoryLimitInMB: config.MemorySize,
    timeoutSeconds: config.Timeout,
    logGroupName: config.LoggingConfig.LogGroup,
    logStreamName: logStreamName(version.version, lease.environmentId),
    ...(opts.clientContext === undefined ? {} : { clientContext: opts.clientContext }),
    ...(opts.tenantId === undefined ? {} : { tenantId: opts.tenantId }),
    traceId: invocationTraceId(opts.requestId),
    credentials: await credentialsFor(env.KEY_DERIVATION_SECRET, { tenantId: scope.principal.tenantId, functionName: fn.name, environmentId: lease.environmentId }),
    egressToken: await invocationToken(await egressSecret(env.KEY_DERIVATION_SECRET), {
      requestId: opts.requestId,
      functionArn: executedArn,
      counts: lineage,
    }),
  };
  return { environment, request };
}

/** The derived egress signing key, computed once per isolate (kept as a string, never a shared promise). */
let derivedEgress: { master: string; secret: string } | undefined;
async function egressSecret(master: string): Promise<string> {
  if (derivedEgress?.master !== master) derivedEgress = { master, secret: await deriveEgressSecret(master) };
  return derivedEgress.secret;
}

/** Session credentials of recent environments, re-minted once half their lifetime has passed. */
const credentialsByEnvironment = new Map<string, SessionCredentials>();
const MAX_CACHED_CREDENTIALS = 10_000;

export async function credentialsFor(master: string, subject: { tenantId: string; functionName: string; environmentId: string }): Promise<SessionCredentials> {
  const key = `${subject.tenantId}/${subject.functionName}/${subject.environmentId}`;
  const cached = credentialsByEnvironment.get(key);
  if (cached && Date.parse(cached.expiration) - Date.now() > (SESSION_TTL_S * 1000) / 2) return cached;
  const minted = await mintSessionCredentials(master, subject);
  if (credentialsByEnvironment.size >= MAX_CACHED_CREDENTIALS) credentialsByEnvironment.clear();
  credentialsByEnvironment.set(key, minted);
  return minted;
}

/** Environment ids of recent log streams → their 32-hex suffix (stable per environment). */
const streamSuffixes = new Map<string, string>();
const MAX_STREAM_SUFFIXES = 10_000;

/** `YYYY/MM/DD/[version]<32 hex>`, stable per environment like Lambda's per-sandbox stream. */
export function logStreamName(version: string, environmentId: string): string {
  let hex = streamSuffixes.get(environmentId);
  if (hex === undefined) {
    hex = [0, 1, 2, 3].map((i) => hash32(`${environmentId}#${i}`).toString(16).padStart(8, "0")).join("");
    if (streamSuffixes.size >= MAX_STREAM_SUFFIXES) streamSuffixes.clear();
    streamSuffixes.set(environmentId, hex);
  }
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  return `${day}/[${version}]${hex}`;
}
