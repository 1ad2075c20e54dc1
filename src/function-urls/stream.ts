/**
 * RESPONSE_STREAM URLs: the function's bytes go to the client as it writes
 * them. The response starts at the function's first write (so a failure
 * before any byte is still a 502); a handler that used
 * `awslambda.HttpResponseStream.from` has its prelude (status, headers,
 * cookies, then 8 NUL bytes) read first and turned into the status line and
 * headers. Past Lambda's streamed-response limit the body is cut off.
 */
import { urlBadGateway } from "../errors";
import { STREAM_RESPONSE_LIMIT_BYTES } from "../invoke/stream-routes";
import { HTTP_INTEGRATION_CONTENT_TYPE, MALFORMED, metadataOf, splitPrelude } from "./response";
import type { UrlRun } from "./run";
import { runInvocation } from "./run";

type Delivered = { stream: ReadableStream<Uint8Array>; contentType: string };

export async function streamResponse(run: UrlRun): Promise<Response> {
  let arrived: (body: Delivered) => void = () => {};
  const delivered = new Promise<Delivered>((resolve) => {
    arrived = resolve;
  });
  const running = runInvocation(run, (stream, contentType) => arrived({ stream, contentType }));
  // A refusal before any code ran (a throttle) throws from `running` here, as for BUFFERED URLs.
  // The executor hands over the stream before the result, so a result first means no stream at all.
  const first = await Promise.race([delivered, running.then(() => undefined)]);
  if (!first) {
    const outcome = await running;
    if (outcome.functionError) throw urlBadGateway();
    return new Response(outcome.payload, { status: 200, headers: { "content-type": "application/json" } });
  }

  const reader = first.stream.getReader();
  let head = await reader.read();
  let status = 200;
  let headers = new Headers({ "content-type": first.contentType });
  let pending: Uint8Array = head.done ? new Uint8Array() : head.value;
  if (first.contentType === HTTP_INTEGRATION_CONTENT_TYPE) {
    // Gather bytes until the prelude's delimiter.
    let split = splitPrelude(pending);
    while (!split && !head.done) {
      head = await reader.read();
      if (!head.done) pending = concat(pending, head.value);
      split = splitPrelude(pending);
    }
    const meta = split ? parsePrelude(split.prelude) : MALFORMED;
    if (meta === MALFORMED || !split) {
      await reader.cancel().catch(noop);
      throw urlBadGateway();
    }
    ({ status, headers } = meta);
    pending = split.rest;
  }
  if (head.done && pending.byteLength === 0) {
    // Nothing was written: a failure before the first byte is the function's error.
    const outcome = await running.catch(() => undefined);
    if (!outcome || outcome.functionError) throw urlBadGateway();
  }

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  run.control.waitUntil(forward(pending, head.done ? undefined : reader, writable.getWriter()));
  return new Response(readable, { status, headers });
}

function parsePrelude(text: string) {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return MALFORMED;
    return metadataOf(value as Record<string, unknown>);
  } catch {
    return MALFORMED;
  }
}

async function forward(first: Uint8Array, reader: ReadableStreamDefaultReader<Uint8Array> | undefined, writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
  let sent = first.byteLength;
  try {
    if (first.byteLength > 0) await writer.write(first);
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      sent += value.byteLength;
      if (sent > STREAM_RESPONSE_LIMIT_BYTES) {
        await reader.cancel();
        break;
      }
      await writer.write(value);
    }
    await writer.close();
  } catch {
    // The client went away (or the function's stream failed): nothing more to send.
    await writer.abort().catch(noop);
    await reader?.cancel().catch(noop);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function noop(): void {}
