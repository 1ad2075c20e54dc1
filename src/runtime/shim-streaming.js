// @ts-check
/**
 * Response streaming in the runtime shim (shim.js), as the Lambda Node.js
 * runtime interface client provides it (src/StreamingContext.js,
 * HttpResponseStream.js): the `awslambda` global with streamifyResponse() and
 * HttpResponseStream.from(), and the response stream a streaming handler
 * writes to. Bytes go into a ReadableStream the executor receives over RPC
 * (`deliver(readable, contentType)`) at the first write, when the content
 * type is known, so the client gets the first chunk while the handler still
 * runs. Every way the stream ends delivers it first, so the executor holds
 * it before the invocation's result arrives.
 */
// node:stream (a few ms to evaluate) is taken when a response is streamed, not at isolate start.

/** The RIC's marker on a handler wrapped by streamifyResponse (value "response"). */
const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";

export function installAwslambdaGlobal() {
  class HttpResponseStream {
    /** Writes the prelude (status, headers, cookies as JSON) and 8 NUL bytes before the body, as Function URLs expect. */
    static from(underlyingStream, prelude) {
      underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
      const metadata = JSON.stringify(prelude);
      underlyingStream._onBeforeFirstWrite = (write) => {
        write(metadata);
        write(new Uint8Array(8));
      };
      return underlyingStream;
    }
  }
  Object.defineProperty(globalThis, "awslambda", {
    value: {
      streamifyResponse(handler, _options) {
        handler[HANDLER_STREAMING] = "response";
        return handler;
      },
      HttpResponseStream,
    },
    writable: true,
    configurable: true,
  });
}

export const isStreamingHandler = (fn) => fn?.[HANDLER_STREAMING] === "response";

const encoder = new TextEncoder();
const bytesOf = (chunk) => (typeof chunk === "string" ? encoder.encode(chunk) : chunk instanceof Uint8Array ? chunk : encoder.encode(String(chunk)));

/**
 * The bytes of one streamed response: `readable` is handed to the executor,
 * `stream` is the Node Writable the handler gets (setContentType, write, end,
 * pipeline targets), `sendAll(text)` answers a non-streaming handler in one chunk.
 */
export function responseChannel(deliver) {
  const { Writable } = process.getBuiltinModule("node:stream");
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  let contentType = "application/octet-stream";
  let closed = false;
  let firstWrite = true;
  let delivered;
  const delivering = () => (delivered ??= Promise.resolve(deliver(readable, contentType)).catch(() => undefined));
  const close = () => {
    if (closed) return Promise.resolve();
    closed = true;
    return delivering().then(() => writer.close()).catch(() => undefined);
  };
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      if (firstWrite) {
        firstWrite = false;
        const before = /** @type {any} */ (stream)._onBeforeFirstWrite;
        if (typeof before === "function") before((c) => { writer.write(bytesOf(c)).catch(() => undefined); });
      }
      // Not awaited before writing: the TransformStream holds the bytes until the executor reads.
      delivering();
      writer.write(bytesOf(chunk)).then(() => callback(), callback);
    },
    final(callback) {
      close().then(() => callback(), callback);
    },
  });
  Object.assign(stream, {
    setContentType(type) { contentType = String(type); },
  });
  return {
    readable,
    stream,
    get contentType() { return contentType; },
    get ended() { return closed; },
    /** Ends the stream if the handler did not (it resolved without calling end()). */
    finish() {
      if (closed) return Promise.resolve();
      return new Promise((resolve) => stream.end(() => resolve(undefined))).then(close);
    },
    /** Fails the stream: the client sees the error in InvokeComplete. */
    abort() {
      closed = true;
      return delivering().then(() => writer.close()).catch(() => undefined);
    },
    sendAll(text) {
      closed = true;
      contentType = "application/json";
      const written = writer.write(encoder.encode(text));
      return delivering().then(() => written).then(() => writer.close()).catch(() => undefined);
    },
  };
}

/** Runs a streaming handler: handler(event, responseStream, context); done when it settles and the stream is ended. */
export async function runStreaming(fn, event, context, channel) {
  await fn(event, channel.stream, context);
  await channel.finish();
  return { result: undefined };
}
