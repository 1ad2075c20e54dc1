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
 */
import { AsyncEventStore } from "../data/async-event-store";
import { database } from "../db/client";
import { asyncEventSchema } from "./messages";
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
        message = asyncEventSchema.parse(JSON.parse(row.message));
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
  if (sent > 0) console.warn(`volatile queues: sent ${sent} queued async event(s) again that a restart of the local queue broker lost`);
  return sent;
}
