import { describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { admin, createFunctionBody, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

const ECHO = { "index.js": "exports.handler = async (event) => event;" };

async function createEcho(key: TenantKey, name: string): Promise<void> {
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, ECHO));
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
}

const invoke = (key: TenantKey, name: string, type: "Event" | "RequestResponse" | "DryRun" = "RequestResponse") =>
  signed(key, "POST", `${fn(name)}/invocations`, "{}", { "X-Amz-Invocation-Type": type });

/**
 * `workers` closed loops of sync invokes for `ms` (never more in flight than
 * `workers`, so no concurrency throttle): the answers by status and Reason,
 * and the seconds it took.
 */
async function loop(key: TenantKey, name: string, workers: number, ms: number) {
  const started = Date.now();
  const answers: Array<{ status: number; reason?: string; retryAfter: string | null; type: string | null; message?: string }> = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() - started < ms) {
        const res = await invoke(key, name);
        const body = await res.json<{ Reason?: string; message?: string }>();
        answers.push({ status: res.status, reason: body.Reason, retryAfter: res.headers.get("Retry-After"), type: res.headers.get("x-amzn-ErrorType"), message: body.message });
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  return { ok: answers.filter((a) => a.status === 200).length, refused: answers.filter((a) => a.status !== 200), seconds };
}

async function throttlesCounted(reason: string): Promise<number> {
  const text = await (await admin("GET", "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(`cellfn_lambda_throttles_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("invocation request rate quota (10 sync invokes a second per unit of concurrency)", () => {
  it("refuses a function's sync invokes past 10 a second per unit of the tenant's pool, with Lambda's 429; Event invokes and other tenants are not counted", async () => {
    const key = await newTenant("full", "rate");
    const other = await newTenant("full", "rate-other");
    // Before the tenant's first authenticated request, so no isolate has its old limit cached.
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { concurrencyLimit: 4 })).status).toBe(200);
    await createEcho(key, "echo");
    await createEcho(other, "echo");
    const countedBefore = await throttlesCounted("FunctionInvocationRateLimitExceeded");

    // 40 a second with a burst of one second's worth; 2 loops ask far faster than that.
    const sent = await loop(key, "echo", 2, 1500);
    expect(sent.ok).toBeGreaterThanOrEqual(40);
    expect(sent.ok).toBeLessThanOrEqual(40 + Math.ceil(40 * sent.seconds) + 2);
    expect(sent.refused.length).toBeGreaterThan(0);
    for (const answer of sent.refused) {
      expect(answer).toEqual({ status: 429, type: "TooManyRequestsException", retryAfter: "1", reason: "FunctionInvocationRateLimitExceeded", message: "Rate Exceeded." });
    }
    expect(await throttlesCounted("FunctionInvocationRateLimitExceeded")).toBe(countedBefore + sent.refused.length);

    // Events and DryRuns are not counted (Lambda's asynchronous invocations have no request rate quota).
    const events = await Promise.all(Array.from({ length: 60 }, () => invoke(key, "echo", "Event")));
    expect(events.map((r) => r.status)).toEqual(Array(60).fill(202));
    expect((await invoke(key, "echo", "DryRun")).status).toBe(204);
    // Another tenant's function has its own bucket.
    const others = await loop(other, "echo", 2, 500);
    expect({ ok: others.ok > 0, refused: others.refused.length }).toEqual({ ok: true, refused: 0 });

    // It refills at the rate: a second later, sync invokes run again.
    await sleep(1100);
    const again = await invoke(key, "echo");
    expect(again.status, await again.clone().text()).toBe(200);
  });

  it("holds a function with reserved concurrency to 10 a second per reserved unit, apart from the tenant's other functions", async () => {
    const key = await newTenant("full", "rate-reserved");
    await createEcho(key, "reserved");
    await createEcho(key, "free");
    expect((await signed(key, "PUT", "/2017-10-31/functions/reserved/concurrency", { ReservedConcurrentExecutions: 1 })).status).toBe(200);
    // The function's metadata (its reservation) is cached for up to 2 s.
    await sleep(2500);

    const sent = await loop(key, "reserved", 1, 1500);
    expect(sent.ok).toBeGreaterThanOrEqual(10);
    expect(sent.ok).toBeLessThanOrEqual(10 + Math.ceil(10 * sent.seconds) + 2);
    expect(sent.refused.length).toBeGreaterThan(0);
    for (const answer of sent.refused) expect(answer).toMatchObject({ status: 429, reason: "ReservedFunctionInvocationRateLimitExceeded", message: "Rate Exceeded." });

    const free = await loop(key, "free", 1, 500);
    expect({ ok: free.ok > sent.ok / 3, refused: free.refused.length }).toEqual({ ok: true, refused: 0 });
  });

  it("leaves a function reserved to 0 to the concurrency check", async () => {
    const key = await newTenant("full", "rate-zero");
    await createEcho(key, "zero");
    expect((await signed(key, "PUT", "/2017-10-31/functions/zero/concurrency", { ReservedConcurrentExecutions: 0 })).status).toBe(200);
    await sleep(2500);
    const sync = await invoke(key, "zero");
    expect(sync.status).toBe(429);
    expect(await sync.json()).toMatchObject({ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    expect((await invoke(key, "zero", "Event")).status).toBe(202);
  });
});
