/**
 * Regression test for async events lost by a restart of `wrangler dev`
 * (found by `npm run chaos`): the local queue broker keeps messages in
 * memory, so an event accepted with 202 whose message was still queued
 * never ran and left no record. With ASYNC_QUEUES_VOLATILE the kept message
 * of each queued event is sent again once after boot
 * (src/async/volatile-queues.ts); here a lost message is an async_events
 * row with its kept message and no queue message at all.
 *
 * The same for http(s) destination deliveries (a webhook's record still in
 * the queue when `wrangler dev` was killed): each delivery keeps its newest
 * message on an async_events row of its own, settled once the POST
 * succeeds or the record is kept as a failed event.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AsyncEventStore } from "../../src/data/async-event-store";
import { database } from "../../src/db/client";
import type { AsyncEventMessage, DestinationDelivery } from "../../src/async/messages";
import { dispatchDestination } from "../../src/async/deliver";
import { handleQueueBatch } from "../../src/async/poller";
import type { InvocationRecord } from "../../src/async/record";
import { resendQueuedBefore } from "../../src/async/volatile-queues";
import { tenantScopeById } from "../../src/services/scope";
import { createFunctionBody, newTenant, signed, waitUntilSettled } from "../helpers/platform";

const volatileEnv = { ...env, ASYNC_QUEUES_VOLATILE: "true" } as Env;

async function lostEvent(tenantId: string, functionName: string, keptMessage: boolean, updatedAt: number): Promise<string> {
  const requestId = crypto.randomUUID();
  const store = new AsyncEventStore(database(env.DB), tenantId);
  await store.accept({ requestId, functionName, qualifier: null, acceptedAt: updatedAt });
  const message: AsyncEventMessage = {
    kind: "event",
    requestId,
    tenantId,
    functionName,
    payload: JSON.stringify({ requestId }),
    acceptedAt: updatedAt,
    retriesSpent: 0,
    backoffs: 0,
    attempt: 0,
    lineage: {},
    queue: "cellfn-async-0-0",
  };
  if (keptMessage) await store.remember(requestId, JSON.stringify(message));
  return requestId;
}

const statusOf = async (requestId: string) =>
  (await env.DB.prepare("SELECT status FROM async_events WHERE request_id = ?").bind(requestId).first<{ status: string }>())?.status;

describe("async events whose queue message a restart lost", () => {
  it("are sent again and run once; events sent after boot and rows without a kept message are left alone", async () => {
    const key = await newTenant();
    await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("lost", { "index.js": "exports.handler = async (event) => event;" }));
    await waitUntilSettled(key, "lost");
    const boot = Date.now();
    const lost = await lostEvent(key.tenantId, "lost", true, boot - 5_000);
    const unkept = await lostEvent(key.tenantId, "lost", false, boot - 5_000);
    const afterBoot = await lostEvent(key.tenantId, "lost", true, boot + 60_000);

    expect(await resendQueuedBefore(volatileEnv, boot)).toBeGreaterThanOrEqual(1);
    const deadline = Date.now() + 30_000;
    while ((await statusOf(lost)) === "queued" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await statusOf(lost)).toBe("succeeded");
    const row = await env.DB.prepare("SELECT invoke_count FROM async_events WHERE request_id = ?").bind(lost).first<{ invoke_count: number }>();
    expect(row?.invoke_count).toBe(1);
    expect(await statusOf(unkept)).toBe("queued");
    expect(await statusOf(afterBoot)).toBe("queued");
  });

  it("is off unless ASYNC_QUEUES_VOLATILE is true (wrangler.toml keeps it false for deployments)", () => {
    expect(env.ASYNC_QUEUES_VOLATILE).toBe("false");
  });
});

// MOCK of an external webhook receiver (a tenant's endpoint on the internet,
// outside cellfn): the poller POSTs with the global fetch(), which this
// isolate shares with the tests; requests to any other host pass through.
const RECEIVER = "https://kept-receiver.example.com";
const posts: { path: string; attempt: string | null; body: string }[] = [];
const receiverStatus = new Map<string, number>();
const postsTo = (path: string) => posts.filter((p) => p.path === path);

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 25_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("http destination deliveries whose queue message a restart lost", () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = (await newTenant()).tenantId;
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (!request.url.startsWith(RECEIVER)) return realFetch(input, init);
      const path = new URL(request.url).pathname;
      posts.push({ path, attempt: request.headers.get("X-Cellfn-Delivery-Attempt"), body: await request.text() });
      return new Response("mock receiver", { status: receiverStatus.get(path) ?? 200 });
    });
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  const rowOf = (requestId: string) =>
    env.DB.prepare("SELECT status, attempt, message FROM async_events WHERE request_id = ?").bind(requestId).first<{ status: string; attempt: number; message: string | null }>();
  const record = (id: string): InvocationRecord =>
    ({ version: "1.0", timestamp: new Date().toISOString(), requestContext: { requestId: id, functionArn: "arn:aws:lambda:us-east-1:123456789012:function:src", condition: "Success", approximateInvokeCount: 1 }, requestPayload: { id } }) as InvocationRecord;
  const source = (requestId: string) => ({ tenantId, functionName: "src", requestId, lineage: {}, queue: "cellfn-async-0-3" });

  /** A delivery kept on its row (attempt `attempt`, last sent at `sentAt`) whose queue message is gone. */
  async function keptDelivery(path: string, attempt: number, sentAt: number): Promise<DestinationDelivery> {
    const deliveryId = crypto.randomUUID();
    const message: DestinationDelivery = {
      kind: "destination",
      tenantId,
      functionName: "src",
      requestId: crypto.randomUUID(),
      url: `${RECEIVER}${path}`,
      record: record(deliveryId) as unknown as Record<string, unknown>,
      attempt,
      queue: "cellfn-async-0-3",
      deliveryId,
    };
    await new AsyncEventStore(database(env.DB), tenantId).keepDelivery({ requestId: deliveryId, functionName: "src", message: JSON.stringify(message), now: sentAt });
    return message;
  }

  async function runBatch(bodies: unknown[]) {
    const batch = createMessageBatch("cellfn-async-0-3", bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: Date.now(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    return getQueueResult(batch, ctx);
  }

  it("keeps the delivery's message on one row before sending it, however often the settle runs, and settles the row when delivered", async () => {
    const scope = await tenantScopeById(volatileEnv, tenantId);
    if (!scope) throw new Error("no scope");
    const id = crypto.randomUUID();
    const first = await dispatchDestination(scope, `${RECEIVER}/kept`, record(id), source(id));
    await dispatchDestination(scope, `${RECEIVER}/kept`, record(id), source(id));
    expect(first.kind).toBe("sent");
    const kept = await env.DB.prepare("SELECT request_id, status, message FROM async_events WHERE tenant_id = ? AND function_name = 'src' AND message LIKE ?")
      .bind(tenantId, `%${id}%`)
      .all<{ request_id: string; status: string; message: string }>();
    expect(kept.results).toHaveLength(1);
    const row = kept.results[0];
    const message = JSON.parse(row?.message ?? "{}") as DestinationDelivery;
    expect(message).toMatchObject({ kind: "destination", deliveryId: row?.request_id, attempt: 0, url: `${RECEIVER}/kept` });
    // The queue runs both copies (at least once: a copy that starts before the first settles POSTs too).
    await until("the row settled", async () => (await rowOf(row?.request_id ?? ""))?.status === "succeeded");
    expect(postsTo("/kept").filter((p) => JSON.parse(p.body).requestPayload.id === id).length).toBeGreaterThanOrEqual(1);
  });

  it("are sent again after boot and delivered once; a retry becomes the kept message", async () => {
    const boot = Date.now();
    const message = await keptDelivery("/lost", 0, boot - 5_000);
    const deliveryId = message.deliveryId ?? "";
    receiverStatus.set("/lost", 500);
    // No queue message exists (the broker that held it is gone): only the recovery sends it.
    expect(await resendQueuedBefore(volatileEnv, boot)).toBeGreaterThanOrEqual(1);
    await until("the first POST", () => postsTo("/lost").length >= 1);
    await until("the retry kept", async () => (await rowOf(deliveryId))?.attempt === 1);
    expect(JSON.parse((await rowOf(deliveryId))?.message ?? "{}")).toMatchObject({ attempt: 1, deliveryId });
    receiverStatus.set("/lost", 200);
    await until("the row settled", async () => (await rowOf(deliveryId))?.status === "succeeded");
    expect(postsTo("/lost").map((p) => p.attempt)).toEqual(["1", "2"]);
    // A late copy of either attempt changes nothing.
    const result = await runBatch([message, { ...message, attempt: 1 }]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(postsTo("/lost")).toHaveLength(2);
  });

  it("settles the row as failed when the record is kept as a failed event", async () => {
    const message = await keptDelivery("/down", 4, Date.now());
    const { deliveryId = "", requestId } = message;
    await env.DB.prepare("UPDATE async_events SET attempt = 4 WHERE request_id = ?").bind(deliveryId).run();
    receiverStatus.set("/down", 503);
    await runBatch([message]);
    expect((await rowOf(deliveryId))?.status).toBe("failed");
    const failed = await env.DB.prepare("SELECT condition FROM failed_events WHERE tenant_id = ? AND request_id = ?").bind(tenantId, requestId).all<{ condition: string }>();
    expect(failed.results.map((r) => r.condition)).toEqual(["DestinationDeliveryFailed"]);
  });
});
