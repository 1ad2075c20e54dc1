/**
 * Local development keeps Cloudflare Queues in memory: wrangler dev's queue
 * broker (miniflare's broker.worker) holds messages in a JavaScript array, so
 * stopping or killing `wrangler dev` loses every async event still in a queue
 * — accepted with 202 and then never run, with no failure record (found by
 * `npm run chaos`). Deployed Queues are durable and need none of this.
 *
 * With ASYNC_QUEUES_VOLATILE=true (.dev.vars, the test harness; "false" in
 * wrangler.toml) the newest queue message of each queued event is kept on
 * its async_events row, and the first request or queue batch an isolate
 * sees sends again every event still queued that was last sent before that
 * moment: its message cannot be in this process's broker. A copy that does
 * still exist (an isolate restarted inside a live process) is harmless: the
 * poller runs an event only while its row is queued (at least once, as
 * Lambda's async invokes are).
 *
 * http(s) destination deliveries (src/async/deliver.ts) get the same
 * guarantee through the same rows: each delivery has an async_events row of
 * its own (id `deliveryId`, derived from its source event and condition)
 * holding its newest message, settled when the POST succeeds or the record
 * is kept as a failed event. The poller skips a copy whose row has already
 * settled or moved on to a newer attempt.
 */
import { AsyncEventStore } from "../data/async-event-store";
import { database } from "../db/client";
import type { DestinationDelivery } from "./messages";
import { queueMessageSchema } from "./messages";
import { queueBinding } from "./queues";

const PAGE = 100;

export function queuesAreVolatile(env: Env): boolean {
  return env.ASYNC_QUEUES_VOLATILE === "true";
}

let recovery: Promise<void> | undefined;

/** Starts, once per isolate, the re-send of events a restart lost; the caller's request carries on meanwhile. */
export function recoverLostQueueMessages(env: Env, ctx: ExecutionContext): void {
  if (recovery || !queuesAreVolatile(env)) return;
  recovery = resendQueuedBefore(env, Date.now()).then(() => undefined, (err: unknown) => {
    console.error("volatile queues: re-sending events a restart lost failed; the next request tries again", err);
    recovery = undefined;
  });
  ctx.waitUntil(recovery);
}

/** Sends again every queued event last sent before `before` whose message was kept (exported for its regression test). */
export async function resendQueuedBefore(env: Env, before: number): Promise<number> {
  const db = database(env.DB);
  let after = "";
  let sent = 0;
  for (;;) {
    const page = await AsyncEventStore.queuedBefore(db, before, after, PAGE);
    for (const row of page) {
      let message;
      try {
        message = queueMessageSchema.parse(JSON.parse(row.message));
      } catch (err) {
        console.error(`volatile queues: kept message of ${row.requestId} does not parse; not sent again`, err);
        continue;
      }
      await queueBinding(env, message.queue).send(message, { contentType: "json" });
      sent += 1;
    }
    const last = page.at(-1);
    if (page.length < PAGE || !last) break;
    after = last.requestId;
  }
  if (sent > 0) console.warn(`volatile queues: sent ${sent} queued async event(s) or destination deliveries again that a restart of the local queue broker lost`);
  return sent;
}

/** Keeps an http(s) destination delivery's first message on its own row before it is sent; answers the message to send. */
export async function keepDelivery(env: Env, message: DestinationDelivery, deliveryId: string): Promise<DestinationDelivery> {
  if (!queuesAreVolatile(env)) return message;
  const kept: DestinationDelivery = { ...message, deliveryId };
  await new AsyncEventStore(database(env.DB), message.tenantId).keepDelivery({ requestId: deliveryId, functionName: message.functionName, message: JSON.stringify(kept), now: Date.now() });
  return kept;
}

/** Whether a kept delivery's message is a stale copy: its row has settled, or a newer attempt was sent. */
export async function isStaleDelivery(env: Env, message: DestinationDelivery): Promise<boolean> {
  if (message.deliveryId === undefined) return false;
  const row = await new AsyncEventStore(database(env.DB), message.tenantId).get(message.deliveryId);
  return row !== undefined && (row.status !== "queued" || message.attempt < row.attempt);
}

/** A kept delivery ended: delivered, or its record kept as a failed event. */
export async function settleDelivery(env: Env, message: DestinationDelivery, outcome: "succeeded" | "failed"): Promise<void> {
  if (message.deliveryId === undefined) return;
  const store = new AsyncEventStore(database(env.DB), message.tenantId);
  if (outcome === "succeeded") await store.succeed(message.deliveryId, Date.now());
  else await store.failStatement(message.deliveryId, Date.now());
}

/** A kept delivery's next attempt was sent: it becomes the message kept (older copies are stale). */
export async function advanceDelivery(env: Env, next: DestinationDelivery): Promise<void> {
  if (next.deliveryId === undefined) return;
  await new AsyncEventStore(database(env.DB), next.tenantId).advance(next.deliveryId, next.attempt, false, Date.now(), JSON.stringify(next));
}
