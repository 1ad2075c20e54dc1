import { AwsClient } from "aws4fetch";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { deliverToUrl, dispatchDestination, SIGNATURE_HEADER } from "../../src/async/deliver";
import type { InvocationRecord } from "../../src/async/record";
import { tenantScopeById } from "../../src/services/scope";
import type { AsyncEventMessage, DestinationDelivery } from "../../src/async/messages";
import { forgetLowPriorityCache } from "../../src/async/batch-context";
import { handleQueueBatch } from "../../src/async/poller";
import type { TenantKey } from "../helpers/platform";
import { addKey, bearer, createFunctionBody, errorOf, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Async invoke end to end, in workerd: events are accepted through the real
 * Worker (`X-Amz-Invocation-Type: Event` → 202) and run by the real queue
 * consumer (the vitest plugin delivers the wrangler.toml queues to the
 * Worker's queue() handler, i.e. the poller). Cases that need an event in a
 * state the API cannot produce (accepted 7 hours ago, a redelivery, a
 * dead-lettered message) call `handleQueueBatch` directly with a batch from
 * `createMessageBatch`.
 *
 * Needs ASYNC_RETRY_UNIT_SECONDS = "1" in the test bindings (vitest.config.ts),
 * so that Lambda's 1 and 2 minute retry waits take 1 and 2 seconds.
 */

// MOCK of an external destination receiver: http(s) destinations are outside
// cellfn (a tenant's webhook endpoint on the internet), so the test stands in
// for them at the edge of the product. The poller POSTs with the global
// fetch(), which in this isolate (the main worker, queue() included, shares it
// with the tests) is replaced by a spy that records the request and answers
// with `receiverStatus`. Requests to any other host pass through.
const RECEIVER = "https://receiver.example.com";
interface Delivery {
  path: string;
  headers: Headers;
  body: string;
}
const deliveries: Delivery[] = [];
/** Status the mock receiver answers a path with (default 200). */
const receiverStatus = new Map<string, number[]>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const deliveriesTo = (path: string) => deliveries.filter((d) => d.path === path);
const recordsAt = (path: string) => deliveriesTo(path).map((d) => JSON.parse(d.body) as Record<string, any>);
async function waitForDeliveries(path: string, count: number) {
  return waitFor(`${count} deliveries to ${path}`, async () => deliveriesTo(path).length >= count && deliveriesTo(path));
}

interface AsyncEventRow {
  attempt: number;
  request_id: string;
  tenant_id: string;
  function_name: string;
  status: string;
  invoke_count: number;
  accepted_at: number;
}
interface FailedEventRow {
  id: string;
  tenant_id: string;
  function_name: string;
  request_id: string;
  condition: string;
  record: string;
  redriven_at: number | null;
}

const asyncRow = (requestId: string) => env.DB.prepare("SELECT * FROM async_events WHERE request_id = ?").bind(requestId).first<AsyncEventRow>();
const failedRows = async (requestId: string) =>
  (await env.DB.prepare("SELECT * FROM failed_events WHERE request_id = ? ORDER BY created_at").bind(requestId).all<FailedEventRow>()).results;
const settled = (requestId: string) =>
  waitFor(`event ${requestId} to settle`, async () => {
    const row = await asyncRow(requestId);
    return row && row.status !== "queued" ? row : null;
  });

async function createFn(key: TenantKey, name: string, code: string, extra: Record<string, unknown> = {}) {
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": code }, extra));
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
}

async function putEventConfig(key: TenantKey, name: string, body: Record<string, unknown>) {
  const res = await signed(key, "PUT", `/2019-09-25/functions/${encodeURIComponent(name)}/event-invoke-config`, body);
  if (res.status !== 200) throw new Error(`event invoke config ${name}: ${res.status} ${await res.text()}`);
}

/** An Event invoke through the real Worker; returns the request id of the 202. */
async function invokeEvent(key: TenantKey, name: string, payload: unknown, headers: Record<string, string> = {}): Promise<string> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const request = await client.sign(`http://cellfn.test${fn(name)}/invocations`, {
    method: "POST",
    headers: { "X-Amz-Invocation-Type": "Event", ...headers },
    body: JSON.stringify(payload),
  });
  const res = await exports.default.fetch(request);
  if (res.status !== 202) throw new Error(`Event invoke ${name}: ${res.status} ${await res.text()}`);
  const requestId = res.headers.get("x-amzn-RequestId");
  if (!requestId) throw new Error("no request id");
  return requestId;
}

/** The cellfn extension API (`/cellfn/v1/...`), signed like the Lambda API. */
const cellfn = (key: TenantKey, method: string, path: string) => signed(key, method, `/cellfn/v1${path}`);

/**
 * An event in a state the API cannot produce: its async_events row is
 * written as enqueueEvent writes it, and the message is handed to the poller
 * directly (nothing is sent to a queue).
 */
async function acceptedEvent(key: TenantKey, functionName: string, fields: Partial<AsyncEventMessage> = {}): Promise<AsyncEventMessage> {
  const message: AsyncEventMessage = {
    kind: "event",
    requestId: crypto.randomUUID(),
    tenantId: key.tenantId,
    functionName,
    payload: '{"direct":true}',
    acceptedAt: Date.now(),
    retriesSpent: 0,
    backoffs: 0,
    attempt: 0,
    lineage: {},
    queue: "cellfn-async-0-0",
    ...fields,
  };
  await env.DB.prepare(
    "INSERT INTO async_events (request_id, tenant_id, function_name, qualifier, status, invoke_count, accepted_at, updated_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?)",
  )
    .bind(message.requestId, key.tenantId, functionName, message.qualifier ?? null, message.acceptedAt, message.acceptedAt)
    .run();
  return message;
}

/** Runs one batch through the poller directly; returns which messages were acknowledged and retried. */
async function runBatch(queue: string, bodies: unknown[], batchEnv: Env = env) {
  const messages = bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: Date.now(), attempts: 1, body }));
  const batch = createMessageBatch(queue, messages);
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, batchEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ids: messages.map((m) => m.id), acked: result.explicitAcks, retried: result.retryMessages.map((m) => m.msgId) };
}

async function verifySignature(key: string, header: string | null, body: string): Promise<{ valid: boolean; t: number }> {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return { valid: false, t: 0 };
  const t = Number(match[1]);
  const cryptoKey = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const mac = Uint8Array.from((match[2] ?? "").match(/../g) ?? [], (h) => parseInt(h, 16));
  return { valid: await crypto.subtle.verify("HMAC", cryptoKey, mac, new TextEncoder().encode(`${t}.${body}`)), t };
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const OK_CODE = `
  exports.handler = async (event) => ({ echoed: event });`;
// Fails until the function is "fixed" by setting FIXED=1 in its environment.
const FAILING_CODE = `
  exports.handler = async (event) => {
    if (process.env.FIXED !== "1") throw new Error("boom " + JSON.stringify(event));
    return { fixed: true, event };
  };`;

/** A handler that reports `/<name>-start`, waits `ms`, then reports `/<name>-end` to the receiver. */
const startEndHandler = (name: string, ms: number) => `
  exports.handler = async (event) => {
    await fetch("${RECEIVER}/${name}-start", { method: "POST", body: String(event.n) });
    await new Promise((resolve) => setTimeout(resolve, ${ms}));
    await fetch("${RECEIVER}/${name}-end", { method: "POST", body: String(event.n) });
    return event.n;
  };`;

let realFetch: typeof fetch;
beforeAll(() => {
  realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(RECEIVER)) return realFetch(input, init);
    const path = new URL(request.url).pathname;
    deliveries.push({ path, headers: request.headers, body: await request.text() });
    const statuses = receiverStatus.get(path);
    return new Response("mock receiver", { status: statuses?.shift() ?? 200 });
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe("async invoke: the poller", () => {
  let key: TenantKey;
  let arn: (name: string, qualifier?: string) => string;

  beforeAll(async () => {
    key = await newTenant();
    arn = (name, qualifier) => `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}${qualifier === undefined ? "" : `:${qualifier}`}`;
    await createFn(key, "ok", OK_CODE);
    await putEventConfig(key, "ok", { DestinationConfig: { OnSuccess: { Destination: `${RECEIVER}/ok` } } });
    await createFn(key, "failing", FAILING_CODE);
    await putEventConfig(key, "failing", { DestinationConfig: { OnFailure: { Destination: `${RECEIVER}/failing` } } });
    await createFn(key, "noretry", FAILING_CODE);
    await putEventConfig(key, "noretry", { MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: `${RECEIVER}/noretry` } } });
    await createFn(key, "sink", OK_CODE);
    await putEventConfig(key, "sink", { DestinationConfig: { OnSuccess: { Destination: `${RECEIVER}/sink` } } });
    await createFn(key, "chained", OK_CODE);
    await putEventConfig(key, "chained", { DestinationConfig: { OnSuccess: { Destination: arn("sink") } } });
  });

  it("runs a successful event once and sends Lambda's Success record, signed, to OnSuccess", async () => {
    const requestId = await invokeEvent(key, "ok", { n: 1 });
    const row = await settled(requestId);
    expect(row).toMatchObject({ status: "succeeded", invoke_count: 1 });
    const [delivery] = await waitForDeliveries("/ok", 1);
    expect(JSON.parse(delivery?.body ?? "")).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: {
        requestId,
        functionArn: arn("ok", "$LATEST"),
        condition: "Success",
        approximateInvokeCount: 1,
      },
      requestPayload: { n: 1 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { echoed: { n: 1 } },
    });
    expect(delivery?.headers.get("content-type")).toBe("application/json");

    // The signature verifies with the tenant's key, and only with it.
    const signingKey = (await (await cellfn(key, "GET", "/destination-signing-key")).json<{ Key: string }>()).Key;
    expect(signingKey).toMatch(/^[0-9a-f]{64}$/);
    const header = delivery?.headers.get(SIGNATURE_HEADER) ?? null;
    const check = await verifySignature(signingKey, header, delivery?.body ?? "");
    expect(check.valid).toBe(true);
    expect(Math.abs(check.t - Date.now() / 1000)).toBeLessThan(60);
    expect((await verifySignature(signingKey, header, `${delivery?.body} `)).valid).toBe(false);
    const other = await newTenant();
    const otherKey = (await (await cellfn(other, "GET", "/destination-signing-key")).json<{ Key: string }>()).Key;
    expect(otherKey).not.toBe(signingKey);
    expect((await verifySignature(otherKey, header, delivery?.body ?? "")).valid).toBe(false);

    // Nothing else ran: one delivery, no failed event.
    await sleep(1500);
    expect(deliveriesTo("/ok")).toHaveLength(1);
    expect(await failedRows(requestId)).toEqual([]);
  });

  it("runs the events of a batch side by side, each in an environment of its own", async () => {
    // Each run reports its start, waits, then reports its end. Run one after
    // another, starts and ends would alternate; side by side, every start
    // comes before the first end.
    await createFn(key, "slow", startEndHandler("slow", 1500));
    const messages = await Promise.all([1, 2, 3, 4].map((n) => acceptedEvent(key, "slow", { payload: JSON.stringify({ n }) })));
    const batch = await runBatch("cellfn-async-0-0", messages);
    expect(batch.acked.sort()).toEqual([...batch.ids].sort());
    for (const m of messages) expect(await asyncRow(m.requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    const order = deliveries.filter((d) => d.path.startsWith("/slow-")).map((d) => d.path);
    expect(order).toHaveLength(8);
    expect(order.slice(0, 4)).toEqual(Array(4).fill("/slow-start"));
  });

  it("honours reserved concurrency: events over it back off and run later, never side by side", async () => {
    await createFn(key, "single", startEndHandler("single", 300));
    const put = await signed(key, "PUT", "/2017-10-31/functions/single/concurrency", { ReservedConcurrentExecutions: 1 });
    expect(put.status).toBe(200);
    const messages = await Promise.all([1, 2, 3].map((n) => acceptedEvent(key, "single", { payload: JSON.stringify({ n }) })));
    const batch = await runBatch("cellfn-async-0-0", messages);
    expect(batch.acked.sort()).toEqual([...batch.ids].sort());
    // The throttled ones went back on the queue with a backoff; all three run in the end, once each.
    for (const m of messages) expect(await settled(m.requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    const order = deliveries.filter((d) => d.path.startsWith("/single-")).map((d) => d.path);
    expect(order).toEqual(["/single-start", "/single-end", "/single-start", "/single-end", "/single-start", "/single-end"]);
    expect(await Promise.all(messages.map((m) => failedRows(m.requestId)))).toEqual([[], [], []]);
  });

  it("acknowledges an older copy of an event without running it once a newer one is queued", async () => {
    await createFn(key, "stale", FAILING_CODE);
    await putEventConfig(key, "stale", { DestinationConfig: { OnFailure: { Destination: `${RECEIVER}/stale` } } });
    const message = await acceptedEvent(key, "stale", { payload: '{"stale":1}' });
    const first = await runBatch("cellfn-async-0-1", [message]);
    expect(first.acked).toEqual(first.ids);
    // The failed run sent attempt 1 (a retry in 1 s) and recorded it.
    expect(await asyncRow(message.requestId)).toMatchObject({ status: "queued", invoke_count: 1, attempt: 1 });
    // The queue delivers attempt 0 again (as after a lost acknowledgement): not run, not counted.
    const redelivered = await runBatch("cellfn-async-0-1", [message]);
    expect(redelivered.acked).toEqual(redelivered.ids);
    expect(await asyncRow(message.requestId)).toMatchObject({ status: "queued", invoke_count: 1, attempt: 1 });
    // The newer copy carries on: 3 runs in all, one RetriesExhausted.
    expect(await settled(message.requestId)).toMatchObject({ status: "failed", invoke_count: 3 });
    expect((await failedRows(message.requestId)).map((r) => r.condition)).toEqual(["RetriesExhausted"]);
    const records = await waitForDeliveries("/stale", 1);
    expect(records.map((r) => JSON.parse(r.body).requestContext.approximateInvokeCount)).toEqual([3]);
  });

  it("accepts a payload that fits 96 KiB but not once escaped into its queue message", async () => {
    // 24,000 quoted strings: 96,001 bytes of JSON, about 144 KB inside a JSON message (over a queue message's 128 KB).
    const payload = Array.from({ length: 24_000 }, () => "a");
    const requestId = await invokeEvent(key, "ok", payload);
    expect(await settled(requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    const record = await waitFor("the success record", async () => recordsAt("/ok").find((r) => r.requestContext.requestId === requestId));
    expect(record.requestContext.condition).toBe("Success");
  });

  it("stops a handler that runs past its timeout with its invocation (sync and Event), so it never outlives its slot", async () => {
    // Reports a tick every 200 ms for 5 s; the function's timeout is 1 s.
    await createFn(key, "ticker", `
      exports.handler = async (event) => {
        for (let i = 0; i < 25; i++) {
          await fetch("${RECEIVER}/tick-" + event.path, { method: "POST", body: String(i) });
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };`, { Timeout: 1 });
    await putEventConfig(key, "ticker", { MaximumRetryAttempts: 0 });
    const sync = await signed(key, "POST", `${fn("ticker")}/invocations`, { path: "sync" });
    expect(await sync.json()).toMatchObject({ errorType: "Sandbox.Timedout" });
    const requestId = await invokeEvent(key, "ticker", { path: "event" });
    expect(await settled(requestId)).toMatchObject({ status: "failed" });
    await sleep(2500);
    // About the ticks of its 1 s (5 or 6; a few more when a loaded machine fires the timeout late), never the 25 of a handler left running.
    expect(deliveriesTo("/tick-sync").length).toBeLessThanOrEqual(10);
    expect(deliveriesTo("/tick-event").length).toBeLessThanOrEqual(10);
    expect(deliveriesTo("/tick-event").length).toBeGreaterThan(0);
  });

  it("does not run a redelivered event that already succeeded", async () => {
    const requestId = await invokeEvent(key, "ok", { n: "once" });
    await settled(requestId);
    await waitFor("the success record", async () => recordsAt("/ok").some((r) => r.requestContext.requestId === requestId));
    const row = await asyncRow(requestId);
    const again: AsyncEventMessage = {
      kind: "event",
      requestId,
      tenantId: key.tenantId,
      functionName: "ok",
      payload: '{"n":"once"}',
      acceptedAt: row?.accepted_at ?? Date.now(),
      retriesSpent: 0,
      backoffs: 0,
      attempt: 0,
      lineage: {},
      queue: "cellfn-async-0-0",
    };
    const batch = await runBatch("cellfn-async-0-0", [again, again]);
    expect(batch.acked.sort()).toEqual([...batch.ids].sort());
    expect(batch.retried).toEqual([]);
    await sleep(1500);
    expect(await asyncRow(requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    expect(recordsAt("/ok").filter((r) => r.requestContext.requestId === requestId)).toHaveLength(1);
  });

  it("retries a function error MaximumRetryAttempts times (default 2), then sends RetriesExhausted to OnFailure", async () => {
    const started = Date.now();
    const requestId = await invokeEvent(key, "failing", { n: 2 });
    const row = await settled(requestId);
    // Retries wait 1 then 2 units (1 s in tests) after the failed attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(row).toMatchObject({ status: "failed", invoke_count: 3 });
    const [delivery] = await waitForDeliveries("/failing", 1);
    const record = JSON.parse(delivery?.body ?? "");
    expect(record).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: {
        requestId,
        functionArn: arn("failing", "$LATEST"),
        condition: "RetriesExhausted",
        approximateInvokeCount: 3,
      },
      requestPayload: { n: 2 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "Error", errorMessage: 'boom {"n":2}', trace: expect.any(Array) },
    });
    const failed = await failedRows(requestId);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ tenant_id: key.tenantId, function_name: "failing", condition: "RetriesExhausted", redriven_at: null });
    expect(JSON.parse(failed[0]?.record ?? "")).toEqual(record);
    await sleep(1500);
    expect(deliveriesTo("/failing")).toHaveLength(1);
    expect((await asyncRow(requestId))?.invoke_count).toBe(3);
  });

  it("does not retry with MaximumRetryAttempts 0", async () => {
    const requestId = await invokeEvent(key, "noretry", { n: 3 });
    expect(await settled(requestId)).toMatchObject({ status: "failed", invoke_count: 1 });
    await waitForDeliveries("/noretry", 1);
    const [record] = recordsAt("/noretry");
    expect(record?.requestContext).toEqual({
      requestId,
      functionArn: arn("noretry", "$LATEST"),
      condition: "RetriesExhausted",
      approximateInvokeCount: 1,
    });
    await sleep(2500);
    expect((await asyncRow(requestId))?.invoke_count).toBe(1);
  });

  it("sends a discarded event to the function's dead-letter target when there is no OnFailure destination", async () => {
    await createFn(key, "dead-lettered", FAILING_CODE, { DeadLetterConfig: { TargetArn: `${RECEIVER}/dlq` } });
    await putEventConfig(key, "dead-lettered", { MaximumRetryAttempts: 0 });
    await createFn(key, "both", FAILING_CODE, { DeadLetterConfig: { TargetArn: `${RECEIVER}/dlq-both` } });
    await putEventConfig(key, "both", { MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: `${RECEIVER}/onfailure-both` } } });

    const requestId = await invokeEvent(key, "dead-lettered", { n: 30 });
    expect(await settled(requestId)).toMatchObject({ status: "failed" });
    await waitForDeliveries("/dlq", 1);
    expect(recordsAt("/dlq")[0]?.requestContext).toMatchObject({ requestId, condition: "RetriesExhausted" });
    expect(await failedRows(requestId)).toHaveLength(1);

    const other = await invokeEvent(key, "both", { n: 31 });
    expect(await settled(other)).toMatchObject({ status: "failed" });
    await waitForDeliveries("/onfailure-both", 1);
    await sleep(500);
    expect(deliveriesTo("/dlq-both")).toHaveLength(0);
  });

  it("discards an event older than MaximumEventAgeInSeconds with EventAgeExceeded, without running it", async () => {
    // Accepted 6 h + 1 min ago (the default maximum age is 6 h).
    const message = await acceptedEvent(key, "failing", { acceptedAt: Date.now() - (21600 + 60) * 1000, payload: '{"old":true}' });
    const batch = await runBatch("cellfn-async-0-0", [message]);
    expect(batch.acked).toEqual(batch.ids);
    expect(await asyncRow(message.requestId)).toMatchObject({ status: "failed", invoke_count: 0 });
    const [failed] = await failedRows(message.requestId);
    const expected = {
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId: message.requestId, functionArn: arn("failing", "$LATEST"), condition: "EventAgeExceeded", approximateInvokeCount: 0 },
      requestPayload: { old: true },
    };
    expect(failed?.condition).toBe("EventAgeExceeded");
    expect(JSON.parse(failed?.record ?? "")).toEqual(expected);
    const delivered = await waitFor("the EventAgeExceeded record", async () =>
      recordsAt("/failing").find((r) => r.requestContext.requestId === message.requestId),
    );
    expect(delivered).toEqual(expected);
  });

  it("backs off an event of a function throttled to zero, then fails it with ZeroReservedConcurrency when its age runs out", async () => {
    await createFn(key, "zeroed", OK_CODE);
    await putEventConfig(key, "zeroed", { DestinationConfig: { OnFailure: { Destination: `${RECEIVER}/zeroed` } } });
    const res = await signed(key, "PUT", "/2017-10-31/functions/zeroed/concurrency", { ReservedConcurrentExecutions: 0 });
    expect(res.status).toBe(200);
    // A fresh event is throttled: sent back with backoff, nothing run, nothing failed.
    const fresh = await acceptedEvent(key, "zeroed");
    const backedOff = await runBatch("cellfn-async-0-1", [fresh]);
    expect(backedOff.acked).toEqual(backedOff.ids);
    expect(await asyncRow(fresh.requestId)).toMatchObject({ status: "queued", invoke_count: 0, attempt: 1 });
    expect(await failedRows(fresh.requestId)).toHaveLength(0);
    // One whose age runs out before the next try fails with the condition Lambda records.
    // (Run from the low-priority queue: an old event on a shard queue would first be moved there.)
    const message = await acceptedEvent(key, "zeroed", { acceptedAt: Date.now() - 21600 * 1000 + 500, queue: "cellfn-async-0-lowpri" });
    const batch = await runBatch("cellfn-async-0-lowpri", [message]);
    expect(batch.acked).toEqual(batch.ids);
    expect(await asyncRow(message.requestId)).toMatchObject({ status: "failed", invoke_count: 0 });
    const [failed] = await failedRows(message.requestId);
    expect(failed?.condition).toBe("ZeroReservedConcurrency");
    const [delivery] = await waitForDeliveries("/zeroed", 1);
    const record = JSON.parse(delivery?.body ?? "");
    expect(record.requestContext).toEqual({
      requestId: message.requestId,
      functionArn: arn("zeroed", "$LATEST"),
      condition: "ZeroReservedConcurrency",
      approximateInvokeCount: 0,
    });
    expect(record.responseContext).toBeUndefined();
  });

  it("delivers to a function destination: the record is the destination's event", async () => {
    const requestId = await invokeEvent(key, "chained", { n: 4 });
    await settled(requestId);
    // sink ran with chained's record as its event, and sent its own record to its OnSuccess URL.
    const sinkRecord = await waitFor("sink's record", async () =>
      recordsAt("/sink").find((r) => r.requestPayload?.requestContext?.requestId === requestId),
    );
    expect(sinkRecord.requestContext).toMatchObject({ functionArn: arn("sink", "$LATEST"), condition: "Success", approximateInvokeCount: 1 });
    expect(sinkRecord.requestContext.requestId).not.toBe(requestId);
    expect(sinkRecord.requestPayload).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: arn("chained", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      requestPayload: { n: 4 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { echoed: { n: 4 } },
    });
    expect(sinkRecord.responsePayload).toEqual({ echoed: sinkRecord.requestPayload });
  });

  it("sends one destination event per source event, however often the settle is retried", async () => {
    const scope = await tenantScopeById(env, key.tenantId);
    if (!scope) throw new Error("no scope");
    const sourceRequestId = crypto.randomUUID();
    const record = {
      version: "1.0",
      timestamp: new Date().toISOString(),
      requestContext: { requestId: sourceRequestId, functionArn: arn("chained", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      requestPayload: { n: 5 },
    } as InvocationRecord;
    const source = { tenantId: key.tenantId, functionName: "chained", requestId: sourceRequestId, lineage: {}, queue: "cellfn-async-0-0" };
    const first = await dispatchDestination(scope, arn("sink"), record, source);
    const again = await dispatchDestination(scope, arn("sink"), record, source);
    expect(first).toMatchObject({ kind: "enqueued" });
    expect(again).toEqual(first);
    const sinkRecords = async () => recordsAt("/sink").filter((r) => r.requestPayload?.requestContext?.requestId === sourceRequestId);
    await waitFor("sink's record", async () => (await sinkRecords()).length > 0);
    await sleep(1000);
    expect(await sinkRecords()).toHaveLength(1);
  });

  it("qualifies the record's ARN with the invoked version or alias", async () => {
    await signed(key, "POST", `${fn("ok")}/versions`, {});
    await signed(key, "POST", `${fn("ok")}/aliases`, { Name: "live", FunctionVersion: "1" });
    await putEventConfig(key, "ok:live", { DestinationConfig: { OnSuccess: { Destination: `${RECEIVER}/ok-live` } } });
    const requestId = await invokeEvent(key, "ok:live", { n: 5 });
    const [delivery] = await waitForDeliveries("/ok-live", 1);
    const record = JSON.parse(delivery?.body ?? "");
    expect(record.requestContext).toMatchObject({ requestId, functionArn: arn("ok", "live"), condition: "Success" });
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: "1" });
  });

  it("records a dead-lettered event as a PlatformError failure", async () => {
    const message = await acceptedEvent(key, "ok", { payload: '{"dead":1}' });
    const batch = await runBatch("cellfn-async-0-dlq", [message]);
    expect(batch.acked).toEqual(batch.ids);
    expect(await asyncRow(message.requestId)).toMatchObject({ status: "failed", invoke_count: 0 });
    const [failed] = await failedRows(message.requestId);
    expect(failed?.condition).toBe("PlatformError");
    expect(JSON.parse(failed?.record ?? "").requestPayload).toEqual({ dead: 1 });
  });

  it("acknowledges an unreadable message and keeps it as a failed event when it names its event", async () => {
    const message = await acceptedEvent(key, "ok");
    const broken = { ...message, retriesSpent: -1 };
    const batch = await runBatch("cellfn-async-0-0", [broken, "not an event"]);
    expect(batch.acked.sort()).toEqual([...batch.ids].sort());
    expect(await asyncRow(message.requestId)).toMatchObject({ status: "failed" });
    expect((await failedRows(message.requestId)).map((r) => r.condition)).toEqual(["PlatformError"]);
  });

  it("runs a payload kept in R2, deletes it once settled, and fits the record into the destination message", async () => {
    const big = { s: "x".repeat(200_000) };
    const requestId = await invokeEvent(key, "ok", big);
    expect(await settled(requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    expect(await env.CODE.head(`async-payloads/${requestId}`)).toBeNull();
    const record = await waitFor("the big event's record", async () => recordsAt("/ok").find((r) => r.requestContext.requestId === requestId));
    // Too big for a queue message: both payloads are dropped, as Lambda drops oversize payloads from records.
    expect(record).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: arn("ok", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
    });
  });

  it("moves backlog older than the cell's low-priority age to the low-priority queue, where it runs", async () => {
    const manager = env.QUEUE_MANAGER.get(env.QUEUE_MANAGER.idFromName("cell-0"));
    await manager.setLowPriorityAfter(30);
    forgetLowPriorityCache();
    // Low-priority age 30 s: an event 40 s old on a shard queue is moved, not run.
    const message = await acceptedEvent(key, "ok", { acceptedAt: Date.now() - 40_000, payload: '{"backlog":true}' });
    const batch = await runBatch("cellfn-async-0-2", [message]);
    expect(batch.acked).toEqual(batch.ids);
    // The real consumer of cellfn-async-0-lowpri runs it.
    expect(await settled(message.requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    const record = await waitFor("the backlog record", async () => recordsAt("/ok").find((r) => r.requestContext.requestId === message.requestId));
    expect(record.requestPayload).toEqual({ backlog: true });
  });
});

describe("async invoke: http destinations", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
  });

  const delivery = (url: string, attempt = 0): DestinationDelivery => ({
    kind: "destination",
    tenantId: key.tenantId,
    functionName: "ok",
    requestId: crypto.randomUUID(),
    url,
    record: { version: "1.0", requestContext: { condition: "Success" } },
    attempt,
    queue: "cellfn-async-0-3",
  });
  const failedFor = async (requestId: string) => (await failedRows(requestId)).map((r) => r.condition);

  it("refuses private and loopback targets unless ALLOW_PRIVATE_EGRESS is true", async () => {
    const strict = { ...env, ALLOW_PRIVATE_EGRESS: "false" } as Env;
    const targets = ["http://127.0.0.1:9/hook", "https://10.0.0.8/hook", "https://localhost/hook", "https://[::1]/hook", "http://receiver.example.com/plain"];
    const before = deliveries.length;
    // What the tenant's outbox (src/async/url-outbox.ts) does with each: refused at once, no POST.
    for (const url of targets) expect(await deliverToUrl(strict, delivery(url))).toMatchObject({ kind: "failed" });
    expect(deliveries.length).toBe(before);
    // A public https target is posted to under the same settings.
    expect(await deliverToUrl(strict, delivery(`${RECEIVER}/public`))).toEqual({ kind: "delivered", status: 200 });
    expect(deliveriesTo("/public")).toHaveLength(1);
  });

  it("retries a non-2xx answer with backoff, then delivers", async () => {
    receiverStatus.set("/flaky", [500]);
    const message = delivery(`${RECEIVER}/flaky`);
    const batch = await runBatch("cellfn-async-0-3", [message]);
    expect(batch.acked).toEqual(batch.ids);
    const got = await waitForDeliveries("/flaky", 2);
    expect(got.map((d) => d.headers.get("X-Cellfn-Delivery-Attempt"))).toEqual(["1", "2"]);
    expect(got.map((d) => JSON.parse(d.body))).toEqual([message.record, message.record]);
    await sleep(500);
    expect(await failedFor(message.requestId)).toEqual([]);
  });

  it("keeps the record as a failed event after the last attempt", async () => {
    receiverStatus.set("/down", [503]);
    const message = delivery(`${RECEIVER}/down`, 4);
    const batch = await runBatch("cellfn-async-0-3", [message]);
    expect(batch.acked).toEqual(batch.ids);
    const [failed] = await waitFor("the failed event", async () => ((await failedRows(message.requestId)).length > 0 ? failedRows(message.requestId) : null));
    expect(deliveriesTo("/down")).toHaveLength(1);
    expect(failed).toMatchObject({ condition: "DestinationDeliveryFailed", function_name: "ok", tenant_id: key.tenantId });
    expect(JSON.parse(failed?.record ?? "")).toEqual(message.record);
    // Its record is a Success: the function already ran, so redrive refuses to run it again.
    const redrive = await cellfn(key, "POST", `/functions/ok/failed-events/${failed?.id}/redrive`);
    expect(await errorOf(redrive)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
  });
});

describe("failed events API", () => {
  let a: TenantKey;
  let b: TenantKey;
  let failedRequestId: string;

  beforeAll(async () => {
    a = await newTenant();
    b = await newTenant();
    await createFn(a, "broken", FAILING_CODE);
    await putEventConfig(a, "broken", {
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnSuccess: { Destination: `${RECEIVER}/broken-ok` } },
    });
    await createFn(b, "broken", FAILING_CODE);
    failedRequestId = await invokeEvent(a, "broken", { order: 7 });
    await settled(failedRequestId);
  });

  interface FailedEventView {
    Id: string;
    RequestId: string;
    Condition: string;
    CreatedAt: string;
    RedrivenAt?: string;
    Record: Record<string, any>;
  }
  const list = async (key: TenantKey, name: string, query = "") => {
    const res = await cellfn(key, "GET", `/functions/${encodeURIComponent(name)}/failed-events${query}`);
    expect(res.status).toBe(200);
    return res.json<{ FailedEvents: FailedEventView[]; NextMarker?: string }>();
  };

  it("lists a function's failed events with their records", async () => {
    const { FailedEvents, NextMarker } = await list(a, "broken");
    expect(NextMarker).toBeUndefined();
    expect(FailedEvents).toHaveLength(1);
    const [event] = FailedEvents;
    expect(event).toEqual({
      Id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      RequestId: failedRequestId,
      Condition: "RetriesExhausted",
      CreatedAt: expect.stringMatching(ISO_MS),
      Record: expect.objectContaining({
        requestContext: {
          requestId: failedRequestId,
          functionArn: `arn:aws:lambda:us-east-1:${a.accountId}:function:broken:$LATEST`,
          condition: "RetriesExhausted",
          approximateInvokeCount: 1,
        },
        requestPayload: { order: 7 },
      }),
    });
    // By full ARN too.
    expect((await list(a, `arn:aws:lambda:us-east-1:${a.accountId}:function:broken`)).FailedEvents).toHaveLength(1);
  });

  it("pages with Marker and MaxItems", async () => {
    for (let i = 0; i < 2; i++) {
      const message = await acceptedEvent(a, "broken", { acceptedAt: Date.now() - (21600 + 60) * 1000, payload: `{"page":${i}}` });
      await runBatch("cellfn-async-0-0", [message]);
    }
    const first = await list(a, "broken", "?MaxItems=2");
    expect(first.FailedEvents).toHaveLength(2);
    expect(first.NextMarker).toEqual(expect.any(String));
    const second = await list(a, "broken", `?MaxItems=2&Marker=${encodeURIComponent(first.NextMarker ?? "")}`);
    expect(second.FailedEvents).toHaveLength(1);
    expect(second.NextMarker).toBeUndefined();
    const ids = [...first.FailedEvents, ...second.FailedEvents].map((e) => e.Id);
    expect(new Set(ids).size).toBe(3);
    const bad = await cellfn(a, "GET", "/functions/broken/failed-events?Marker=nope");
    expect(await errorOf(bad)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
  });

  it("redrives a failed event as a new event after the function is fixed", async () => {
    const [event] = (await list(a, "broken")).FailedEvents;
    const update = await signed(a, "PUT", `${fn("broken")}/configuration`, { Environment: { Variables: { FIXED: "1" } } });
    expect(update.status).toBe(200);
    await waitUntilSettled(a, "broken");
    // Let the invoke path's metadata cache (2 s) see the new configuration.
    await sleep(2100);

    const res = await cellfn(a, "POST", `/functions/broken/failed-events/${event?.Id}/redrive`);
    expect(res.status).toBe(202);
    const { RequestId } = await res.json<{ RequestId: string }>();
    expect(RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(RequestId).not.toBe(failedRequestId);
    expect(res.headers.get("x-amzn-RequestId")).toBe(RequestId);

    expect(await settled(RequestId)).toMatchObject({ status: "succeeded", invoke_count: 1, function_name: "broken" });
    const record = await waitFor("the redriven success", async () => recordsAt("/broken-ok").find((r) => r.requestContext.requestId === RequestId));
    expect(record.requestPayload).toEqual({ order: 7 });
    expect(record.responsePayload).toEqual({ fixed: true, event: { order: 7 } });

    const after = (await list(a, "broken")).FailedEvents.find((e) => e.Id === event?.Id);
    expect(after?.RedrivenAt).toMatch(ISO_MS);

    // Once is enough: a second redrive of the same failed event is refused and sends nothing.
    const again = await cellfn(a, "POST", `/functions/broken/failed-events/${event?.Id}/redrive`);
    const refused = await errorOf(again);
    expect(refused).toMatchObject({ status: 409, type: "ResourceConflictException" });
    expect(refused.message).toContain("already redriven");
  });

  it("redrives a failed event once even when asked twice at the same time", async () => {
    await createFn(a, "twice", FAILING_CODE);
    await putEventConfig(a, "twice", { MaximumRetryAttempts: 0 });
    await settled(await invokeEvent(a, "twice", { n: 2 }));
    const [event] = (await list(a, "twice")).FailedEvents;
    const answers = await Promise.all([1, 2].map(() => cellfn(a, "POST", `/functions/twice/failed-events/${event?.Id}/redrive`)));
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409]);
    const conflictAnswer = answers.find((r) => r.status === 409);
    expect(await errorOf(conflictAnswer ?? answers[0]!)).toMatchObject({ type: "ResourceConflictException" });
    // The one redriven event fails again on its own: two failed events in all, not three.
    await waitFor("the redriven event's failure", async () => (await list(a, "twice")).FailedEvents.length >= 2);
    await sleep(1000);
    expect((await list(a, "twice")).FailedEvents).toHaveLength(2);
  });

  it("keeps tenants apart: B cannot list or redrive A's failed events", async () => {
    const [event] = (await list(a, "broken")).FailedEvents;
    // B's own function of the same name has no failed events; a name B does not have lists nothing either.
    expect((await list(b, "broken")).FailedEvents).toEqual([]);
    expect((await list(b, "nothing-here")).FailedEvents).toEqual([]);
    // Redriving A's id: 404, exactly as an id that does not exist.
    const stolen = await cellfn(b, "POST", `/functions/broken/failed-events/${event?.Id}/redrive`);
    const missing = await cellfn(b, "POST", `/functions/broken/failed-events/${crypto.randomUUID()}/redrive`);
    expect(await errorOf(stolen)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
    expect(await errorOf(missing)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
    // A's function by A's ARN: another account, 403 whether or not it exists.
    const byArn = await cellfn(b, "GET", `/functions/${encodeURIComponent(`arn:aws:lambda:us-east-1:${a.accountId}:function:broken`)}/failed-events`);
    expect(await errorOf(byArn)).toMatchObject({ status: 403, type: "AccessDeniedException" });
    // A's event under another of A's function names is not found either.
    expect(await errorOf(await cellfn(a, "POST", `/functions/other/failed-events/${event?.Id}/redrive`))).toMatchObject({ status: 404 });
  });

  it("needs a full-scope key to redrive or read the signing key, and a valid key at all", async () => {
    const [event] = (await list(a, "broken")).FailedEvents;
    const invokeOnly = { ...a, ...(await addKey(a.tenantId, "invoke")) };
    expect((await list(invokeOnly, "broken")).FailedEvents.length).toBeGreaterThan(0);
    expect(await errorOf(await cellfn(invokeOnly, "POST", `/functions/broken/failed-events/${event?.Id}/redrive`))).toMatchObject({
      status: 403,
      type: "AccessDeniedException",
    });
    expect(await errorOf(await cellfn(invokeOnly, "GET", "/destination-signing-key"))).toMatchObject({ status: 403, type: "AccessDeniedException" });
    expect((await bearer(a, "GET", "/cellfn/v1/destination-signing-key")).status).toBe(200);
    const anonymous = await exports.default.fetch("http://cellfn.test/cellfn/v1/functions/broken/failed-events");
    expect(await errorOf(anonymous)).toMatchObject({ status: 403, type: "MissingAuthenticationTokenException" });
  });
});
