/**
 * What one invocation of a durable function answered, read as the SDK
 * writes it (docs/reference/lambda-api-notes.md §8.3): `{Status: SUCCEEDED,
 * Result}`, `{Status: FAILED, Error}`, `{Status: PENDING}`. A function error
 * (the handler threw, e.g. on an invalid checkpoint token) or an answer of
 * any other shape is an invocation-level failure, retried. Pure.
 */
import type { ErrorObject } from "./types";

/** What src/durable/invoker.ts returns for one run. */
export type RunAnswer =
  | { kind: "returned"; payload: string; functionError?: string }
  | { kind: "refused"; throttled: boolean; message: string; reason?: string };

export type InvocationOutcome =
  | { kind: "succeeded"; result?: string }
  | { kind: "execution-failed"; error: ErrorObject }
  | { kind: "pending" }
  /** `pooled`: refused by the tenant's unreserved pool, whose freed slots wake waiters (src/invoke/slot-waiters.ts). */
  | { kind: "throttled"; pooled: boolean }
  | { kind: "failed"; error: ErrorObject };

export function readInvocationOutcome(answer: RunAnswer): InvocationOutcome {
  if (answer.kind === "refused") {
    if (answer.throttled) return { kind: "throttled", pooled: answer.reason === "ConcurrentInvocationLimitExceeded" };
    return { kind: "failed", error: { ErrorType: "Lambda.InvocationRefused", ErrorMessage: answer.message } };
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.payload);
  } catch {
    body = undefined;
  }
  if (answer.functionError !== undefined) return { kind: "failed", error: lambdaError(body) };
  if (typeof body !== "object" || body === null) return { kind: "failed", error: invalidAnswer() };
  const b = body as { Status?: unknown; Result?: unknown; Error?: unknown };
  if (b.Status === "PENDING") return { kind: "pending" };
  if (b.Status === "SUCCEEDED") return typeof b.Result === "string" ? { kind: "succeeded", result: b.Result } : { kind: "succeeded" };
  if (b.Status === "FAILED") return { kind: "execution-failed", error: errorObject(b.Error) };
  return { kind: "failed", error: invalidAnswer() };
}

/** A Lambda function error payload (`{errorType, errorMessage, stackTrace}`) as an ErrorObject. */
export function lambdaError(body: unknown): ErrorObject {
  const b = (typeof body === "object" && body !== null ? body : {}) as { errorType?: unknown; errorMessage?: unknown; stackTrace?: unknown };
  const out: ErrorObject = {
    ErrorType: typeof b.errorType === "string" ? b.errorType : "Error",
    ErrorMessage: typeof b.errorMessage === "string" ? b.errorMessage : "The function failed.",
  };
  if (Array.isArray(b.stackTrace)) out.StackTrace = b.stackTrace.filter((l): l is string => typeof l === "string");
  return out;
}

function errorObject(raw: unknown): ErrorObject {
  if (typeof raw !== "object" || raw === null) return { ErrorType: "Error", ErrorMessage: "The execution failed." };
  const r = raw as Record<string, unknown>;
  const out: ErrorObject = {};
  if (typeof r.ErrorType === "string") out.ErrorType = r.ErrorType;
  if (typeof r.ErrorMessage === "string") out.ErrorMessage = r.ErrorMessage;
  if (typeof r.ErrorData === "string") out.ErrorData = r.ErrorData;
  if (Array.isArray(r.StackTrace)) out.StackTrace = r.StackTrace.filter((l): l is string => typeof l === "string");
  return out;
}

function invalidAnswer(): ErrorObject {
  return {
    ErrorType: "Lambda.InvalidDurableResponse",
    ErrorMessage: "The durable function did not answer {Status: SUCCEEDED|FAILED|PENDING}. Wrap the handler with withDurableExecution.",
  };
}
