import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { durableUnqualifiedInvoke, invalidParameter, invalidRequestContent, requestEntityTooLarge, validationError } from "../errors";
import { handOver } from "./door";
import type { LeaseTiming, RunControl } from "./run";
import { readLineage, TRACE_HEADER } from "../runtime/lineage";
import type { LineageCounts } from "../runtime/lineage";
import { NO_LINEAGE } from "./recursion";
import { tailBase64 } from "../runtime/log-format";
import { ASYNC_PAYLOAD_LIMIT_BYTES, enqueueEvent } from "../async/enqueue";
import { recordAsyncEvent } from "../metrics/record-events";
import { invokeSync } from "./run";
import { invokeScope, prepareInvoke } from "./target";
import { takeInvokeRequest } from "./rate-quota";
import { qualifiedRef } from "../routes/context";
import { executionNameOf, invokeDurable } from "../durable/invoke-durable";

/** Lambda's synchronous payload limit, request and response (docs/reference/lambda-api-notes.md Appendix B). */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6_291_456;
const CLIENT_CONTEXT_MAX_BYTES = 3583;
const TENANT_ID = /^[a-zA-Z0-9._:/=+\-@ ]{1,256}$/;
const INVOCATION_TYPES = ["Event", "RequestResponse", "DryRun"] as const;

/** Invoke: `POST /2015-03-31/functions/{FunctionName}/invocations`. */
export const invokeRoutes = new Hono<AppEnv>({ strict: false }).post("/:FunctionName/invocations", async (c) => {
  const invocationType = headerEnum(c, "X-Amz-Invocation-Type", "invocationType", INVOCATION_TYPES) ?? "RequestResponse";
  // An oversize request is refused before anything else of it is parsed, as Lambda does.
  const limit = invocationType === "Event" ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES;
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) throw tooLarge(invocationType, declared, limit);
  const logType = headerEnum(c, "X-Amz-Log-Type", "logType", ["None", "Tail"] as const) ?? "None";
  const tenantId = tenantIdOf(c);
  const clientContext = clientContextOf(c);
  // Another account's function by full ARN: allowed only where its resource policy grants it.
  const ref = qualifiedRef(c, { otherAccounts: true });

  const payload = await c.req.text();
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a payload that might be over the limit is encoded to count its bytes.
  if (payload.length * 3 > limit) {
    const size = new TextEncoder().encode(payload).byteLength;
    if (size > limit) throw tooLarge(invocationType, size, limit);
  }
  checkJson(payload);

  const scope = await invokeScope(c.var.scope, ref);
  const target = await prepareInvoke(scope, ref, tenantId);
  // A synchronous invoke counts against the function's request rate (an Event or a DryRun does not).
  if (invocationType === "RequestResponse") takeInvokeRequest(scope, target, c.get("requestId"), (p) => c.executionCtx.waitUntil(p));
  if (target.version.config.DurableConfig) {
    // A durable execution replays one version: Lambda refuses to start one on the moving unqualified function.
    if (ref.qualifier === undefined) throw durableUnqualifiedInvoke();
    const executionName = executionNameOf(c);
    if (invocationType === "DryRun") return c.body(null, 204);
    return invokeDurable(c, scope, target, payload, invocationType, executionName);
  }
  if (invocationType === "DryRun") return c.body(null, 204);
  if (invocationType === "Event") {
    // A function throttled to zero still gets its events (202), as on Lambda:
    // the poller handles them as throttled (src/async/outcome.ts).
    await enqueueEvent(scope, ref, payload, { requestId: c.get("requestId"), isolationTenantId: tenantId, lineage: lineageOf(c) });
    const metrics = { tenantId: scope.principal.tenantId, functionName: target.fn.name, qualifier: ref.qualifier, executedVersion: target.version.version };
    recordAsyncEvent(c.env, metrics, "AsyncEventsReceived", (p) => c.executionCtx.waitUntil(p));
    return c.body(null, 202);
  }

  const running = invokeSync(scope, target, syncRunOptions(c, payload, tenantId, clientContext, target.fn.name));
  // Under waitUntil the invocation (and its lease's release) finishes even if
  // the client disconnects, instead of holding the slot until it expires.
  c.executionCtx.waitUntil(running.then(noop, noop));
  const outcome = await running;

  const headers: Record<string, string> = {
    "content-type": "application/json",
    "X-Amz-Executed-Version": outcome.executedVersion,
    "Server-Timing": leaseServerTiming(outcome.lease),
  };
  if (outcome.functionError) headers["X-Amz-Function-Error"] = outcome.functionError;
  if (logType === "Tail") headers["X-Amz-Log-Result"] = tailBase64(outcome.log);
  return c.body(outcome.payload, 200, headers);
});

/**
 * The options of a synchronous run for this request (Invoke and
 * InvokeWithResponseStream). The invocation takes over the ticket the
 * request was admitted with at the door (src/invoke/door.ts).
 */
export function syncRunOptions(c: Context<AppEnv>, payload: string, tenantId: string | undefined, clientContext: unknown, functionName: string) {
  const admission = handOver(c.req.raw, `${c.var.scope.principal.tenantId}\u0000${functionName}`);
  const control: RunControl = {
    waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p),
    signal: c.req.raw.signal,
    ...(admission ? { admission } : {}),
  };
  return { requestId: c.get("requestId"), payload, tenantId, clientContext, lineage: lineageOf(c), ...control };
}

const tooLarge = (type: string, size: number, limit: number) =>
  requestEntityTooLarge(
    type === "Event"
      ? `${size} byte payload is too large for the Event invocation type (limit ${limit} bytes)`
      : `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
  );

export function headerEnum<T extends string>(c: Context<AppEnv>, header: string, member: string, values: readonly T[]): T | undefined {
  const value = c.req.header(header);
  if (value === undefined) return undefined;
  if ((values as readonly string[]).includes(value)) return value as T;
  throw validationError(
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(", ")}]`,
  );
}

export function tenantIdOf(c: Context<AppEnv>): string | undefined {
  const value = c.req.header("X-Amz-Tenant-Id");
  if (value === undefined) return undefined;
  if (!TENANT_ID.test(value)) {
    throw validationError(
      `1 validation error detected: Value '${value}' at 'tenantId' failed to satisfy constraint: Member must have length between 1 and 256 and satisfy regular expression pattern: [a-zA-Z0-9\\._:\\/=+\\-@ ]+`,
    );
  }
  return value;
}

/** X-Amz-Client-Context: base64 of a JSON object, surfaced to the handler as context.clientContext. */
export function clientContextOf(c: Context<AppEnv>): unknown {
  const value = c.req.header("X-Amz-Client-Context");
  if (value === undefined) return undefined;
  if (value.length > CLIENT_CONTEXT_MAX_BYTES) {
    throw invalidParameter(`Client context must be at most ${CLIENT_CONTEXT_MAX_BYTES} bytes of base64.`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0))));
  } catch {
    throw invalidParameter("Client context must be a base64-encoded JSON object (X-Amz-Client-Context).");
  }
}

/**
 * A call made from inside a function carries its chain of invocations in
 * `X-Amzn-Trace-Id` (stamped by the egress gateway). A caller outside could
 * write any Lineage there, but only to have its own invocations stopped sooner.
 */
export function lineageOf(c: Context<AppEnv>): LineageCounts {
  const header = c.req.header(TRACE_HEADER);
  return (header ? readLineage(header) : null) ?? NO_LINEAGE;
}

export function checkJson(payload: string): void {
  if (payload.trim() === "") return;
  try {
    JSON.parse(payload);
  } catch (err) {
    throw invalidRequestContent(`Could not parse payload into json: ${(err as Error).message}`);
  }
}

function noop(): void {}

/**
 * `lease-held;dur=0` or `lease-partition;dur=1.0`: where this invocation's
 * lease came from and how long its acquire took (`npm run bench:invoke`
 * counts them per row). Names only cellfn's own stages, nothing of the tenant.
 */
export function leaseServerTiming(lease: LeaseTiming): string {
  return `lease-${lease.source};dur=${lease.ms.toFixed(1)}`;
}
