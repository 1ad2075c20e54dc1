import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { AsyncEventMessage } from "../../src/async/messages";
import { DepthReport } from "../../src/async/batch-context";
import { handleQueueBatch } from "../../src/async/poller";
import { processEvent } from "../../src/async/process-event";
import { database } from "../../src/db/client";
import { AssignmentPartition } from "../../src/invoke/assignment-partition";
import type { TenantKey } from "../helpers/platform";
import { createFunctionBody, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Backlog mode of async events (src/async/backlog.ts), in workerd with the
 * real queues and their consumer (the poller): old events move to the
 * low-priority queue and run only on concurrency new events leave idle (a
 * backlog lease of the function's AssignmentPartition), so new events sent
 * after them overtake them; every old event still completes, and one whose
 * age runs out while it waits goes to its failure destination with
 * EventAgeExceeded. The backlog is made of events accepted "long ago"
 * (their async_events row and message written as enqueueEvent writes them,
 * the message sent to a real shard queue); new events go through the API.
 */

// MOCK of an external receiver (a tenant's webhook on the internet): handlers
// report their start and end there, and it takes the OnFailure records. Any
// other host passes through to the real fetch.
const RECEIVER = "https://backlog-receiver.example.com";
const deliveries: Array<{ path: string; body: string; at: number }> = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let realFetch: typeof fetch;
beforeAll(() => {
  realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(RECEIVER)) return realFetch(input, init);
    deliveries.push({ path: new URL(request.url).pathname, body: await request.text(), at: Date.now() });
    return new Response("ok");
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

/** Reports `/<name>-start` with the event's n, works `ms` (I/O wait), returns n. */
const slowHandler = (name: string, ms: number) => `
  exports.handler = async (event) => {
    await fetch("${RECEIVER}/${name}-start", { method: "POST", body: String(event.n) });
    await new Promise((resolve) => setTimeout(resolve, ${ms}));
    return event.n;
  };`;

async function createFn(key: TenantKey, name: string, code: string, reserved: number, eventConfig: Record<string, unknown> = {}) {
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": code }));
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
  const concurrency = await signed(key, "PUT", `/2017-10-31/functions/${name}/concurrency`, { ReservedConcurrentExecutions: reserved });
  if (concurrency.status !== 200) throw new Error(`concurrency ${name}: ${concurrency.status} ${await concurrency.text()}`);
  if (Object.keys(eventConfig).length > 0) {
    const config = await signed(key, "PUT", `/2019-09-25/functions/${name}/event-invoke-config`, eventConfig);
    if (config.status !== 200) throw new Error(`event invoke config ${name}: ${config.status} ${await config.text()}`);
  }
}

async function invokeEvent(key: TenantKey, name: string, payload: unknown): Promise<string> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const request = await client.sign(`http://cellfn.test${fn(name)}/invocations`, {
    method: "POST",
    headers: { "X-Amz-Invocation-Type": "Event" },
    body: JSON.stringify(payload),
  });
  const res = await exports.default.fetch(request);
  if (res.status !== 202) throw new Error(`Event invoke ${name}: ${res.status} ${await res.text()}`);
  return res.headers.get("x-amzn-RequestId") ?? "";
}

/** An event accepted `ageMs` ago: its row as enqueueEvent writes it, and its message (not sent). */
async function oldEvent(key: TenantKey, functionName: string, payload: unknown, ageMs: number, queue: string): Promise<AsyncEventMessage> {
  const acceptedAt = Date.now() - ageMs;
  const message: AsyncEventMessage = {
    kind: "event",
    requestId: crypto.randomUUID(),
    tenantId: key.tenantId,
    functionName,
    payload: JSON.stringify(payload),
    acceptedAt,
    retriesSpent: 0,
    backoffs: 0,
    attempt: 0,
    lineage: {},
    queue,
  };
  await env.DB.prepare(
    "INSERT INTO async_events (request_id, tenant_id, function_name, qualifier, status, invoke_count, accepted_at, updated_at) VALUES (?, ?, ?, NULL, 'queued', 0, ?, ?)",
  )
    .bind(message.requestId, key.tenantId, functionName, acceptedAt, acceptedAt)
    .run();
  return message;
}

const row = (requestId: string) =>
  env.DB.prepare("SELECT status, attempt, invoke_count FROM async_events WHERE request_id = ?").bind(requestId).first<{ status: string; attempt: number; invoke_count: number }>();
const settled = (requestId: string) =>
  waitFor(`event ${requestId} to settle`, async () => {
    const r = await row(requestId);
    return r && r.status !== "queued" ? r : null;
  });

async function runBatch(queue: string, bodies: unknown[], batchEnv: Env) {
  const messages = bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: Date.now(), attempts: 1, body }));
  const batch = createMessageBatch(queue, messages);
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, batchEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ids: messages.map((m) => m.id), acked: result.explicitAcks };
}

/**
 * Takes all `reserved` slots of a function as new events' leases would (its
 * partition then defers every backlog lease); the returned function gives them back.
 */
async function occupy(key: TenantKey, name: string, reserved: number): Promise<() => Promise<void>> {
  const partition = AssignmentPartition.of(env, key.tenantId, name);
  const request = {
    tenantId: key.tenantId,
    functionKey: `${key.tenantId}/${name}`,
    versionKey: "occupied@test",
    isolationKey: "",
    reservedConcurrency: reserved,
    unreservedLimit: 1000,
    timeoutMs: 60_000,
  };
  const grants = await Promise.all(Array.from({ length: reserved }, () => partition.acquire(request)));
  const ids = grants.map((g) => (g.granted ? g.leaseId : ""));
  expect(ids.every((id) => id !== "")).toBe(true);
  return async () => {
    for (const id of ids) await partition.release(id, key.tenantId, true);
  };
}

const startsOf = (name: string) => deliveries.filter((d) => d.path === `/${name}-start`);

describe("async backlog mode", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
    await createFn(key, "busy", slowHandler("busy", 300), 4);
    await createFn(key, "expiring", slowHandler("expiring", 10), 2, {
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: `${RECEIVER}/expiring-failed` } },
    });
    await createFn(key, "fifo", slowHandler("fifo", 10), 2);
    await createFn(key, "failing", `exports.handler = async (event) => { await fetch("${RECEIVER}/failing-start", { method: "POST", body: String(event.n) }); throw new Error("no"); };`, 2, {
      MaximumRetryAttempts: 1,
    });
  });

  it("runs new events before an older backlog, and still runs every old event once", async () => {
    // A backlog: 10 events accepted 30 s ago, on a real shard queue.
    const old = await Promise.all(Array.from({ length: 10 }, (_, i) => oldEvent(key, "busy", { n: 100 + i }, 30_000, "cellfn-async-0-0")));
    await env.ASYNC_0_0.sendBatch(old.map((body) => ({ body, contentType: "json" })));
    await sleep(200);
    // Then new events through the API.
    const sentAt = Date.now();
    const fresh = [];
    for (let i = 0; i < 3; i++) fresh.push(await invokeEvent(key, "busy", { n: i }));

    const freshStarts = await waitFor("the new events' starts", async () => {
      const s = startsOf("busy").filter((d) => Number(d.body) < 100);
      return s.length >= 3 && s;
    });
    const lastFreshStart = Math.max(...freshStarts.map((d) => d.at));
    // New events run at once: within a couple of seconds, while most of the backlog still waits.
    expect(lastFreshStart - sentAt).toBeLessThan(3_000);
    const oldStartedBefore = startsOf("busy").filter((d) => Number(d.body) >= 100 && d.at <= lastFreshStart).length;
    expect(oldStartedBefore).toBeLessThan(old.length);

    // Every event, old and new, succeeds exactly once.
    for (const requestId of [...fresh, ...old.map((m) => m.requestId)]) {
      expect(await settled(requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    }
    const oldNs = startsOf("busy").map((d) => Number(d.body)).filter((n) => n >= 100).sort((a, b) => a - b);
    expect(oldNs).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
  }, 120_000);

  it("sends an old event whose age runs out while it waits for idle concurrency to its failure destination (EventAgeExceeded)", async () => {
    // Every slot of the function is busy with new events.
    const giveBack = await occupy(key, "expiring", 2);
    try {
      // 59.5 s old with MaximumEventAgeInSeconds 60: the next try for a slot would come too late.
      const message = await oldEvent(key, "expiring", { n: 7 }, 59_500, "cellfn-async-0-lowpri");
      const batch = await runBatch("cellfn-async-0-lowpri", [message], env);
      expect(batch.acked).toEqual(batch.ids);
      expect(await row(message.requestId)).toMatchObject({ status: "failed", invoke_count: 0 });
      const failed = await env.DB.prepare("SELECT condition FROM failed_events WHERE request_id = ?").bind(message.requestId).all<{ condition: string }>();
      expect(failed.results.map((r) => r.condition)).toEqual(["EventAgeExceeded"]);
      const record = await waitFor("the OnFailure record", async () =>
        deliveries.find((d) => d.path === "/expiring-failed" && JSON.parse(d.body).requestContext.requestId === message.requestId),
      );
      expect(JSON.parse(record.body)).toMatchObject({ requestContext: { condition: "EventAgeExceeded", approximateInvokeCount: 0 }, requestPayload: { n: 7 } });
      expect(startsOf("expiring")).toHaveLength(0);
    } finally {
      await giveBack();
    }
  });

  it("waits on the low-priority queue while new events hold the function's concurrency, and runs once a slot is idle", async () => {
    const giveBack = await occupy(key, "expiring", 2);
    const message = await oldEvent(key, "expiring", { n: 8 }, 5_000, "cellfn-async-0-lowpri");
    const batch = await runBatch("cellfn-async-0-lowpri", [message], env);
    expect(batch.acked).toEqual(batch.ids);
    // Not run: handed to its next message on the low-priority queue.
    expect(await row(message.requestId)).toMatchObject({ status: "queued", attempt: 1, invoke_count: 0 });
    await giveBack();
    expect(await settled(message.requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
    expect(startsOf("expiring").map((d) => d.body)).toEqual(["8"]);
  });

  it("with ASYNC_BACKLOG_MODE off runs an old event where it finds it (FIFO), and moves it in backlog mode", async () => {
    // The poller hands each event to the EventRunner entrypoint, which has the Worker's own env
    // (mode on): the mode-off case calls processEvent, what the runner calls, with that setting.
    const fifoEnv = { ...env, ASYNC_BACKLOG_MODE: "off" } as Env;
    const first = await oldEvent(key, "fifo", { n: 1 }, 10_000, "cellfn-async-0-1");
    const ctx = createExecutionContext();
    const source = { name: "cellfn-async-0-1", cell: 0, role: "shard" as const };
    await processEvent(first, { env: fifoEnv, ctx, source, report: new DepthReport(), db: database(env.DB) });
    expect(await row(first.requestId)).toMatchObject({ status: "succeeded", attempt: 0, invoke_count: 1 });

    const second = await oldEvent(key, "fifo", { n: 2 }, 10_000, "cellfn-async-0-1");
    await runBatch("cellfn-async-0-1", [second], env);
    // Moved (its next message is on the low-priority queue), not run here; the real consumer runs it there.
    expect((await row(second.requestId))?.attempt).toBe(1);
    expect(await settled(second.requestId)).toMatchObject({ status: "succeeded", invoke_count: 1 });
  });

  it("runs an event whose retry delay just ended where it finds it, however long ago it was accepted, and retries it there", async () => {
    // Accepted a minute ago, due now (its delay just ended): it waited behind no backlog. Before, the
    // age since acceptance sent every retried or throttled event behind the old ones (bench:backlog:
    // new events after a surge waited up to 586 s).
    const message: AsyncEventMessage = { ...(await oldEvent(key, "failing", { n: 4 }, 60_000, "cellfn-async-0-1")), dueAt: Date.now() };
    const report = new DepthReport();
    const source = { name: "cellfn-async-0-1", cell: 0, role: "shard" as const };
    await processEvent(message, { env, ctx: createExecutionContext(), source, report, db: database(env.DB) });
    expect(await row(message.requestId)).toMatchObject({ status: "queued", attempt: 1, invoke_count: 1 });
    // Its retry (1 s here) went back to its shard queue, not to the low-priority queue.
    expect([...report.added.keys()]).toEqual(["cellfn-async-0-1"]);
    // The real consumer runs the retry where it finds it: two runs, then RetriesExhausted.
    expect(await settled(message.requestId)).toMatchObject({ status: "failed", invoke_count: 2 });
    expect(startsOf("failing").map((d) => d.body)).toEqual(["4", "4"]);
  });
});
