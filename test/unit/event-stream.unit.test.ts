import { EventStreamCodec } from "@smithy/core/event-streams";
import { describe, expect, it } from "vitest";
import { crc32, invokeComplete, payloadChunk } from "../../src/invoke/event-stream";

const codec = new EventStreamCodec((b) => new TextDecoder().decode(b), (s) => new TextEncoder().encode(s));

describe("event-stream framing", () => {
  it("computes zlib's CRC32", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("encodes PayloadChunk so that the SDK's codec decodes the exact bytes and headers", () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 10]);
    const message = codec.decode(payloadChunk(bytes));
    expect([...message.body]).toEqual([...bytes]);
    expect(Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v.value]))).toEqual({
      ":event-type": "PayloadChunk",
      ":content-type": "application/octet-stream",
      ":message-type": "event",
    });
  });

  it("encodes InvokeComplete as JSON, and an empty chunk", () => {
    const message = codec.decode(invokeComplete({ ErrorCode: "TypeError", ErrorDetails: "ü" }));
    expect(JSON.parse(new TextDecoder().decode(message.body))).toEqual({ ErrorCode: "TypeError", ErrorDetails: "ü" });
    expect(message.headers[":event-type"]?.value).toBe("InvokeComplete");
    expect(codec.decode(payloadChunk(new Uint8Array(0))).body.byteLength).toBe(0);
  });
});
