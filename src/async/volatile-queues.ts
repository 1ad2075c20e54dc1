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
 * http(s) destination deliveries no longer travel on the queues (their
 * tenant's outbox keeps them in its own storage, src/async/url-outbox.ts).
 * A delivery message kept on a row before that change is still sent again
 * once, and the poller hands it to the outbox and settles its row; it skips
 * a copy whose row has already settled or moved on to a newer attempt.
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
      if (message.queue === undefined) {
        console.error(`volatile queues: kept message of ${row.requestId} names no queue; not sent again`);
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
