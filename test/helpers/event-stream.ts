import { EventStreamCodec } from "@smithy/core/event-streams";

/** @smithy's event-stream codec, the decoder the AWS SDK v3 uses. */
export const eventStreamCodec = new EventStreamCodec(
  (b) => new TextDecoder().decode(b),
  (s) => new TextEncoder().encode(s),
);

export type EventStreamMessage = ReturnType<EventStreamCodec["decode"]>;

/**
 * The messages of an `application/vnd.amazon.eventstream` body, each as soon
 * as it is complete (however the bytes were chunked). Throws if the stream
 * ends inside a message; stopping early (`break`, `return()`) cancels the body.
 */
export async function* eventStreamMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<EventStreamMessage> {
  const reader = body.getReader();
  let buffer = new Uint8Array(0);
  try {
    for (;;) {
      while (buffer.byteLength >= 4) {
        const total = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0);
        if (buffer.byteLength < total) break;
        const message = eventStreamCodec.decode(buffer.slice(0, total));
        buffer = buffer.slice(total);
        yield message;
      }
      const { done, value } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(buffer.byteLength + value.byteLength);
      joined.set(buffer);
      joined.set(value, buffer.byteLength);
      buffer = joined;
    }
    if (buffer.byteLength > 0) throw new Error(`event stream ended inside a message (${buffer.byteLength} bytes left)`);
  } finally {
    await reader.cancel();
  }
}
