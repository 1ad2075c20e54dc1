/**
 * Names of durable executions: their ARNs, the Durable Object each lives
 * in, execution names, callback ids and checkpoint tokens. Pure.
 *
 * An execution's object is keyed by tenant, function and execution name, so
 * that a name given twice reaches the same object (idempotent starts) and
 * an ARN or callback id of another tenant, read with the caller's tenant,
 * names an object that holds nothing: isolation needs no lookup table.
 */
import type { NameContext } from "../lambda/function-name";
import { fromBase64Url, toBase64Url } from "../util/bytes";

/** `X-Amz-Durable-Execution-Name`: the model's DurableExecutionName. */
const EXECUTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const EXECUTION_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]{1,64}):(\$LATEST|[a-zA-Z0-9_-]{1,128})\/durable-execution\/([a-zA-Z0-9_-]{1,64})\/([a-zA-Z0-9_-]{1,64})$/;
/** The model's DurableExecutionArn maximum. */
export const EXECUTION_ARN_MAX = 1024;

export interface ExecutionName {
  accountId: string;
  region: string;
  functionName: string;
  version: string;
  executionName: string;
  executionId: string;
}

export function isExecutionName(name: string): boolean {
  return EXECUTION_NAME.test(name);
}

export function executionArn(ctx: NameContext, functionName: string, version: string, executionName: string, executionId: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${functionName}:${version}/durable-execution/${executionName}/${executionId}`;
}

export function parseExecutionArn(arn: string): ExecutionName | null {
  if (arn.length > EXECUTION_ARN_MAX) return null;
  const m = EXECUTION_ARN.exec(arn);
  if (!m) return null;
  const [, region = "", accountId = "", functionName = "", version = "", executionName = "", executionId = ""] = m;
  return { region, accountId, functionName, version, executionName, executionId };
}

/** The Durable Object name of an execution. */
export function executionObjectName(tenantId: string, functionName: string, executionName: string): string {
  return `${tenantId}/${functionName}/${executionName}`;
}

/**
 * A callback id names the execution (function and execution name, read in
 * the caller's tenant), the operation, and a random nonce the object checks:
 * it is unguessable, and useless to any other tenant.
 */
export interface CallbackRef {
  functionName: string;
  executionName: string;
  nonce: string;
}

export function callbackIdOf(ref: CallbackRef): string {
  return toBase64Url(new TextEncoder().encode(`${ref.functionName}\n${ref.executionName}\n${ref.nonce}`));
}

export function parseCallbackId(id: string): CallbackRef | null {
  if (id.length === 0 || id.length > 1024) return null;
  const bytes = fromBase64Url(id);
  if (!bytes) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
  const [functionName, executionName, nonce, ...rest] = text.split("\n");
  if (!functionName || !executionName || !nonce || rest.length > 0) return null;
  if (!isExecutionName(executionName)) return null;
  return { functionName, executionName, nonce };
}

/** 128 random bits, hex. */
export function randomHex(bytes = 16): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A checkpoint token: random, in the model's base64 alphabet. */
export function newCheckpointToken(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}
