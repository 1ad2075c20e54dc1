/**
 * Invoke of a durable function (docs/reference/lambda-api-notes.md §8.1):
 * starts (or, by name, finds) the execution and answers its ARN in
 * `X-Amz-Durable-Execution-Arn`; RequestResponse waits for the end and
 * answers the result, Event answers 202 at once.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { invalidDurableExecutionName } from "../errors";
import type { InvokeTarget } from "../invoke/target";
import type { TenantScope } from "../services/scope";
import { isExecutionName } from "./names";
import { awaitEnd, startDurableExecution, SYNC_WAIT_MAX_MS } from "./start";

export const EXECUTION_NAME_HEADER = "X-Amz-Durable-Execution-Name";
export const EXECUTION_ARN_HEADER = "X-Amz-Durable-Execution-Arn";

/** The execution name header, checked against the model before anything starts. */
export function executionNameOf(c: Context<AppEnv>): string | undefined {
  const name = c.req.header(EXECUTION_NAME_HEADER);
  if (name !== undefined && !isExecutionName(name)) throw invalidDurableExecutionName(name);
  return name;
}

export async function invokeDurable(
  c: Context<AppEnv>,
  scope: TenantScope,
  target: InvokeTarget,
  payload: string,
  invocationType: "Event" | "RequestResponse",
  executionName: string | undefined,
): Promise<Response> {
  const input = payload.trim() === "" ? "{}" : payload;
  const started = await startDurableExecution(scope, target, input, executionName ?? crypto.randomUUID());
  const headers: Record<string, string> = {
    [EXECUTION_ARN_HEADER]: started.arn,
    "X-Amz-Executed-Version": started.version,
    "content-type": "application/json",
  };
  if (invocationType === "Event") return c.body(null, 202, headers);
  const end = await awaitEnd(started, SYNC_WAIT_MAX_MS);
  if (end.Status === "SUCCEEDED") return c.body(typeof end.Result === "string" && end.Result !== "" ? end.Result : "null", 200, headers);
  const error = (end.Error ?? {}) as { ErrorType?: string; ErrorMessage?: string; StackTrace?: string[] };
  const body = end.Status === "RUNNING"
    ? { errorType: "DurableExecutionStillRunning", errorMessage: `The execution is still running after ${SYNC_WAIT_MAX_MS / 1000} seconds; follow it with GetDurableExecution.` }
    : { errorType: error.ErrorType ?? String(end.Status), errorMessage: error.ErrorMessage ?? `The execution ended ${String(end.Status)}.`, ...(error.StackTrace ? { stackTrace: error.StackTrace } : {}) };
  return c.body(JSON.stringify(body), 200, { ...headers, "X-Amz-Function-Error": "Unhandled" });
}
