/**
 * Starting a durable execution (Invoke of a durable function, sync or
 * async, and chained invokes) and waiting for its end. The execution's
 * object is found by tenant, function and execution name, so the same
 * `X-Amz-Durable-Execution-Name` reaches the same execution.
 */
import { callbackTimedOut, durableExecutionAlreadyStarted, durableExecutionEnded, invalidParameter, notFound } from "../errors";
import type { LambdaError } from "../errors";
import type { InvokeTarget } from "../invoke/target";
import type { TenantScope } from "../services/scope";
import type { Answer, DurableExecution, Refusal } from "./execution-object";
import { executionObjectName } from "./names";
import type { DurableConfig } from "./types";

/** When DurableConfig leaves ExecutionTimeout out (unconfirmed default: one day). */
export const DEFAULT_EXECUTION_TIMEOUT_S = 86_400;
export const DEFAULT_RETENTION_DAYS = 14;
/** A sync Invoke waits this long for the execution, as Lambda's synchronous limit. */
export const SYNC_WAIT_MAX_MS = 900_000;
/** One waitForEnd call waits at most this long (the loop asks again). */
const WAIT_SLICE_MS = 60_000;

export interface StartedExecution {
  arn: string;
  executionId: string;
  version: string;
  stub: DurableObjectStub<DurableExecution>;
}

export function executionStub(env: Env, tenantId: string, functionName: string, executionName: string): DurableObjectStub<DurableExecution> {
  return env.DURABLE_EXECUTION.getByName(executionObjectName(tenantId, functionName, executionName));
}

export async function startDurableExecution(scope: TenantScope, target: InvokeTarget, input: string, executionName: string): Promise<StartedExecution> {
  const config: Partial<DurableConfig> = target.version.config.DurableConfig ?? {};
  const stub = executionStub(scope.env, scope.principal.tenantId, target.fn.name, executionName);
  const answer = await stub.start({
    tenantId: scope.principal.tenantId,
    accountId: scope.principal.accountId,
    region: scope.names.region,
    functionName: target.fn.name,
    version: target.version.version,
    executionName,
    input,
    executionTimeoutS: config.ExecutionTimeout ?? DEFAULT_EXECUTION_TIMEOUT_S,
    retentionDays: config.RetentionPeriodInDays ?? DEFAULT_RETENTION_DAYS,
    functionTimeoutS: target.version.config.Timeout,
  });
  if (answer.refused) throw refusalError(answer.refused, executionName);
  return { ...answer.ok, stub };
}

/** The execution's description once it ended, or as it is when `maxMs` ran out. */
export async function awaitEnd(started: Pick<StartedExecution, "stub" | "executionId" | "arn">, maxMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    // The RPC stub's return type is a structural copy the checker cannot narrow; it is this Answer.
    const answer = (await started.stub.waitForEnd(started.executionId, Math.max(0, Math.min(WAIT_SLICE_MS, deadline - Date.now())))) as Answer<Record<string, unknown>>;
    if (answer.refused) throw refusalError(answer.refused, started.arn);
    if (answer.ok.Status !== "RUNNING" || Date.now() >= deadline) return answer.ok;
  }
}

/** The AWS error for an object's refusal; `subject` names what was asked for (an ARN or a callback id). */
export function refusalError(refusal: Refusal, subject: string): LambdaError {
  switch (refusal.code) {
    case "NotFound":
      return notFound(`${refusal.message} (${subject})`);
    case "AlreadyStarted":
      return durableExecutionAlreadyStarted(refusal.message);
    case "CallbackTimeout":
      return callbackTimedOut(refusal.message);
    case "Conflict":
      return durableExecutionEnded(refusal.message);
    case "InvalidParameter":
      return invalidParameter(refusal.message);
  }
}
