import { AsyncEventStore } from "../data/async-event-store";
import { database } from "../db/client";
import { QueueManager } from "./queue-manager";
import type { FunctionRef } from "../lambda/function-name";
import { shuffleShard } from "../placement/shuffle-shard";
import type { TenantScope } from "../services/scope";
import type { AsyncEventMessage } from "./messages";
import { fitsInline } from "./messages";
import { asyncLayout, queueBinding, roleQueueName, shardQueueName } from "./queues";
import { queuesAreVolatile } from "./volatile-queues";
import type { LineageCounts } from "../runtime/lineage";

/** Lambda's async payload limit. */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1_048_576;

export interface EnqueueOptions {
  requestId: string;
  /** X-Amz-Tenant-Id for PER_TENANT functions. */
  isolationTenantId?: string | undefined;
  /** The chain of invocations that caused the event (src/invoke/recursion.ts). */
  lineage: LineageCounts;
}

/** The R2 key of an event payload too large to ride in its queue message. */
export const payloadKey = (requestId: string) => `async-payloads/${requestId}`;

/**
 * Accepts one async event: records it (the poller's idempotency row), stores
 * a large payload in R2, routes it (the tenant's cell, the function's shuffle
 * shard, best-of-two by depth, or the sideline queue) and sends it. Callers
 * have already checked the function, qualifier and tenancy header; after
 * this returns the event is executed or lands in failed events, never lost.
 */
export async function enqueueEvent(scope: TenantScope, ref: FunctionRef, payload: string, opts: EnqueueOptions): Promise<{ queue: string }> {
  const env = scope.env;
  const tenantId = scope.principal.tenantId;
  const now = Date.now();
  const layout = asyncLayout(env);
  const cell = scope.principal.cell % layout.cells;
  const shard = shuffleShard(`${tenantId}/${ref.name}`, layout.queuesPerCell, layout.shardSize).map((i) => shardQueueName(cell, i));
  const manager = QueueManager.ofCell(env, cell);
  const inline = fitsInline(payload);
  const events = new AsyncEventStore(database(env.DB), tenantId);
  // Routing, the idempotency row and a large payload do not depend on each
  // other: do them at once to keep the 202 fast.
  const [routed, recorded, stored] = await Promise.allSettled([
    manager.route({ tenantId, candidates: shard, sidelineQueue: roleQueueName(cell, "sideline") }),
    events.accept({ requestId: opts.requestId, functionName: ref.name, qualifier: ref.qualifier ?? null, acceptedAt: now }),
    inline ? Promise.resolve() : env.CODE.put(payloadKey(opts.requestId), payload),
  ]);
  if (routed.status === "rejected" || recorded.status === "rejected" || stored.status === "rejected") {
    // Not accepted: undo whichever parts did happen, then answer with the error.
    const failure = [routed, recorded, stored].find((r) => r.status === "rejected");
    await undo([
      routed.status === "fulfilled" && (() => manager.settled({ [routed.value.queue]: 1 })),
      recorded.status === "fulfilled" && (() => events.forget(opts.requestId)),
      !inline && (() => env.CODE.delete(payloadKey(opts.requestId))),
    ]);
    throw failure?.status === "rejected" ? failure.reason : new Error("enqueue failed");
  }
  const { queue } = routed.value;
  const message: AsyncEventMessage = {
    kind: "event",
    requestId: opts.requestId,
    tenantId,
    functionName: ref.name,
    ...(ref.qualifier === undefined ? {} : { qualifier: ref.qualifier }),
    ...(inline ? { payload } : { payloadKey: payloadKey(opts.requestId) }),
    ...(opts.isolationTenantId === undefined ? {} : { isolationTenantId: opts.isolationTenantId }),
    acceptedAt: now,
    retriesSpent: 0,
    backoffs: 0,
    attempt: 0,
    lineage: opts.lineage,
    queue,
  };
  try {
    // Local development: keep the message, so a restart of the in-memory queue broker cannot lose it.
    if (queuesAreVolatile(env)) await events.remember(opts.requestId, JSON.stringify(message));
    await queueBinding(env, queue).send(message, { contentType: "json" });
  } catch (err) {
    // Not accepted after all (the caller answers with an error, not 202): undo so nothing claims it.
    await undo([
      () => events.forget(opts.requestId),
      !inline && (() => env.CODE.delete(payloadKey(opts.requestId))),
      () => manager.settled({ [queue]: 1 }),
    ]);
    throw err;
  }
  return { queue };
}

/** Runs every clean-up step even when one fails (the caller rethrows the error that made them needed). */
async function undo(steps: Array<false | (() => Promise<unknown>)>): Promise<void> {
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (err) {
      console.error("enqueue: clean-up after a refused event failed", err);
    }
  }
}

/** Sends an event again (a retry, a backoff, a move to low priority), keeping its identity. */
export async function resend(env: Env, message: AsyncEventMessage, queue: string, delaySeconds: number): Promise<void> {
  await queueBinding(env, queue).send({ ...message, queue }, { contentType: "json", delaySeconds: Math.min(Math.max(0, Math.round(delaySeconds)), 43_200) });
}
