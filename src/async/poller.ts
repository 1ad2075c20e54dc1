/**
 * The poller: the queue() handler of every async queue (shard, sideline,
 * low-priority and dead-letter queues of every cell). It runs accepted events
 * through the same path as a synchronous invoke, retries them as Lambda does
 * (src/async/outcome.ts), delivers invocation records to destinations
 * (src/async/deliver.ts) and keeps every event that ends without success
 * as a failed event. Nothing accepted with 202 is lost without a record:
 *
 * - a message is acknowledged only after its outcome is written (D1 row,
 *   resend, destination sent); if writing the outcome throws, the message is
 *   retried by the queue, and after max_retries it lands on the cell's
 *   dead-letter queue, where the poller records it as a PlatformError failure;
 * - a redelivered event whose row already says succeeded/failed is
 *   acknowledged without running again (queues deliver at least once).
 */
import { exports } from "cloudflare:workers";
import { faultFires } from "../chaos/faults";
import { LATEST } from "../data/function-store";
import { FailedEventStore } from "../data/failed-event-store";
import { database } from "../db/client";
import { AsyncEventStore } from "../data/async-event-store";
import { tenantScopeById } from "../services/scope";
import type { BatchContext } from "./batch-context";
import { DepthReport } from "./batch-context";
import { recordDeliveryFailure, STORED_RECORD_MAX_BYTES } from "./deliver";
import type { DestinationDelivery } from "./messages";
import { queueMessageSchema } from "./messages";
import { parseQueueName } from "./queues";
import { UrlOutbox } from "./url-outbox";
import { isStaleDelivery, settleDelivery } from "./volatile-queues";
import type { InvocationRecord } from "./record";
import { fitRecord, parsePayload, recordFunctionArn } from "./record";


/** The queue() handler: `export default { fetch, queue: handleQueueBatch }`. */
export async function handleQueueBatch(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const parsed = parseQueueName(batch.queue);
  const bc: BatchContext = {
    env,
    ctx,
    source: { name: batch.queue, cell: parsed?.cell, role: parsed?.role },
    report: new DepthReport(),
    db: database(env.DB),
  };
  if (!parsed) console.error(`poller: batch from ${batch.queue}, which is not an async queue; processing it anyway`);

  const lanes = new Map<string, Message<unknown>[]>();
  for (const message of batch.messages) {
    const key = laneKey(message);
    const lane = lanes.get(key);
    if (lane) lane.push(message);
    else lanes.set(key, [message]);
  }
  // Lanes run side by side, each event in a request context of its own (src/async/event-entrypoint.ts).
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const message of lane) await handleMessage(message, bc);
    }),
  );
  await bc.report.send(env);
}

/**
 * Copies of one event (a redelivery next to the original) share a lane and
 * run one after another, so the second sees the first's recorded outcome and
 * does not run the handler again; so do copies of one kept destination
 * delivery (src/async/volatile-queues.ts). Every other message has a lane of its own.
 */
function laneKey(message: Message<unknown>): string {
  const body = message.body as { kind?: unknown; requestId?: unknown; deliveryId?: unknown } | null;
  if (body && body.kind === "event" && typeof body.requestId === "string") return `event\u0000${body.requestId}`;
  if (body && body.kind === "destination" && typeof body.deliveryId === "string") return `delivery\u0000${body.deliveryId}`;
  return `other\u0000${message.id}`;
}

/** Processes one message and acknowledges it, or asks the queue to retry it when its outcome could not be recorded. */
async function handleMessage(message: Message<unknown>, bc: BatchContext): Promise<void> {
  // Test-only (src/chaos/faults.ts): a delayed delivery, and below a duplicate one.
  if (faultFires(bc.env, "queue-delay")) {
    message.retry({ delaySeconds: 2 });
    return;
  }
  try {
    const settledQueue = await processMessage(message, bc);
    if (faultFires(bc.env, "queue-duplicate")) {
      // Delivered again; the copy finds the recorded outcome and settles the depth then.
      message.retry();
      return;
    }
    message.ack();
    bc.report.settle(settledQueue);
  } catch (err) {
    const delaySeconds = Math.min(2 ** Math.max(0, message.attempts), 300);
    console.error(`poller: message ${message.id} on ${bc.source.name} not settled (attempt ${message.attempts}); retrying in ${delaySeconds}s`, err);
    message.retry({ delaySeconds });
  }
}

/** Returns the queue whose depth the message counted against (to settle it there). */
async function processMessage(message: Message<unknown>, bc: BatchContext): Promise<string> {
  const parsed = queueMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error(`poller: unreadable message ${message.id} on ${bc.source.name}: ${parsed.error.message}`);
    await recordUnreadable(message.body, bc);
    return bc.source.name;
  }
  const body = parsed.data;
  // On the dead-letter queue a message still counts against the queue it was last sent to.
  const countedOn = bc.source.role === "dlq" ? (body.queue ?? bc.source.name) : bc.source.name;
  if (body.kind === "destination") {
    if (bc.source.role === "dlq") {
      await recordDeliveryFailure(bc.env, body, body.record, "the queue gave up on the destination message");
      await settleDelivery(bc.env, body, "failed");
    } else {
      await processDestination(body, bc);
    }
    return countedOn;
  }
  const added = await exports.EventRunner.run(body, bc.source);
  for (const [queue, n] of Object.entries(added)) bc.report.add(queue, n);
  return countedOn;
}


// ---------------------------------------------------------------- destinations

/**
 * A destination message from before http(s) deliveries had their outbox
 * (src/async/url-outbox.ts), still on a queue after an upgrade: handed to
 * its tenant's outbox like a new delivery.
 */
async function processDestination(message: DestinationDelivery, bc: BatchContext): Promise<void> {
  // Local development (src/async/volatile-queues.ts): a copy of a delivery that already ended or moved on.
  if (await isStaleDelivery(bc.env, message)) return;
  await UrlOutbox.of(bc.env, message.tenantId).take(message.deliveryId ?? message.requestId, message);
  await settleDelivery(bc.env, message, "succeeded");
}

// ---------------------------------------------------------------- unreadable messages

/** A message that does not parse: kept as a failed event when it names a tenant, function and request. */
async function recordUnreadable(body: unknown, bc: BatchContext): Promise<void> {
  if (typeof body !== "object" || body === null) return;
  const { tenantId, functionName, requestId, qualifier, payload } = body as Record<string, unknown>;
  if (typeof tenantId !== "string" || typeof functionName !== "string" || typeof requestId !== "string") return;
  const scope = await tenantScopeById(bc.env, tenantId);
  if (!scope) return;
  const now = Date.now();
  const events = new AsyncEventStore(bc.db, tenantId);
  const row = await events.get(requestId);
  if (row && row.status !== "queued") return;
  const record: InvocationRecord = {
    version: "1.0",
    timestamp: new Date(now).toISOString(),
    requestContext: {
      requestId,
      functionArn: recordFunctionArn(scope.names, functionName, typeof qualifier === "string" ? qualifier : LATEST),
      condition: "PlatformError",
      approximateInvokeCount: row?.invokeCount ?? 0,
    },
    ...(typeof payload === "string" ? { requestPayload: parsePayload(payload) } : {}),
  };
  const insert = new FailedEventStore(bc.db, tenantId).insertStatement({
    id: crypto.randomUUID(),
    functionName,
    requestId,
    condition: "PlatformError",
    record: fitRecord(record, STORED_RECORD_MAX_BYTES),
    createdAt: now,
  });
  if (row) {
    await bc.db.batch([insert, events.failStatement(requestId, now)]);
  } else {
    await insert;
  }
}
