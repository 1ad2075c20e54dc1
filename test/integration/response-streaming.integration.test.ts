/**
 * InvokeWithResponseStream (issue 11 item 8): awslambda.streamifyResponse and
 * HttpResponseStream in the function, event-stream framing on the wire
 * (decoded with @smithy's EventStreamCodec, the SDK v3 decoder), chunks
 * before the handler finishes, non-streaming handlers as one chunk, errors
 * in InvokeComplete.
 */
import { exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeAll, describe, expect, it } from "vitest";
import { eventStreamMessages } from "../helpers/event-stream";
import type { TenantKey } from "../helpers/platform";
import { BASE, createActive, createFunctionBody, errorOf, newTenant } from "../helpers/platform";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

let key: TenantKey;
async function streamInvoke(name: string, body: unknown = {}, headers: Record<string, string> = {}): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const request = await client.sign(`${BASE}/2021-11-15/functions/${name}/response-streaming-invocations`, { method: "POST", headers, body: JSON.stringify(body) });
  return exports.default.fetch(request);
}

/** Reads messages as they arrive, with the time each one was complete. */
async function events(res: Response): Promise<{ type: string; payload: Uint8Array; at: number }[]> {
  const out: { type: string; payload: Uint8Array; at: number }[] = [];
  for await (const message of eventStreamMessages(res.body as ReadableStream<Uint8Array>)) {
    out.push({ type: String(message.headers[":event-type"]?.value), payload: message.body, at: Date.now() });
  }
  return out;
}

const FUNCTIONS: Record<string, string> = {
  streamer: `exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
    responseStream.setContentType('text/plain');
    responseStream.write('first ');
    await new Promise((r) => setTimeout(r, 400));
    responseStream.write('second');
    responseStream.end();
  });`,
  http: `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
    const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'x-a': 'b' } });
    stream.write('body');
    stream.end();
  });`,
  plain: `exports.handler = async (event) => ({ echoed: event });`,
  slow: `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
    responseStream.write('started');
    await new Promise((r) => setTimeout(r, 5000));
    responseStream.end();
  });`,
  failing: `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
    responseStream.write('partial');
    throw new TypeError('mid-stream');
  });`,
};

beforeAll(async () => {
  key = await newTenant("full", "stream");
  for (const [name, source] of Object.entries(FUNCTIONS)) {
    await createActive(key, createFunctionBody(name, { "index.js": source }, { Timeout: name === "slow" ? 1 : 3 }));
  }
});

describe("InvokeWithResponseStream", () => {
  it("streams chunks as the handler writes them, then InvokeComplete", async () => {
    const started = Date.now();
    const res = await streamInvoke("streamer");
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Amz-Executed-Version")).toBe("$LATEST");
    expect(res.headers.get("Content-Type")).toBe("text/plain");
    const received = await events(res);
    expect(received.map((e) => e.type)).toEqual(["PayloadChunk", "PayloadChunk", "InvokeComplete"]);
    expect(received.slice(0, 2).map((e) => text(e.payload)).join("")).toBe("first second");
    // The first chunk arrived before the handler's 400 ms wait was over (a buffered answer would bring both at once).
    // The margin is wide: workerd's clock here moves only on I/O, and a loaded machine read a gap of 265 ms.
    expect((received[1]?.at ?? 0) - (received[0]?.at ?? 0)).toBeGreaterThanOrEqual(150);
    expect(received[0]?.at ?? Infinity).toBeLessThan(received[2]?.at ?? 0);
    expect(JSON.parse(text(received[2]?.payload ?? new Uint8Array()))).toEqual({});
    expect(started).toBeLessThanOrEqual(received[0]?.at ?? 0);
  });

  it("writes HttpResponseStream's prelude and 8 NUL bytes before the body", async () => {
    const res = await streamInvoke("http");
    expect(res.headers.get("Content-Type")).toBe("application/vnd.awslambda.http-integration-response");
    const received = await events(res);
    const bytes = received.filter((e) => e.type === "PayloadChunk").flatMap((e) => [...e.payload]);
    const all = new Uint8Array(bytes);
    const prelude = JSON.stringify({ statusCode: 201, headers: { "x-a": "b" } });
    expect(text(all.slice(0, prelude.length))).toBe(prelude);
    expect([...all.slice(prelude.length, prelude.length + 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(text(all.slice(prelude.length + 8))).toBe("body");
  });

  it("answers a non-streaming handler's payload as one chunk", async () => {
    const received = await events(await streamInvoke("plain", { n: 1 }));
    expect(received.map((e) => e.type)).toEqual(["PayloadChunk", "InvokeComplete"]);
    expect(JSON.parse(text(received[0]?.payload ?? new Uint8Array()))).toEqual({ echoed: { n: 1 } });
  });

  it("reports a handler error in InvokeComplete after what was sent, with the log tail when asked", async () => {
    const received = await events(await streamInvoke("failing", {}, { "X-Amz-Log-Type": "Tail" }));
    expect(received.map((e) => e.type)).toEqual(["PayloadChunk", "InvokeComplete"]);
    expect(text(received[0]?.payload ?? new Uint8Array())).toBe("partial");
    const complete = JSON.parse(text(received[1]?.payload ?? new Uint8Array()));
    expect(complete).toMatchObject({ ErrorCode: "TypeError", ErrorDetails: "mid-stream" });
    expect(atob(complete.LogResult)).toContain("Invoke Error");
  });

  it("ends the stream at the function's timeout with Sandbox.Timedout in InvokeComplete", async () => {
    const started = Date.now();
    const received = await events(await streamInvoke("slow"));
    expect(received.map((e) => e.type)).toEqual(["PayloadChunk", "InvokeComplete"]);
    expect(text(received[0]?.payload ?? new Uint8Array())).toBe("started");
    expect(JSON.parse(text(received[1]?.payload ?? new Uint8Array()))).toMatchObject({ ErrorCode: "Sandbox.Timedout" });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("answers a missing function and another tenant's function with Lambda's errors, before any stream", async () => {
    expect(await errorOf(await streamInvoke("nope"))).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
    const other = await newTenant("full", "stream-b");
    const res = await (async () => {
      const client = new AwsClient({ accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey, service: "lambda", region: "us-east-1" });
      return exports.default.fetch(await client.sign(`${BASE}/2021-11-15/functions/streamer/response-streaming-invocations`, { method: "POST", body: "{}" }));
    })();
    expect(await errorOf(res)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
  });
});
