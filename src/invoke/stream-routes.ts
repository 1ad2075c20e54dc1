/**
 * InvokeWithResponseStream: `POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`.
 * The same synchronous invocation as Invoke (lease → runtime → release), with
 * the response bytes forwarded as the function writes them, framed as
 * `PayloadChunk` events and ended by one `InvokeComplete` (src/invoke/event-stream.ts).
 * A non-streaming handler's payload arrives as one chunk, as on Lambda.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requestEntityTooLarge } from "../errors";
import { qualifiedRef } from "../routes/context";
import { tailBase64 } from "../runtime/log-format";
import type { InvokeComplete } from "./event-stream";
import { invokeComplete, payloadChunk } from "./event-stream";
import type { InvokeOutcome } from "./run";
import { invokeSync } from "./run";
import { checkJson, clientContextOf, headerEnum, SYNC_PAYLOAD_LIMIT_BYTES, syncRunOptions, tenantIdOf } from "./routes";
import { prepareInvoke } from "./target";
import { takeInvokeRequest } from "./rate-quota";

/**
 * How long, after the invocation has ended, the function's stream may still
 * deliver bytes. The shim closes it before it answers, so this only matters
 * when the isolate was stopped (a timeout, a crash) with the stream still open.
 */
const STREAM_DRAIN_MS = 1_000;

/** Lambda's soft limit on a streamed response (20 MiB); past it the stream ends with Function.ResponseSizeTooLarge. */
export const STREAM_RESPONSE_LIMIT_BYTES = 20 * 1024 * 1024;

export const streamInvokeRoutes = new Hono<AppEnv>({ strict: false }).post("/:FunctionName/response-streaming-invocations", async (c) => {
  const invocationType = headerEnum(c, "X-Amz-Invocation-Type", "invocationType", ["RequestResponse", "DryRun"] as const) ?? "RequestResponse";
  const logType = headerEnum(c, "X-Amz-Log-Type", "logType", ["None", "Tail"] as const) ?? "None";
  const tenantId = tenantIdOf(c);
  const clientContext = clientContextOf(c);
  const ref = qualifiedRef(c);
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > SYNC_PAYLOAD_LIMIT_BYTES) throw tooLarge();
  const payload = await c.req.text();
  if (new TextEncoder().encode(payload).byteLength > SYNC_PAYLOAD_LIMIT_BYTES) throw tooLarge();
  checkJson(payload);

  const scope = c.var.scope;
  const target = await prepareInvoke(scope, ref, tenantId);
  if (invocationType === "DryRun") return c.body(null, 204);
  takeInvokeRequest(scope, target, c.get("requestId"), (p) => c.executionCtx.waitUntil(p));

  let bodyArrived: (body: { stream: ReadableStream<Uint8Array>; contentType: string }) => void = () => {};
  const body = new Promise<{ stream: ReadableStream<Uint8Array>; contentType: string }>((resolve) => {
    bodyArrived = resolve;
  });
  const running = invokeSync(scope, target, {
    ...syncRunOptions(c, payload, tenantId, clientContext, target.fn.name),
    onStream: (stream, contentType) => bodyArrived({ stream, contentType }),
  });
  c.executionCtx.waitUntil(running.then(noop, noop));
  // Refusals before any code ran (throttles, a function that cannot start) answer as Invoke would.
  const first = await Promise.race([body, running.then(() => ({ stream: undefined, contentType: "application/octet-stream" }))]);

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const forwarding = forward(first.stream, writable.getWriter(), running, logType === "Tail");
  c.executionCtx.waitUntil(forwarding);
  return new Response(readable, {
    status: 200,
    // The SDK reads Content-Type as ResponseStreamContentType: the function's own (setContentType).
    headers: { "Content-Type": first.contentType, "X-Amz-Executed-Version": target.version.version },
  });
});

/** Frames the function's bytes as PayloadChunk events, then InvokeComplete with the outcome. */
async function forward(
  stream: ReadableStream<Uint8Array> | undefined,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  running: Promise<InvokeOutcome>,
  tail: boolean,
): Promise<void> {
  let sent = 0;
  let tooLargeNow = false;
  try {
    if (stream) {
      const reader = stream.getReader();
      const ended = running.then(noop, noop).then(() => new Promise<{ done: true; value: undefined }>((resolve) => setTimeout(() => resolve({ done: true, value: undefined }), STREAM_DRAIN_MS)));
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), ended]);
        if (done) {
          await reader.cancel().catch(noop);
          break;
        }
        if (value.byteLength === 0) continue;
        sent += value.byteLength;
        if (sent > STREAM_RESPONSE_LIMIT_BYTES) {
          tooLargeNow = true;
          await reader.cancel();
          break;
        }
        await writer.write(payloadChunk(value));
      }
    }
    const complete: InvokeComplete = {};
    const outcome = await running.catch(() => undefined);
    if (tooLargeNow) {
      complete.ErrorCode = "Function.ResponseSizeTooLarge";
      complete.ErrorDetails = `Response payload size exceeded maximum allowed payload size (${STREAM_RESPONSE_LIMIT_BYTES} bytes).`;
    } else if (outcome === undefined) {
      complete.ErrorCode = "ServiceException";
      complete.ErrorDetails = "An internal error occurred. Retry the request.";
    } else if (outcome.functionError) {
      const error = parseError(outcome.payload);
      complete.ErrorCode = error.errorType;
      complete.ErrorDetails = error.errorMessage;
    }
    if (tail && outcome) complete.LogResult = tailBase64(outcome.log);
    await writer.write(invokeComplete(complete));
    await writer.close();
  } catch {
    // The client went away: nothing left to tell it.
    await writer.abort().catch(noop);
  }
}

function parseError(payload: string): { errorType: string; errorMessage: string } {
  try {
    const { errorType, errorMessage } = JSON.parse(payload) as { errorType?: unknown; errorMessage?: unknown };
    return { errorType: String(errorType ?? "Unhandled"), errorMessage: String(errorMessage ?? "") };
  } catch {
    return { errorType: "Unhandled", errorMessage: payload };
  }
}

const tooLarge = () => requestEntityTooLarge(`Request must be smaller than ${SYNC_PAYLOAD_LIMIT_BYTES} bytes for the InvokeWithResponseStream operation`);

function noop(): void {}
