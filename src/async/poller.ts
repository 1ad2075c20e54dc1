/**
 * The poller: the queue() handler of every async queue (shard, sideline,
 * low-priority and dead-letter queues of every cell). It runs accepted events
 * through the same path as a synchronous invoke, retries them as Lambda does
 * (src/async/outcome.ts), delivers invocation records to destinations
 * (src/async/destinations.ts) and keeps every event that ends without success
 * as a failed event. Nothing accepted with 202 is lost without a record:
 *
 * - a message is acknowledged only after its outcome is written (D1 row,
 *   resend, destination sent); if writing the outcome throws, the message is
 *   retried by the queue, and after max_retries it lands on the cell's
 *   dead-letter queue, where the poller records it as a PlatformError failure;
 * - a redelivered event whose row already says succeeded/failed is
 *   acknowledged without running again (queues deliver at least once).
 */
import { and, eq, sql } from "drizzle-orm";
import { LATEST } from "../data/function-store";
import { FailedEventStore } from "../data/failed-event-store";
import type { Database } from "../db/client";
import { database } from "../db/client";
import { asyncEvents } from "../db/schema";
import { LambdaError } from "../errors";
import { effectiveEventConfig } from "../services/event-invoke-config";
import type { InvokeOutcome } from "../services/invoke";
import { invokeSync, prepareInvoke } from "../services/invoke";
import type { TenantScope } from "../services/scope";
import { resolveVersion } from "../services/resolve";
import { tenantScopeById } from "../services/scope";
import type { DeliverySource } from "./destinations";
import { deliverToUrl, dispatchDestination, recordDeliveryFailure, STORED_RECORD_MAX_BYTES } from "./destinations";
import { resend } from "./enqueue";
import type { AsyncEventMessage, DestinationDelivery } from "./messages";
import { queueMessageSchema } from "./messages";
import type { AttemptResult, EventState, FailedEventCondition, RetryPolicy } from "./outcome";
import { decide, isExpired } from "./outcome";
import type { QueueRole } from "./queues";
import { parseQueueName, queueBinding, roleQueueName } from "./queues";
import type { InvocationRecord, RecordResponse } from "./record";
import { fitRecord, invocationRecord, parsePayload, recordFunctionArn } from "./record";

/**
 * A Worker request may have only about 4 distinct Dynamic Workers in flight:
 * a batch runs at most this many functions at once (messages of one function
 * run one after another).
 */
export const MAX_FUNCTIONS_IN_FLIGHT = 4;
/** How long an isolate trusts the cell's low-priority age (QueueManager.status()). */
export const LOW_PRIORITY_CACHE_MS = 5_000;

type AsyncEventRow = typeof asyncEvents.$inferSelect;

interface QueueSource {
  /** The queue the batch came from. */
  name: string;
  cell: number | undefined;
  role: QueueRole | undefined;
}

/** Depth changes of one batch, reported to the cells' QueueManagers once. */
class DepthReport {
  readonly settled = new Map<string, number>();
  readonly added = new Map<string, number>();

  settle(queue: string): void {
    this.settled.set(queue, (this.settled.get(queue) ?? 0) + 1);
  }

  add(queue: string): void {
    this.added.set(queue, (this.added.get(queue) ?? 0) + 1);
  }

  async send(env: Env): Promise<void> {
    const byCell = new Map<number, { settled: Record<string, number>; added: Record<string, number> }>();
    const cellOf = (queue: string) => {
      const cell = parseQueueName(queue)?.cell;
      if (cell === undefined) return undefined;
      let entry = byCell.get(cell);
      if (!entry) byCell.set(cell, (entry = { settled: {}, added: {} }));
      return entry;
    };
    for (const [queue, n] of this.settled) {
      const entry = cellOf(queue);
      if (entry) entry.settled[queue] = n;
    }
    for (const [queue, n] of this.added) {
      const entry = cellOf(queue);
      if (entry) entry.added[queue] = n;
    }
    await Promise.all(
      [...byCell].map(async ([cell, counts]) => {
        try {
          const manager = queueManager(env, cell);
          if (Object.keys(counts.settled).length > 0) await manager.settled(counts.settled);
          if (Object.keys(counts.added).length > 0) await manager.added(counts.added);
        } catch (err) {
          // Depths are an estimate for routing; a lost report only skews best-of-two for a while.
          console.error(`poller: depth report to cell ${cell} failed`, err);
        }
      }),
    );
  }
}

interface BatchContext {
  env: Env;
  ctx: ExecutionContext;
  source: QueueSource;
  report: DepthReport;
  db: Database;
}

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
  const queue = [...lanes.values()];
  let next = 0;
  const worker = async () => {
    for (let lane = queue[next++]; lane !== undefined; lane = queue[next++]) {
      for (const message of lane) await handleMessage(message, bc);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_FUNCTIONS_IN_FLIGHT, queue.length) }, worker));
  await bc.report.send(env);
}

/** Messages of one function share a lane (they run one after another). */
function laneKey(message: Message<unknown>): string {
  const body = message.body as { kind?: unknown; tenantId?: unknown; functionName?: unknown } | null;
  if (body && body.kind === "event" && typeof body.tenantId === "string" && typeof body.functionName === "string") {
    return `event\u0000${body.tenantId}\u0000${body.functionName}`;
  }
  return `other\u0000${message.id}`;
}

/** Processes one message and acknowledges it, or asks the queue to retry it when its outcome could not be recorded. */
async function handleMessage(message: Message<unknown>, bc: BatchContext): Promise<void> {
  try {
    const settledQueue = await processMessage(message, bc);
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
  const countedOn = bc.source.role === "dlq" ? body.queue : bc.source.name;
  if (body.kind === "destination") {
    if (bc.source.role === "dlq") {
      await recordDeliveryFailure(bc.env, body, body.record, "the queue gave up on the destination message");
    } else {
      await processDestination(body, bc);
    }
    return countedOn;
  }
  await processEvent(body, bc);
  return countedOn;
}

// ---------------------------------------------------------------- events

/**
 * Lambda sends a discarded event to the OnFailure destination, else to the
 * function's dead-letter target (DeadLetterConfig.TargetArn, here a function
 * ARN or an http(s) URL, delivered like a destination with the record).
 */
async function deadLetterTarget(scope: TenantScope, message: AsyncEventMessage): Promise<string | undefined> {
  try {
    const ref = message.qualifier === undefined ? { name: message.functionName } : { name: message.functionName, qualifier: message.qualifier };
    const { row } = await resolveVersion(scope, ref);
    return row.config.DeadLetterConfig?.TargetArn || undefined;
  } catch {
    return undefined; // the function is gone: the failed event is still recorded
  }
}

interface EventRun {
  message: AsyncEventMessage;
  row: AsyncEventRow;
  scope: TenantScope;
  policy: RetryPolicy;
  onSuccess: string | undefined;
  onFailure: string | undefined;
  bc: BatchContext;
}

async function processEvent(message: AsyncEventMessage, bc: BatchContext): Promise<void> {
  const { env, db } = bc;
  const row = await db.query.asyncEvents.findFirst({ where: eq(asyncEvents.requestId, message.requestId) });
  if (!row) {
    // enqueueEvent writes the row before sending; no row means the event was never accepted (its send was undone).
    console.warn(`poller: no async_events row for ${message.requestId}; dropping the message`);
    return;
  }
  if (row.tenantId !== message.tenantId || row.functionName !== message.functionName) {
    console.error(`poller: message ${message.requestId} does not match its async_events row; dropping the message`);
    return;
  }
  if (row.status !== "queued") return; // settled already: a redelivery

  const scope = await tenantScopeById(env, message.tenantId);
  if (!scope) {
    console.warn(`poller: tenant ${message.tenantId} no longer exists; dropping event ${message.requestId}`);
    return;
  }
  const config = await effectiveEventConfig(scope, message.functionName, message.qualifier);
  const run: EventRun = {
    message,
    row,
    scope,
    policy: {
      maximumRetryAttempts: config.maximumRetryAttempts,
      maximumEventAgeInSeconds: config.maximumEventAgeInSeconds,
      retryUnitSeconds: retryUnitSeconds(env),
    },
    onSuccess: config.onSuccess,
    onFailure: config.onFailure ?? (await deadLetterTarget(scope, message)),
    bc,
  };
  const state: EventState = { acceptedAt: message.acceptedAt, retriesSpent: message.retriesSpent, backoffs: message.backoffs };

  if (bc.source.role === "dlq") {
    // The queue gave up on this message after max_retries: the poller could not settle it.
    const payload = await loadPayload(env, message);
    await settleFailed(run, "PlatformError", payload, undefined);
    return;
  }

  if (isExpired(state, run.policy, Date.now())) {
    await settleFailed(run, "EventAgeExceeded", await loadPayload(env, message), undefined);
    return;
  }

  // Old backlog on a shard queue yields to fresh events: it moves to the cell's low-priority queue.
  if (bc.source.role === "shard" && bc.source.cell !== undefined) {
    const after = await lowPriorityAfterSeconds(env, bc.source.cell);
    if (after !== null && Date.now() - message.acceptedAt > after * 1000) {
      const lowpri = roleQueueName(bc.source.cell, "lowpri");
      await resend(env, message, lowpri, 0);
      bc.report.add(lowpri);
      return;
    }
  }

  const payload = await loadPayload(env, message);
  if (payload === null) {
    console.error(`poller: payload of ${message.requestId} is missing from R2 (${message.payloadKey})`);
    await settleFailed(run, "PlatformError", null, undefined);
    return;
  }

  const attempt = await attemptInvoke(run, payload);
  const ran = attempt.outcome !== undefined;
  const decision = decide(attempt.result, state, run.policy, Date.now());
  const response = attempt.outcome && responseOf(attempt.outcome);
  switch (decision.action) {
    case "succeed":
      await settleSucceeded(run, payload, response);
      return;
    case "fail":
      // An event discarded for its age reports no response, as Lambda's EventAgeExceeded records do.
      await settleFailed(run, decision.condition, payload, decision.condition === "EventAgeExceeded" ? undefined : response, ran);
      return;
    case "retry":
    case "backoff": {
      if (ran) await countRun(db, message.requestId);
      const next: AsyncEventMessage =
        decision.action === "retry" ? { ...message, retriesSpent: decision.retriesSpent } : { ...message, backoffs: decision.backoffs };
      const target = await resendQueue(run, decision.delaySeconds);
      await resend(env, next, target, decision.delaySeconds);
      bc.report.add(target);
      return;
    }
  }
}

interface Attempt {
  result: AttemptResult;
  /** Present when the handler ran (success or function error). */
  outcome?: InvokeOutcome;
}

/** Runs the event through the synchronous invoke path and classifies how it went. */
async function attemptInvoke(run: EventRun, payload: string): Promise<Attempt> {
  const { message, scope, bc } = run;
  const ref = message.qualifier === undefined ? { name: message.functionName } : { name: message.functionName, qualifier: message.qualifier };
  try {
    const target = await prepareInvoke(scope, ref, message.isolationTenantId);
    if (target.fn.reservedConcurrency === 0) return { result: { kind: "zeroConcurrency" } };
    const outcome = await invokeSync(scope, target, {
      requestId: message.requestId,
      payload,
      tenantId: message.isolationTenantId,
      clientContext: undefined,
      waitUntil: (p) => bc.ctx.waitUntil(p),
      lineageDepth: message.lineageDepth,
    });
    return { result: outcome.functionError ? { kind: "functionError" } : { kind: "success" }, outcome };
  } catch (err) {
    if (err instanceof LambdaError) {
      if (err.status === 429) return { result: { kind: "throttled" } };
      if (err.status === 404) return { result: { kind: "rejected", condition: "FunctionNotFound" } };
      if (err.status >= 400 && err.status < 500) {
        console.warn(`poller: ${message.requestId} refused: ${err.type}: ${err.message}`);
        return { result: { kind: "rejected", condition: "InvocationRejected" } };
      }
    }
    console.error(`poller: ${message.requestId} platform error`, err);
    return { result: { kind: "platformError" } };
  }
}

function responseOf(outcome: InvokeOutcome): RecordResponse {
  return { statusCode: 200, executedVersion: outcome.executedVersion, functionError: outcome.functionError, payload: outcome.payload };
}

function recordOf(run: EventRun, condition: string, payload: string | null, invokeCount: number, response: RecordResponse | undefined): InvocationRecord {
  const record = invocationRecord({
    timestamp: Date.now(),
    requestId: run.message.requestId,
    names: run.scope.names,
    functionName: run.message.functionName,
    qualifier: run.message.qualifier,
    condition,
    approximateInvokeCount: invokeCount,
    requestPayload: payload ?? "",
    isolationTenantId: run.message.isolationTenantId,
    response,
  });
  if (payload === null) delete record.requestPayload;
  return record;
}

function deliverySource(run: EventRun): DeliverySource {
  const { message, bc } = run;
  return {
    tenantId: message.tenantId,
    functionName: message.functionName,
    requestId: message.requestId,
    isolationTenantId: message.isolationTenantId,
    lineageDepth: message.lineageDepth,
    // Destination messages go on a queue this poller reads; never onto the dead-letter queue.
    queue: bc.source.role === "dlq" || bc.source.role === undefined ? message.queue : bc.source.name,
  };
}

async function dispatch(run: EventRun, raw: string, record: InvocationRecord): Promise<void> {
  const result = await dispatchDestination(run.scope, raw, record, deliverySource(run));
  if (result.kind === "sent") run.bc.report.add(result.sentTo);
}

/**
 * Success: OnSuccess destination first, then the row. (If the row write fails
 * the message is retried and may run again — at least once — but a success
 * record is never silently lost.)
 */
async function settleSucceeded(run: EventRun, payload: string, response: RecordResponse | undefined): Promise<void> {
  const invokeCount = run.row.invokeCount + 1;
  if (run.onSuccess) await dispatch(run, run.onSuccess, recordOf(run, "Success", payload, invokeCount, response));
  const now = Date.now();
  await run.bc.db
    .update(asyncEvents)
    .set({ status: "succeeded", invokeCount: sql`${asyncEvents.invokeCount} + 1`, updatedAt: now })
    .where(and(eq(asyncEvents.requestId, run.message.requestId), eq(asyncEvents.status, "queued")));
  await deletePayload(run.bc.env, run.message);
}

/**
 * Failure: OnFailure destination, then one D1 batch (a transaction) with the
 * failed event and the row's status. The record keeps the request payload,
 * which is what redrive sends again.
 */
async function settleFailed(
  run: EventRun,
  condition: FailedEventCondition,
  payload: string | null,
  response: RecordResponse | undefined,
  ran = false,
): Promise<void> {
  const invokeCount = run.row.invokeCount + (ran ? 1 : 0);
  const record = recordOf(run, condition, payload, invokeCount, response);
  if (run.onFailure) await dispatch(run, run.onFailure, record);
  const now = Date.now();
  const store = new FailedEventStore(run.bc.db, run.message.tenantId);
  await run.bc.db.batch([
    store.insertStatement({
      id: crypto.randomUUID(),
      functionName: run.message.functionName,
      requestId: run.message.requestId,
      condition,
      record: fitRecord(record, STORED_RECORD_MAX_BYTES),
      createdAt: now,
    }),
    run.bc.db
      .update(asyncEvents)
      .set({ status: "failed", invokeCount, updatedAt: now })
      .where(eq(asyncEvents.requestId, run.message.requestId)),
  ]);
  await deletePayload(run.bc.env, run.message);
}

/** One more handler run of an event that is not settled yet. */
async function countRun(db: Database, requestId: string): Promise<void> {
  await db
    .update(asyncEvents)
    .set({ invokeCount: sql`${asyncEvents.invokeCount} + 1`, updatedAt: Date.now() })
    .where(eq(asyncEvents.requestId, requestId));
}

/**
 * Where a retry goes: back to the queue it came from, except that a retry
 * from a shard queue that will be older than the low-priority age when it
 * runs goes straight to the low-priority queue (it would be moved there on
 * arrival anyway).
 */
async function resendQueue(run: EventRun, delaySeconds: number): Promise<string> {
  const { source, env } = run.bc;
  if (source.role === undefined || source.cell === undefined || source.role === "dlq") return run.message.queue;
  if (source.role === "shard") {
    const after = await lowPriorityAfterSeconds(env, source.cell);
    if (after !== null && Date.now() + delaySeconds * 1000 - run.message.acceptedAt > after * 1000) {
      return roleQueueName(source.cell, "lowpri");
    }
  }
  return source.name;
}

/** The event's payload: inline, or from R2; null when the R2 object is gone. */
async function loadPayload(env: Env, message: AsyncEventMessage): Promise<string | null> {
  if (message.payload !== undefined) return message.payload;
  if (message.payloadKey === undefined) return "";
  const object = await env.CODE.get(message.payloadKey);
  return object ? object.text() : null;
}

async function deletePayload(env: Env, message: AsyncEventMessage): Promise<void> {
  if (message.payloadKey === undefined) return;
  try {
    await env.CODE.delete(message.payloadKey);
  } catch (err) {
    // The event is settled; a leftover payload object is only storage.
    console.error(`poller: could not delete ${message.payloadKey}`, err);
  }
}

// ---------------------------------------------------------------- destinations

async function processDestination(message: DestinationDelivery, bc: BatchContext): Promise<void> {
  const outcome = await deliverToUrl(bc.env, message);
  switch (outcome.kind) {
    case "delivered":
      return;
    case "failed":
      await recordDeliveryFailure(bc.env, message, message.record, `${message.url}: ${outcome.reason}`);
      return;
    case "retry": {
      const queue = bc.source.role === undefined ? message.queue : bc.source.name;
      await queueBinding(bc.env, queue).send(
        { ...message, attempt: message.attempt + 1, queue },
        { contentType: "json", delaySeconds: outcome.delaySeconds },
      );
      bc.report.add(queue);
      return;
    }
  }
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
  const row = await bc.db.query.asyncEvents.findFirst({ where: eq(asyncEvents.requestId, requestId) });
  if (row && (row.tenantId !== tenantId || row.status !== "queued")) return;
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
    await bc.db.batch([insert, bc.db.update(asyncEvents).set({ status: "failed", updatedAt: now }).where(eq(asyncEvents.requestId, requestId))]);
  } else {
    await insert;
  }
}

// ---------------------------------------------------------------- settings

/** ASYNC_RETRY_UNIT_SECONDS (Lambda's "about a minute" between function-error retries). */
export function retryUnitSeconds(env: Env): number {
  const value = Number(env.ASYNC_RETRY_UNIT_SECONDS);
  return Number.isFinite(value) && value >= 0 ? value : 60;
}

function queueManager(env: Env, cell: number) {
  return env.QUEUE_MANAGER.get(env.QUEUE_MANAGER.idFromName(`cell-${cell}`));
}

const lowPriorityCache = new Map<number, { value: number | null; expiresAt: number }>();

/** The cell's low-priority age (null: never move), cached per isolate for LOW_PRIORITY_CACHE_MS. */
async function lowPriorityAfterSeconds(env: Env, cell: number): Promise<number | null> {
  const now = Date.now();
  const hit = lowPriorityCache.get(cell);
  if (hit && hit.expiresAt > now) return hit.value;
  let value: number | null;
  try {
    value = (await queueManager(env, cell).status()).lowPriorityAfterSeconds;
  } catch (err) {
    console.error(`poller: cell ${cell} status unavailable; not moving backlog this time`, err);
    value = null;
  }
  lowPriorityCache.set(cell, { value, expiresAt: now + LOW_PRIORITY_CACHE_MS });
  return value;
}

/** Forgets cached cell settings (tests change them). */
export function forgetLowPriorityCache(): void {
  lowPriorityCache.clear();
}
