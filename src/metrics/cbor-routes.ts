/**
 * CloudWatch in the smithy-rpc-v2-cbor protocol, which current SDK v3
 * clients (@aws-sdk/client-cloudwatch) speak: `POST
 * /service/GraniteServiceVersion20100801/operation/<Operation>` with a CBOR
 * body and `smithy-protocol: rpc-v2-cbor`, signed for `monitoring`. The
 * operations are the JSON protocol's (./service.ts); only the encoding
 * differs: timestamps travel as CBOR tag 1, errors as a CBOR
 * `{__type, message}` with CloudWatch's `x-amzn-query-error`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authenticate } from "../auth/authenticate";
import { AwsJsonError, jsonAuthError } from "../aws-json/errors";
import { LambdaError } from "../errors";
import { CborError, decodeCbor, encodeCbor, EpochSeconds } from "./cbor";
import { cloudWatchService } from "./service";

export const CBOR_SERVICE_PATH = "/service/GraniteServiceVersion20100801";

function cborResponse(status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Response {
  return new Response(encodeCbor(body), {
    status,
    headers: { "content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": requestId, ...extra },
  });
}

/** Output members that are timestamps in CloudWatch's model: `Timestamp` (Datapoint) and `Timestamps` (MetricDataResult). */
function tagTimestamps(value: unknown, key = ""): unknown {
  if (key === "Timestamp" && typeof value === "number") return new EpochSeconds(value);
  if (key === "Timestamps" && Array.isArray(value)) return value.map((t) => (typeof t === "number" ? new EpochSeconds(t) : t));
  if (Array.isArray(value)) return value.map((item) => tagTimestamps(item));
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tagTimestamps(v, k)]));
  }
  return value;
}

/** An error in CloudWatch's CBOR shape (also the door's throttle, src/invoke/door.ts). */
export function cborErrorResponse(error: unknown, requestId: string): Response {
  const prefix = cloudWatchService.errorTypePrefix;
  if (error instanceof AwsJsonError) {
    return cborResponse(error.status, { __type: `${prefix}${error.type}`, message: error.message }, requestId, error.queryError ? { "x-amzn-query-error": error.queryError } : {});
  }
  if (error instanceof LambdaError && error.status < 500) {
    const refused = jsonAuthError(error);
    return cborResponse(refused.status, { __type: refused.type, message: refused.message }, requestId);
  }
  console.error("cloudwatch cbor: unhandled error", error);
  return cborResponse(500, { __type: `${prefix}InternalServiceFault`, message: "Internal service error." }, requestId, { "x-amzn-query-error": "InternalServiceError;Receiver" });
}

export const cloudWatchCborRoutes = new Hono<AppEnv>({ strict: false }).post("/operation/:operation", async (c) => {
  const requestId = c.get("requestId");
  try {
    const name = c.req.param("operation");
    const operation = Object.hasOwn(cloudWatchService.operations, name) ? cloudWatchService.operations[name] : undefined;
    if (!operation) throw new AwsJsonError(400, "UnknownOperationException", `Unknown operation: ${name}`);
    const principal = await authenticate(c.env, c.req.raw, () => c.req.arrayBuffer(), cloudWatchService.signingName);
    let input: unknown;
    try {
      input = decodeCbor(new Uint8Array(await c.req.arrayBuffer()));
    } catch (err) {
      if (!(err instanceof CborError) && !(err instanceof TypeError)) throw err;
      throw new AwsJsonError(400, "SerializationException", `The request body is not valid CBOR: ${err.message}`);
    }
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new AwsJsonError(400, "SerializationException", "The request body must be a CBOR map.");
    }
    const output = await operation(input as Record<string, unknown>, {
      traceHeader: c.req.header("X-Amzn-Trace-Id"),
      env: c.env,
      principal,
      requestId,
      endpoint: new URL(c.req.url).origin,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      signal: c.req.raw.signal,
    });
    return cborResponse(200, tagTimestamps(output ?? {}), requestId);
  } catch (error) {
    return cborErrorResponse(error, requestId);
  }
});
