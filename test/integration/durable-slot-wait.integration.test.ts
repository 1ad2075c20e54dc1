import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { admin, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

/**
 * A durable execution refused for concurrency by its tenant's pool queues for
 * a slot (src/invoke/tenant-quota.ts, src/invoke/slot-waiters.ts) and runs
 * when one is given back, not at its fallback retry: with the tenant's limit
 * at 1, a plain function holds the slot while the execution is refused; the
 * test then moves the execution's fallback retry (and its alarm) an hour
 * away, so only the wake can run it before the test's deadline.
 */

type Json = Record<string, any>;
const HOG = `exports.handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return "done"; };`;
const DONE = `exports.handler = async () => ({ Status: "SUCCEEDED", Result: JSON.stringify("resumed") });`;
const HOUR_MS = 3_600_000;

const until = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, tries = 300): Promise<T> => {
  for (let i = 0; i < tries; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const storedRow = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_i, state) => JSON.parse(state.storage.sql.exec<{ json: string }>("SELECT json FROM execution").one().json) as Json);

describe("a throttled durable invocation waits for a free slot", () => {
  let a: TenantKey;

  beforeAll(async () => {
    a = await newTenant("full", "slot-wait");
    expect((await admin("PATCH", `/tenants/${a.tenantId}`, { concurrencyLimit: 1 })).status).toBe(200);
    await createActive(a, createFunctionBody("hog", { "index.js": HOG }, { Publish: true, Timeout: 60 }));
    await createActive(a, createFunctionBody("flow", { "index.js": DONE }, { DurableConfig: { ExecutionTimeout: 600, RetentionPeriodInDays: 1 }, Publish: true, Timeout: 60 }));
  });

  it("runs when the slot is given back, keeping its place when refused again", async () => {
    const quota = env.TENANT_QUOTA.getByName(a.tenantId);
    const hog = signed(a, "POST", `${fn("hog")}/invocations`, { ms: 10_000 });
    await until("the hog to hold the tenant's one slot", () => quota.inFlight(), (n) => n === 1);

    const started = await signed(a, "POST", `${fn("flow")}/invocations?Qualifier=1`, "{}", { "X-Amz-Invocation-Type": "Event", "X-Amz-Durable-Execution-Name": "queued" });
    expect(started.status).toBe(202);
    const arn = started.headers.get("X-Amz-Durable-Execution-Arn") ?? "";
    const stub = env.DURABLE_EXECUTION.getByName(`${a.tenantId}/flow/queued`);
    const refused = await until("the execution's invocation to be refused", () => storedRow(stub), (row) => typeof row.slotWaitSince === "number");
    expect(refused.throttles).toBeGreaterThanOrEqual(1);
    expect(refused.inflight).toBeNull();
    // Its fallback retry comes later than the old 1–2 s backoff: the wake, not the timer, is meant to run it.
    expect(refused.invokeAt - Date.now()).toBeGreaterThan(2_000);

    // Only the wake may run it now: its fallback retry and alarm an hour away.
    await runInDurableObject(stub, async (_i, state) => {
      const row = JSON.parse(state.storage.sql.exec<{ json: string }>("SELECT json FROM execution").one().json) as Json;
      row.invokeAt = Date.now() + HOUR_MS;
      state.storage.sql.exec("UPDATE execution SET json = ? WHERE k = 1", JSON.stringify(row));
      await state.storage.setAlarm(Date.now() + HOUR_MS);
    });
    // Queued again with a later due time: no effect on its place (the quota answers that it waits).
    expect(await quota.waitForSlot(`${a.tenantId}/flow/queued`, refused.slotWaitSince + 60_000)).toBe(true);

    expect((await hog).status).toBe(200);
    const described = await until(
      "the execution to run once the slot was given back",
      async () => (await signed(a, "GET", `/2025-12-01/durable-executions/${encodeURIComponent(arn)}`)).json<Json>(),
      (d) => d.Status !== "RUNNING",
      450,
    );
    expect(described).toMatchObject({ Status: "SUCCEEDED", Result: JSON.stringify("resumed") });
    const row = await storedRow(stub);
    expect(row.slotWaitSince).toBeUndefined();
  }, 120_000);

  it("a woken execution that no longer waits declines the slot", async () => {
    // Nothing waits under this name: the object has no execution and says no, so the quota tries the next waiter.
    expect(await env.DURABLE_EXECUTION.getByName(`${a.tenantId}/flow/never-started`).slotFreed()).toBe(false);
  });
});
