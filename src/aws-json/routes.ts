import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authenticate } from "../auth/authenticate";
import { LambdaError } from "../errors";
import { AwsJsonError, jsonAuthError } from "./errors";
import { JSON_SERVICES } from "./registry";
import type { JsonService } from "./service";

const FALLBACK: Pick<JsonService, "errorTypePrefix" | "contentType"> = { errorTypePrefix: "", contentType: "application/x-amz-json-1.1" };

/**
 * `POST /` for the JSON-protocol services (SQS, Kinesis, CloudWatch Logs):
 * picks the service by `X-Amz-Target`, authenticates the tenant with the
 * service's SigV4 signing name, parses the body and runs the operation.
 * Errors leave in that service's shape, never Lambda's.
 */
export const awsJsonRoutes = new Hono<AppEnv>({ strict: false }).post("/", async (c) => {
  const arrived = Date.now();
  const target = c.req.header("x-amz-target") ?? "";
  const dot = target.lastIndexOf(".");
  const service = JSON_SERVICES.find((s) => s.targetPrefix === target.slice(0, dot));
  try {
    if (!service) throw new AwsJsonError(400, "UnknownOperationException", target ? `Unknown target: ${target}` : "Missing X-Amz-Target header");
    const name = target.slice(dot + 1);
    const operation = Object.hasOwn(service.operations, name) ? service.operations[name] : undefined;
    if (!operation) throw new AwsJsonError(400, "UnknownOperationException", `Unknown operation: ${name}`);
    const principal = await authenticate(c.env, c.req.raw, () => c.req.arrayBuffer(), service.signingName);
    const authenticated = Date.now();
    const input = parseBody(await c.req.text());
    const output = await operation(input, {
      env: c.env,
      principal,
      requestId: c.get("requestId"),
      endpoint: new URL(c.req.url).origin,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      signal: c.req.raw.signal,
      traceHeader: c.req.header("X-Amzn-Trace-Id"),
    });
    // An operation that streams (StartLiveTail's event stream) answers its own Response.
    if (output instanceof Response) return output;
    return new Response(JSON.stringify(output ?? {}), {
      status: 200,
      headers: {
        "content-type": service.contentType,
        "x-amzn-RequestId": c.get("requestId"),
        "server-timing": serverTiming(arrived, authenticated, Date.now()),
      },
    });
  } catch (error) {
    return errorResponse(c, service ?? FALLBACK, error);
  }
});

/**
 * Where a request's time went on this side (bench:queues splits its send leg
 * with it): `arrive` is the epoch ms the route started (workerd's clock, which
 * moves on I/O), `auth` the SigV4 check, `op` the operation (for SQS, the
 * queue object's call). Clients ignore the header.
 */
function serverTiming(arrived: number, authenticated: number, answered: number): string {
  return `arrive;desc="${arrived}", auth;dur=${authenticated - arrived}, op;dur=${answered - authenticated}`;
}

function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AwsJsonError(400, "SerializationException", "Start of structure or map found where not expected.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AwsJsonError(400, "SerializationException", "Start of structure or map found where not expected.");
  }
  return value as Record<string, unknown>;
}

function errorResponse(c: Context<AppEnv>, service: Pick<JsonService, "errorTypePrefix" | "contentType">, error: unknown): Response {
  const requestId = c.get("requestId");
  if (error instanceof AwsJsonError) return error.toResponse(service.errorTypePrefix, service.contentType, requestId);
  // Authentication failures keep their codes; JSON services answer them with 400 (403 for a missing token).
  if (error instanceof LambdaError && error.status < 500) return jsonAuthError(error).toResponse("", service.contentType, requestId);
  console.error("aws-json: unhandled error", c.req.header("x-amz-target"), error);
  return new AwsJsonError(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.").toResponse(
    "",
    service.contentType,
    requestId,
  );
}
