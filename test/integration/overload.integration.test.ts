/**
 * Overload control inside workerd (issues 18 and 19): the admission gate at the door
 * refuses requests past the isolate's bound before authenticating them, invokes
 * and every other API request, each in its service's own throttling shape
 * (Lambda's 429, SQS / Kinesis / Logs / CloudWatch throttles the SDK retries), keeps a caller over its share out first, and lets the
 * admitted ones finish; no user code is started for a client that has gone,
 * and the environment it had leased stays usable. The limiter's rules are
 * unit-tested (test/unit/admission); the goodput it buys is measured by
 * `npm run bench:goodput`.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { LambdaError } from "../../src/errors";
import { AdmissionLimiter } from "../../src/invoke/admission";
import { atTheDoor, doorStats, replaceDoorLimiter } from "../../src/invoke/door";
import { NO_LINEAGE } from "../../src/invoke/recursion";
import { invokeSync } from "../../src/invoke/run";
import { prepareInvoke } from "../../src/invoke/target";
import { tenantScopeById } from "../../src/services/scope";
import type { TenantKey } from "../helpers/platform";
import { BASE, bearer, createActive, createFunctionBody, fn, newTenant } from "../helpers/platform";
import { createQueue } from "../helpers/sqs";
import { until } from "../helpers/streams";
import { decodeCbor } from "../../src/metrics/cbor";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

const COUNTER = { "index.js": "let runs = 0; exports.handler = async () => ++runs;" };

/** Holds its invocation until the test releases it: it waits on a fetch the test answers. */
const HOLDER = { "index.mjs": `export const handler = async () => (await fetch("http://hold.example.com/")).text();` };

let key: TenantKey;
let other: TenantKey;

beforeAll(async () => {
  key = await newTenant("full", "overload");
  other = await newTenant("full", "overload-other");
  await createActive(key, createFunctionBody("counter", COUNTER));
  await createActive(key, createFunctionBody("holder", HOLDER));
  await createActive(other, createFunctionBody("holder", HOLDER));
});

// MOCK of a slow dependency outside cellfn (the internet): the egress gateway
// forwards with the global fetch(), which this isolate shares with the main
// worker; the spy holds hold.example.com until the test releases it, so that
// concurrency, not time, decides what is in flight.
let holding = 0;
let release: () => void = () => {};

beforeEach(() => {
  holding = 0;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const host = new URL(request.url).host;
    // The AWS SDK's own requests (the SDK-retry case below) go to the Worker itself, through its door.
    if (host === new URL(BASE).host) return exports.default.fetch(request);
    if (host !== "hold.example.com") return realFetch(input, init);
    holding++;
    await released;
    return new Response("released");
  });
});

afterEach(() => {
  release();
  vi.restoreAllMocks();
  replaceDoorLimiter(new AdmissionLimiter());
});

const invokeHolder = (k: TenantKey) => bearer(k, "POST", `${fn("holder")}/invocations`, {});

describe("the admission gate at the door", () => {
  it("refuses invoke requests past the bound with Lambda's 429, before authenticating them; the admitted ones succeed", async () => {
    replaceDoorLimiter(new AdmissionLimiter({ initial: 2, min: 2, max: 2, lagBound: false }));
    const admitted = [invokeHolder(key), invokeHolder(key)];
    await until("both invocations running", async () => holding, (n) => n === 2);

    const refused = await invokeHolder(key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-amzn-ErrorType")).toBe("TooManyRequestsException");
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect(refused.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await refused.json()).toEqual({ Reason: "FunctionInvocationRateLimitExceeded", Type: "User", message: "Rate Exceeded." });
    // Before authentication: a key that does not exist is refused as overload, not as a bad key.
    const unknownKey = await exports.default.fetch(`${BASE}${fn("holder")}/invocations`, { method: "POST", headers: { authorization: "Bearer AKIANOSUCHKEY.secret" }, body: "{}" });
    expect(unknownKey.status).toBe(429);
    // InvokeWithResponseStream passes the same gate.
    const streamed = await bearer(key, "POST", `/2021-11-15/functions/holder/response-streaming-invocations`, {});
    expect(streamed.status).toBe(429);
    // Every other API request of the tenant passes the same gate (issue 19), in Lambda's shape here.
    const read = await bearer(key, "GET", fn("holder"));
    expect(read.status).toBe(429);
    expect(read.headers.get("x-amzn-ErrorType")).toBe("TooManyRequestsException");

    release();
    const answers = await Promise.all(admitted);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(await Promise.all(answers.map((r) => r.json()))).toEqual(["released", "released"]);
    expect(doorStats()).toMatchObject({ inFlight: 0, admitted: 2, refused: 4 });
    // With the slots back, the next invocation is admitted.
    expect((await invokeHolder(key)).status).toBe(200);
    expect(doorStats().inFlight).toBe(0);
  });

  it("near the bound, refuses a tenant holding its share first (CallerRateLimitExceeded) and admits another tenant", async () => {
    replaceDoorLimiter(new AdmissionLimiter({ initial: 4, min: 4, max: 4, lagBound: false }));
    const flood = [invokeHolder(key), invokeHolder(key)];
    const victim = [invokeHolder(other)];
    await until("three invocations running", async () => holding, (n) => n === 3);

    const shed = await invokeHolder(key);
    expect(shed.status).toBe(429);
    expect(await shed.json()).toMatchObject({ Reason: "CallerRateLimitExceeded", Type: "User" });
    victim.push(invokeHolder(other));
    await until("the other tenant's second invocation running", async () => holding, (n) => n === 4);

    release();
    expect((await Promise.all([...flood, ...victim])).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(doorStats().inFlight).toBe(0);
  });

  it("gives the slot back when the request ends before any invocation (a refused key, a missing function)", async () => {
    replaceDoorLimiter(new AdmissionLimiter({ initial: 1, min: 1, max: 1, lagBound: false }));
    const unknownKey = await exports.default.fetch(`${BASE}${fn("holder")}/invocations`, { method: "POST", headers: { authorization: "Bearer AKIANOSUCHKEY.secret" }, body: "{}" });
    expect(unknownKey.status).toBe(403);
    expect((await bearer(key, "POST", `${fn("missing")}/invocations`, {})).status).toBe(404);
    expect(doorStats()).toMatchObject({ inFlight: 0, admitted: 2, refused: 0 });
  });

  it("lets everything through with ADMISSION_CONTROL=off", async () => {
    replaceDoorLimiter(new AdmissionLimiter({ initial: 1, min: 1, max: 1, lagBound: false }));
    const off = { ...env, ADMISSION_CONTROL: "off" } as Env;
    const context = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
    const answers = await Promise.all([1, 2, 3].map(() => atTheDoor(new Request(`${BASE}${fn("holder")}/invocations`, { method: "POST" }), off, context, () => new Response("app"))));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(doorStats().admitted).toBe(0);
  });
});

/** A request the door refuses before authentication: no signature needed, only the key id it names. */
const unsigned = (k: TenantKey, path: string, headers: Record<string, string>, body = "{}") =>
  exports.default.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { authorization: `AWS4-HMAC-SHA256 Credential=${k.accessKeyId}/20261204/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00`, ...headers },
    body,
  });

describe("every API request passes the door (issue 19), refused in its own service's throttling shape", () => {
  it("answers SQS, Kinesis, CloudWatch Logs and CloudWatch (JSON and CBOR) with the throttle each service's SDK retries", async () => {
    replaceDoorLimiter(new AdmissionLimiter({ initial: 2, min: 2, max: 2, lagBound: false }));
    const admitted = [invokeHolder(key), invokeHolder(key)];
    await until("both invocations running", async () => holding, (n) => n === 2);

    const json = async (target: string, contentType: string) => {
      const res = await unsigned(key, "/", { "x-amz-target": target, "content-type": contentType });
      return { status: res.status, contentType: res.headers.get("content-type"), queryError: res.headers.get("x-amzn-query-error"), body: await res.json() };
    };
    expect(await json("AmazonSQS.SendMessage", "application/x-amz-json-1.0")).toEqual({
      status: 400,
      contentType: "application/x-amz-json-1.0",
      queryError: "RequestThrottled;Sender",
      body: { __type: "com.amazonaws.sqs#RequestThrottled", message: "Rate exceeded" },
    });
    expect(await json("Kinesis_20131202.PutRecord", "application/x-amz-json-1.1")).toEqual({
      status: 400,
      contentType: "application/x-amz-json-1.1",
      queryError: null,
      body: { __type: "LimitExceededException", message: "Rate exceeded" },
    });
    expect(await json("Logs_20140328.PutLogEvents", "application/x-amz-json-1.1")).toEqual({
      status: 400,
      contentType: "application/x-amz-json-1.1",
      queryError: null,
      body: { __type: "ThrottlingException", message: "Rate exceeded" },
    });
    expect(await json("GraniteServiceVersion20100801.ListMetrics", "application/x-amz-json-1.0")).toEqual({
      status: 400,
      contentType: "application/x-amz-json-1.0",
      queryError: "Throttling;Sender",
      body: { __type: "com.amazonaws.cloudwatch#Throttling", message: "Rate exceeded" },
    });
    const cbor = await unsigned(key, "/service/GraniteServiceVersion20100801/operation/ListMetrics", { "smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor" }, "");
    expect([cbor.status, cbor.headers.get("content-type"), cbor.headers.get("x-amzn-query-error")]).toEqual([400, "application/cbor", "Throttling;Sender"]);
    expect(decodeCbor(new Uint8Array(await cbor.arrayBuffer()))).toEqual({ __type: "com.amazonaws.cloudwatch#Throttling", message: "Rate exceeded" });
    // Health and the operator API stay ungated.
    expect((await exports.default.fetch(`${BASE}/healthz`)).status).toBe(200);
    expect(doorStats()).toMatchObject({ inFlight: 2, refused: 5 });

    release();
    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual([200, 200]);
    expect(doorStats().inFlight).toBe(0);
  });

  it("@aws-sdk/client-sqs retries a refused SendMessage with backoff and it succeeds once the tenant is under its share", async () => {
    const queueUrl = await createQueue(key, "door-throttle");
    replaceDoorLimiter(new AdmissionLimiter({ initial: 2, min: 2, max: 2, lagBound: false }));
    const admitted = [invokeHolder(key), invokeHolder(key)];
    await until("both invocations running", async () => holding, (n) => n === 2);

    const sqs = new SQSClient({ region: "us-east-1", endpoint: BASE, maxAttempts: 3, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    const sent = sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "after the throttle" }));
    // The first attempt is refused at the door; the SDK backs off and tries again, by then with a free slot.
    await until("the SDK's first attempt refused", async () => doorStats().refused, (n) => n >= 1);
    release();
    const output = await sent;
    expect(output.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    // Every attempt but the last was refused at the door (the retry may come before the slots are back).
    const attempts = output.$metadata.attempts ?? 1;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(doorStats()).toMatchObject({ refused: attempts - 1, inFlight: 0 });
    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual([200, 200]);
  });
});

async function run(signal?: AbortSignal) {
  const scope = await tenantScopeById(env, key.tenantId);
  if (!scope) throw new Error("no tenant scope");
  const target = await prepareInvoke(scope, { name: "counter" }, undefined);
  const pending: Promise<unknown>[] = [];
  try {
    return await invokeSync(scope, target, {
      requestId: crypto.randomUUID(),
      payload: "{}",
      tenantId: undefined,
      clientContext: undefined,
      lineage: NO_LINEAGE,
      waitUntil: (p) => pending.push(p),
      ...(signal ? { signal } : {}),
    });
  } finally {
    await Promise.all(pending);
  }
}

describe("a client that has gone", () => {
  it("gets no user code started, and the environment serves the next invocation", async () => {
    expect((await run()).payload).toBe("1");
    const gone = new AbortController();
    gone.abort();
    const error = await run(gone.signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LambdaError);
    expect((error as LambdaError).message).toBe("The client closed the request before the function started.");
    // Had the abandoned call run, this would be 3.
    const next = await run();
    expect(next.payload).toBe("2");
  });

  it("counts admitted invocations as finished however they end", async () => {
    const finished: boolean[] = [];
    const admission = { finished: (ran: boolean) => finished.push(ran) };
    const scope = await tenantScopeById(env, key.tenantId);
    if (!scope) throw new Error("no tenant scope");
    const target = await prepareInvoke(scope, { name: "counter" }, undefined);
    const gone = new AbortController();
    gone.abort();
    const base = { requestId: crypto.randomUUID(), payload: "{}", tenantId: undefined, clientContext: undefined, lineage: NO_LINEAGE, waitUntil: () => {} };
    await invokeSync(scope, target, { ...base, admission });
    await invokeSync(scope, target, { ...base, requestId: crypto.randomUUID(), admission, signal: gone.signal }).catch(() => undefined);
    // Once each; only the one that ran is a sample of the queue.
    expect(finished).toEqual([true, false]);
  });
});
