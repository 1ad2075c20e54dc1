/**
 * Initialises one provisioned execution environment ahead of traffic: the
 * environment and request an invocation would have (code, variables, egress,
 * session credentials, log stream), with AWS_LAMBDA_INITIALIZATION_TYPE
 * `provisioned-concurrency`, and no payload. The init lines go to the
 * environment's log stream, as Lambda's do.
 */
import { exports } from "cloudflare:workers";
import type { VersionRow } from "../data/function-store";
import { shipInvocationLog } from "../logs/shipper";
import { loadBundle } from "../runtime/bundle-cache";
import type { ExecutionEnvironment, InvocationRequest } from "../runtime/executor";
import type { InitOutcome } from "../runtime/initialise";
import { initialise } from "../runtime/initialise";
import { credentialsFor, logStreamName } from "./invocation";

/** What the partition keeps to (re-)initialise an environment of one version without reading D1. */
export interface WarmSpec {
  tenantId: string;
  functionName: string;
  version: string;
  bundleKey: string;
  config: VersionRow["config"];
  /** The version's ARN (egress gateway lineage, invokedFunctionArn during init). */
  executedArn: string;
}

export async function warmEnvironment(
  env: Env,
  spec: WarmSpec,
  environmentId: string,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<InitOutcome> {
  const config = spec.config;
  const environment: ExecutionEnvironment = {
    id: environmentId,
    loadBundle: () => loadBundle(env, spec.bundleKey),
    environment: config.Environment?.Variables ?? {},
    get egress() {
      return exports.EgressGateway({ props: { allowPrivateEgress: env.ALLOW_PRIVATE_EGRESS === "true", functionArn: spec.executedArn } });
    },
    runtime: config.Runtime,
    handler: config.Handler,
    ephemeralStorageMB: config.EphemeralStorage.Size,
    logging: config.LoggingConfig,
    initializationType: "provisioned-concurrency",
  };
  const logStream = logStreamName(spec.version, environmentId);
  const request: InvocationRequest = {
    requestId: crypto.randomUUID(),
    payload: "",
    functionName: spec.functionName,
    functionVersion: spec.version,
    invokedFunctionArn: spec.executedArn,
    memoryLimitInMB: config.MemorySize,
    timeoutSeconds: config.Timeout,
    logGroupName: config.LoggingConfig.LogGroup,
    logStreamName: logStream,
    credentials: await credentialsFor(env.KEY_DERIVATION_SECRET, { tenantId: spec.tenantId, functionName: spec.functionName, environmentId }),
  };
  const outcome = await initialise(env.LOADER, environment, request);
  if (outcome.kind === "initialised" || outcome.kind === "failed") {
    shipInvocationLog(env, { tenantId: spec.tenantId, logGroup: config.LoggingConfig.LogGroup, logStream, lines: outcome.lines }, waitUntil);
  }
  return outcome;
}
