/**
 * Regression test for async events lost by a restart of `wrangler dev`
 * (found by `npm run chaos`): the local queue broker keeps messages in
 * memory, so an event accepted with 202 whose message was still queued
 * never ran and left no record. With ASYNC_QUEUES_VOLATILE the kept message
 * of each queued event is sent again once after boot
 * (src/async/volatile-queues.ts); here a lost message is an async_events
 * row with its kept message and no queue message at all.
 *
 * http(s) destination deliveries no longer travel on the queues: their
 * tenant's outbox keeps them (test/integration/url-outbox.integration.test.ts,
 * which also covers a delivery kept on a row before that change).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AsyncEventStore } from "../../src/data/async-event-store";
import { database } from "../../src/db/client";
import type { AsyncEventMessage } from "../../src/async/messages";
import { resendQueuedBefore } from "../../src/async/volatile-queues";
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
