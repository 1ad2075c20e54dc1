/**
 * The AWS event-stream framing (application/vnd.amazon.eventstream) of
 * InvokeWithResponseStream (and StartLiveTail), as @smithy's eventstream-codec decodes it:
 *
 *   [total length u32][headers length u32][prelude CRC32 u32][headers][payload][message CRC32 u32]
 *
 * each header `[name length u8][name][type u8 = 7 (string)][value length u16][value]`,
 * big-endian, CRC32 as in zlib. The Lambda model's events
 * (InvokeWithResponseStreamResponseEvent): `PayloadChunk` with the bytes as
 * its payload, and `InvokeComplete` with JSON { ErrorCode, ErrorDetails, LogResult }.
 * Written here (about 40 lines) rather than depending on @smithy/core at run time.
 */

const encoder = new TextEncoder();
const STRING_HEADER = 7;
const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** One event-stream message with string headers. */
export function encodeMessage(headers: Record<string, string>, payload: Uint8Array): Uint8Array {
  const encoded = Object.entries(headers).map(([name, value]) => [encoder.encode(name), encoder.encode(value)] as const);
  const headersLength = encoded.reduce((n, [name, value]) => n + 1 + name.byteLength + 1 + 2 + value.byteLength, 0);
  const total = PRELUDE_BYTES + headersLength + payload.byteLength + CRC_BYTES;
  const message = new Uint8Array(total);
  const view = new DataView(message.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLength);
  view.setUint32(8, crc32(message.subarray(0, 8)));
  let at = PRELUDE_BYTES;
  for (const [name, value] of encoded) {
    view.setUint8(at, name.byteLength);
    message.set(name, at + 1);
    at += 1 + name.byteLength;
    view.setUint8(at, STRING_HEADER);
    view.setUint16(at + 1, value.byteLength);
    message.set(value, at + 3);
    at += 3 + value.byteLength;
  }
  message.set(payload, at);
  view.setUint32(total - CRC_BYTES, crc32(message.subarray(0, total - CRC_BYTES)));
  return message;
}

export function payloadChunk(bytes: Uint8Array): Uint8Array {
  return encodeMessage({ ":event-type": "PayloadChunk", ":content-type": "application/octet-stream", ":message-type": "event" }, bytes);
}

export interface InvokeComplete {
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
}

export function invokeComplete(fields: InvokeComplete): Uint8Array {
  return encodeMessage({ ":event-type": "InvokeComplete", ":content-type": "application/json", ":message-type": "event" }, encoder.encode(JSON.stringify(fields)));
}

/**
 * An event of an awsJson event stream (CloudWatch Logs' StartLiveTail): the
 * union member's structure serialized as the JSON payload.
 */
export function jsonEvent(eventType: string, body: unknown): Uint8Array {
  return encodeMessage({ ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" }, encoder.encode(JSON.stringify(body)));
}

/** A modelled error inside an event stream; the SDKs throw it from the stream by `:exception-type`. */
export function jsonException(exceptionType: string, message: string): Uint8Array {
  return encodeMessage(
    { ":exception-type": exceptionType, ":content-type": "application/json", ":message-type": "exception" },
    encoder.encode(JSON.stringify({ message })),
  );
}
