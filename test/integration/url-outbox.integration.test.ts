/**
 * http(s) destination deliveries go through their tenant's outbox
 * (src/async/url-outbox.ts), not the async queues: a receiver that answers
 * slowly or never must not hold the poller's batch (and every event behind
 * it), nor another tenant's deliveries; and nothing is lost on the way
 * (one POST per delivery however often the settle runs, retries, a failed
 * event after the last attempt, and deliveries kept on a row before the
 * outbox existed).
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dispatchDestination, URL_DELIVERY_ATTEMPTS } from "../../src/async/deliver";
import type { DestinationDelivery } from "../../src/async/messages";
import { handleQueueBatch } from "../../src/async/poller";
import type { InvocationRecord } from "../../src/async/record";
import { MAX_IN_FLIGHT, UrlOutbox } from "../../src/async/url-outbox";
import { resendQueuedBefore } from "../../src/async/volatile-queues";
import { AsyncEventStore } from "../../src/data/async-event-store";
import { database } from "../../src/db/client";
import { tenantScopeById } from "../../src/services/scope";
import { newTenant } from "../helpers/platform";

// MOCK of an external webhook receiver (a tenant's endpoint on the internet,
// outside cellfn): the outbox POSTs with the global fetch(), which this
// isolate (its Durable Objects included) shares with the tests. A path in
// `hanging` gets no answer until the test releases it; requests to any other
// host pass through.
const RECEIVER = "https://outbox-receiver.example.com";
const posts: { path: string; attempt: string | null; body: string }[] = [];
const receiverStatus = new Map<string, number>();
const hanging = new Map<string, { release: () => void; promise: Promise<void> }>();
const postsTo = (path: string) => posts.filter((p) => p.path === path);

function hang(path: string): () => void {
  let release = () => {};
  const promise = new Promise<void>((r) => (release = r));
  hanging.set(path, { release, promise });
  return release;
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 25_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const volatileEnv = { ...env, ASYNC_QUEUES_VOLATILE: "true" } as Env;

beforeAll(() => {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(RECEIVER)) return realFetch(input, init);
    const path = new URL(request.url).pathname;
    posts.push({ path, attempt: request.headers.get("X-Cellfn-Delivery-Attempt"), body: await request.text() });
    await hanging.get(path)?.promise;
    return new Response("mock receiver", { status: receiverStatus.get(path) ?? 200 });
  });
});
afterAll(() => {
  for (const h of hanging.values()) h.release();
  vi.restoreAllMocks();
});

const record = (id: string): InvocationRecord =>
  ({
    version: "1.0",
    timestamp: new Date().toISOString(),
    requestContext: { requestId: id, functionArn: "arn:aws:lambda:us-east-1:123456789012:function:src", condition: "Success", approximateInvokeCount: 1 },
    requestPayload: { id },
  }) as InvocationRecord;

async function dispatcher(tenantId: string) {
  const scope = await tenantScopeById(env, tenantId);
  if (!scope) throw new Error("no scope");
  return (path: string, id = crypto.randomUUID()) =>
    dispatchDestination(scope, `${RECEIVER}${path}`, record(id), { tenantId, functionName: "src", requestId: id, lineage: {} });
}

const pending = (tenantId: string) => UrlOutbox.of(env, tenantId).pending();
const failedConditions = async (tenantId: string, requestId: string) =>
  (await env.DB.prepare("SELECT condition FROM failed_events WHERE tenant_id = ? AND request_id = ?").bind(tenantId, requestId).all<{ condition: string }>()).results.map((r) => r.condition);

describe("url outbox", () => {
  let tenantId: string;
  let send: Awaited<ReturnType<typeof dispatcher>>;
  beforeAll(async () => {
    tenantId = (await newTenant()).tenantId;
    send = await dispatcher(tenantId);
  });

  it("takes a delivery once however often the settle runs, POSTs it once, and empties", async () => {
    const id = crypto.randomUUID();
    expect(await send("/once", id)).toEqual({ kind: "handedOver" });
    expect(await send("/once", id)).toEqual({ kind: "handedOver" });
    await until("the POST", () => postsTo("/once").length >= 1);
    await until("the outbox empty", async () => (await pending(tenantId)) === 0);
    expect(postsTo("/once").map((p) => [p.attempt, JSON.parse(p.body).requestPayload.id])).toEqual([["1", id]]);
  });

  it("hands a delivery over at once while its receiver hangs, and POSTs the next one meanwhile", async () => {
    const release = hang("/hang");
    const started = Date.now();
    await send("/hang");
    await until("the hanging POST", () => postsTo("/hang").length === 1);
    // The poller is not held by the receiver: the hand-over took well under the POST's 10 s deadline.
    expect(Date.now() - started).toBeLessThan(2_000);
    await send("/quick");
    await until("the next delivery", () => postsTo("/quick").length === 1, 5_000);
    expect(await pending(tenantId)).toBe(1);
    release();
    await until("the outbox empty", async () => (await pending(tenantId)) === 0);
    expect(postsTo("/hang")).toHaveLength(1);
  });

  it("retries a non-2xx answer with backoff, then delivers", async () => {
    receiverStatus.set("/flaky", 500);
    const id = crypto.randomUUID();
    await send("/flaky", id);
    await until("the first POST", () => postsTo("/flaky").length === 1);
    receiverStatus.set("/flaky", 200);
    await until("the retry", () => postsTo("/flaky").length === 2);
    await until("the outbox empty", async () => (await pending(tenantId)) === 0);
    expect(postsTo("/flaky").map((p) => p.attempt)).toEqual(["1", "2"]);
    expect(await failedConditions(tenantId, id)).toEqual([]);
  });

  it("keeps the record as a failed event after the last attempt", async () => {
    receiverStatus.set("/down", 503);
    const requestId = crypto.randomUUID();
    const message: DestinationDelivery = { kind: "destination", tenantId, functionName: "src", requestId, url: `${RECEIVER}/down`, record: { version: "1.0", requestContext: { condition: "Success" } }, attempt: URL_DELIVERY_ATTEMPTS - 1, deliveryId: crypto.randomUUID() };
    await UrlOutbox.of(env, tenantId).take(message.deliveryId ?? "", message);
    await until("the failed event", async () => (await failedConditions(tenantId, requestId)).length > 0);
    expect(await failedConditions(tenantId, requestId)).toEqual(["DestinationDeliveryFailed"]);
    expect(postsTo("/down")).toHaveLength(1);
    expect(await pending(tenantId)).toBe(0);
  });

  it("keeps another tenant's deliveries moving while one tenant's receivers hang", async () => {
    const flooder = (await newTenant()).tenantId;
    const flood = await dispatcher(flooder);
    const release = hang("/flood");
    for (let i = 0; i < MAX_IN_FLIGHT + 4; i++) await flood("/flood");
    await until("the flooder's POSTs in flight", () => postsTo("/flood").length === MAX_IN_FLIGHT);
    // The flooder's outbox is full: its extra deliveries wait, the other tenant's go out.
    await send("/neighbour");
    await until("the neighbour's delivery", () => postsTo("/neighbour").length === 1, 5_000);
    expect(postsTo("/flood")).toHaveLength(MAX_IN_FLIGHT);
    release();
    await until("the flooder's outbox empty", async () => (await pending(flooder)) === 0);
    expect(postsTo("/flood")).toHaveLength(MAX_IN_FLIGHT + 4);
  });

  it("hands a delivery kept on a row before the outbox (sent again after a restart) over once, and settles its row", async () => {
    const deliveryId = crypto.randomUUID();
    const message: DestinationDelivery = {
      kind: "destination",
      tenantId,
      functionName: "src",
      requestId: crypto.randomUUID(),
      url: `${RECEIVER}/kept`,
      record: record(deliveryId) as unknown as Record<string, unknown>,
      attempt: 0,
      queue: "cellfn-async-0-3",
      deliveryId,
    };
    const boot = Date.now();
    await new AsyncEventStore(database(env.DB), tenantId).keepDelivery({ requestId: deliveryId, functionName: "src", message: JSON.stringify(message), now: boot - 5_000 });
    const statusOf = async () => (await env.DB.prepare("SELECT status FROM async_events WHERE request_id = ?").bind(deliveryId).first<{ status: string }>())?.status;
    expect(await resendQueuedBefore(volatileEnv, boot)).toBeGreaterThanOrEqual(1);
    await until("the row settled", async () => (await statusOf()) === "succeeded");
    await until("the POST", () => postsTo("/kept").length === 1);
    // A late copy changes nothing.
    const batch = createMessageBatch("cellfn-async-0-3", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    await until("the outbox empty", async () => (await pending(tenantId)) === 0);
    expect(postsTo("/kept")).toHaveLength(1);
  });
});
