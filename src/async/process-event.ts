/**
 * One accepted event in the poller: idempotency check, age, the attempt
 * through the sync invoke path, and its settlement (success, retry, back
 * off, or failure with a record), as src/async/outcome.ts decides.
 */
import { FailedEventStore } from "../data/failed-event-store";
import type { AsyncEventRow } from "../data/async-event-store";
import { AsyncEventStore } from "../data/async-event-store";
import { LambdaError } from "../errors";
import { isQueueArn } from "../lambda/destination-config";
import { effectiveEventConfig } from "../services/event-invoke-config";
import type { InvokeOutcome } from "../invoke/run";
import { BacklogDeferred } from "../invoke/lease";
import type { AsyncLane } from "../invoke/partition-rules";
import { invokeSync } from "../invoke/run";
import { prepareInvoke } from "../invoke/target";
import { resolveVersion } from "../services/resolve";
import type { TenantScope } from "../services/scope";
import { tenantScopeById } from "../services/scope";
import type { BatchContext } from "./batch-context";
import { lowPriorityAfterSeconds, retryUnitSeconds } from "./batch-context";
import type { DeliverySource } from "./deliver";
import { dispatchDestination, sendToDeadLetterQueue, STORED_RECORD_MAX_BYTES } from "./deliver";
import { resend } from "./enqueue";
import { queuesAreVolatile } from "./volatile-queues";
import type { AsyncEventMessage } from "./messages";
import type { AttemptResult, EventState, FailedEventCondition, RetryPolicy } from "./outcome";
import { decide, isExpired } from "./outcome";
import { roleQueueName } from "./queues";
import { backlogMode, backlogStep, recheckDelaySeconds } from "./backlog";
import type { InvocationRecord, RecordResponse } from "./record";
import { fitRecord, invocationRecord } from "./record";
import { recordAsyncEvent, recordAsyncEventAge } from "../metrics/record-events";


/**
 * The function's dead-letter target (DeadLetterConfig.TargetArn). Lambda
 * sends a discarded event both to the OnFailure destination (the record) and
 * to an SQS dead-letter queue (the event). cellfn's other dead-letter targets
 * (a function ARN or an http(s) URL, sent the record like a destination)
 * stand in for OnFailure only when none is configured.
 */
async function deadLetterTarget(scope: TenantScope, message: AsyncEventMessage): Promise<string | undefined> {
  try {
    const ref = message.qualifier === undefined ? { name: message.functionName } : { name: message.functionName, qualifier: message.qualifier };
    const { row } = await resolveVersion(scope, ref);
    return row.config.DeadLetterConfig?.TargetArn || undefined;
  } catch (err) {
    // The function is gone: the failed event is still recorded. Anything else
    // (D1 unavailable) is retried with the message rather than skipping the target.
    if (err instanceof LambdaError && err.status === 404) return undefined;
    throw err;
  }
}

interface EventRun {
  message: AsyncEventMessage;
  row: AsyncEventRow;
  scope: TenantScope;
  policy: RetryPolicy;
  onSuccess: string | undefined;
  onFailure: string | undefined;
  /** The function's DeadLetterConfig.TargetArn (looked up only when an event fails). */
  deadLetter: () => Promise<string | undefined>;
  bc: BatchContext;
}

export async function processEvent(message: AsyncEventMessage, bc: BatchContext): Promise<void> {
  const { env, db } = bc;
  const row = await new AsyncEventStore(db, message.tenantId).get(message.requestId);
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
  // An older copy the queue redelivered (its run had already sent the next message): the newer one carries on.
  if (message.attempt < row.attempt) return;

  const scope = await tenantScopeById(env, message.tenantId);
  if (!scope) {
    console.warn(`poller: tenant ${message.tenantId} no longer exists; dropping event ${message.requestId}`);
    await deletePayload(env, message);
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
    onFailure: config.onFailure,
    deadLetter: () => deadLetterTarget(scope, message),
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

  // Backlog mode (src/async/backlog.ts): old events on a shard or sideline queue
  // move to the low-priority queue, where they run only on idle concurrency (a backlog lease).
  const mode = backlogMode(env.ASYNC_BACKLOG_MODE);
  const step = backlogStep({ mode, role: bc.source.role, dueAt: message.dueAt ?? message.acceptedAt, now: Date.now() });
  if (step.action === "demote" && bc.source.cell !== undefined) {
    await advance(run, message, roleQueueName(bc.source.cell, "lowpri"), 0, false);
    return;
  }
  // Mode off: old backlog on a shard queue moves to the low-priority queue after the cell's low-priority age.
  if (mode === "off" && bc.source.role === "shard" && bc.source.cell !== undefined) {
    const after = await lowPriorityAfterSeconds(env, bc.source.cell);
    if (after !== null && Date.now() - message.acceptedAt > after * 1000) {
      await advance(run, message, roleQueueName(bc.source.cell, "lowpri"), 0, false);
      return;
    }
  }

  const payload = await loadPayload(env, message);
  if (payload === null) {
    console.error(`poller: payload of ${message.requestId} is missing from R2 (${message.payloadKey})`);
    await settleFailed(run, "PlatformError", null, undefined);
    return;
  }

  recordAsyncEventAge(env, metricsOf(message), Date.now() - message.acceptedAt, (p) => bc.ctx.waitUntil(p));
  const backlogLane = step.action === "runOnIdle" && bc.source.cell !== undefined;
  const attempt = await attemptInvoke(run, payload, mode === "off" ? undefined : backlogLane ? "old" : "new");
  if (attempt.result.kind === "noSlot") {
    // New events may need the function's idle slots: wait on the low-priority queue and try again (until its age runs out).
    const delaySeconds = recheckDelaySeconds(message.backoffs);
    if (isExpired(state, run.policy, Date.now() + delaySeconds * 1000)) {
      await settleFailed(run, "EventAgeExceeded", payload, undefined);
      return;
    }
    await advance(run, { ...message, backoffs: message.backoffs + 1 }, bc.source.name, delaySeconds, false);
    return;
  }
  const ran = attempt.outcome !== undefined;
  const decided = decide(attempt.result, state, run.policy, Date.now());
  // In the backlog lane a throttle waits at most BACKLOG_RECHECK_MAX_S: the partition already paces the old events.
  const decision =
    backlogLane && decided.action === "backoff" ? { ...decided, delaySeconds: Math.min(decided.delaySeconds, recheckDelaySeconds(decided.backoffs)) } : decided;
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
      const next: AsyncEventMessage =
        decision.action === "retry" ? { ...message, retriesSpent: decision.retriesSpent } : { ...message, backoffs: decision.backoffs };
      await advance(run, next, await resendQueue(run, decision.delaySeconds), decision.delaySeconds, ran);
      return;
    }
  }
}

interface Attempt {
  /** `noSlot`: an old event found no concurrency new events leave idle (nothing ran). */
  result: AttemptResult | { kind: "noSlot" };
  /** Present when the handler ran (success or function error). */
  outcome?: InvokeOutcome;
}

/** Runs the event through the synchronous invoke path (in its backlog-mode lane, if any) and classifies how it went. */
async function attemptInvoke(run: EventRun, payload: string, asyncLane: AsyncLane | undefined): Promise<Attempt> {
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
      lineage: message.lineage,
      ...(asyncLane ? { asyncLane } : {}),
    });
    return { result: outcome.functionError ? { kind: "functionError" } : { kind: "success" }, outcome };
  } catch (err) {
    if (err instanceof BacklogDeferred) return { result: { kind: "noSlot" } };
    if (err instanceof LambdaError) {
      if (err.status === 429) return { result: { kind: "throttled" } };
      if (err.status === 404) return { result: { kind: "rejected", condition: "FunctionNotFound" } };
      if (err.type === "RecursiveInvocationException") return { result: { kind: "rejected", condition: "RecursiveInvocationException" } };
      // Not ready yet (Pending) or its create failed: retried with backoff, as a platform error.
      if (err.status === 409) return { result: { kind: "platformError" } };
      if (err.status >= 400 && err.status < 500) {
        console.warn(`poller: ${message.requestId} refused: ${err.type}: ${err.message}`);
        return { result: { kind: "rejected", condition: "InvocationRejected" } };
      }
    }
    console.error(`poller: ${message.requestId} platform error`, err);
    return { result: { kind: "platformError" } };
  }
}

function metricsOf(message: AsyncEventMessage) {
  return { tenantId: message.tenantId, functionName: message.functionName, qualifier: message.qualifier, executedVersion: message.qualifier ?? "$LATEST" };
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
  const { message } = run;
  return {
    tenantId: message.tenantId,
    functionName: message.functionName,
    requestId: message.requestId,
    isolationTenantId: message.isolationTenantId,
    lineage: message.lineage,
  };
}

async function dispatch(run: EventRun, raw: string, record: InvocationRecord): Promise<void> {
  await dispatchDestination(run.scope, raw, record, deliverySource(run));
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
  await new AsyncEventStore(run.bc.db, run.message.tenantId).succeed(run.message.requestId, now);
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
  recordAsyncEvent(run.bc.env, metricsOf(run.message), "AsyncEventsDropped", (p) => run.bc.ctx.waitUntil(p));
  const record = recordOf(run, condition, payload, invokeCount, response);
  // On the dead-letter queue (the last resort) the record is written first and
  // the destinations are best effort; elsewhere the destinations go first, so a
  // crash in between sends them again rather than never.
  const lastResort = run.bc.source.role === "dlq";
  const deadLetter = lastResort ? await run.deadLetter().catch(() => undefined) : await run.deadLetter();
  const deadLetterQueue = deadLetter !== undefined && isQueueArn(deadLetter) ? deadLetter : undefined;
  const onFailure = run.onFailure ?? (deadLetterQueue ? undefined : deadLetter);
  const sendOnward = async () => {
    if (onFailure) await dispatch(run, onFailure, record);
    if (deadLetterQueue) {
      const event = { requestId: run.message.requestId, condition, payload, response };
      await sendToDeadLetterQueue(run.bc.env, deliverySource(run), deadLetterQueue, event, record);
    }
  };
  if (!lastResort) await sendOnward();
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
    new AsyncEventStore(run.bc.db, run.message.tenantId).failStatement(run.message.requestId, now, invokeCount),
  ]);
  if (lastResort) {
    try {
      await sendOnward();
    } catch (err) {
      console.error(`poller: ${run.message.requestId} is recorded as a failed event; its OnFailure / dead-letter delivery failed`, err);
    }
  }
  await deletePayload(run.bc.env, run.message);
}

/**
 * Hands the event on to its next message (a retry, a backoff, a move to the
 * low-priority queue): sends message `attempt + 1`, then records it on the
 * row (with the handler run, if there was one), which makes this message a
 * stale copy should the queue deliver it again. In that order: a crash in
 * between leaves two live copies (at least once), never none.
 */
async function advance(run: EventRun, next: AsyncEventMessage, queue: string, delaySeconds: number, ran: boolean): Promise<void> {
  const { bc, message } = run;
  const sent: AsyncEventMessage = { ...next, attempt: message.attempt + 1, dueAt: Date.now() + delaySeconds * 1000 };
  await resend(bc.env, sent, queue, delaySeconds);
  bc.report.add(queue);
  const kept = queuesAreVolatile(bc.env) ? JSON.stringify({ ...sent, queue }) : undefined;
  await new AsyncEventStore(bc.db, message.tenantId).advance(message.requestId, sent.attempt, ran, Date.now(), kept);
}

/**
 * Where a retry goes: back to the queue it came from (backlog mode judges it
 * by its wait past its delay when it comes back, src/async/backlog.ts), except
 * that with the mode off a shard queue's event older than the low-priority age
 * goes straight to the low-priority queue (it would be moved there on arrival anyway).
 */
async function resendQueue(run: EventRun, delaySeconds: number): Promise<string> {
  const { source, env } = run.bc;
  if (source.role === undefined || source.cell === undefined || source.role === "dlq") return run.message.queue;
  if (backlogMode(env.ASYNC_BACKLOG_MODE) === "off" && source.role === "shard") {
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