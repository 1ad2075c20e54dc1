import { describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { admin, createFunctionBody, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

const ECHO = { "index.js": "exports.handler = async (event) => event;" };

async function createEcho(key: TenantKey, name: string): Promise<void> {
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, ECHO));
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
}

const invoke = (key: TenantKey, name: string, type: "Event" | "RequestResponse" | "DryRun") =>
  signed(key, "POST", `${fn(name)}/invocations`, "{}", { "X-Amz-Invocation-Type": type });

/** Sends `n` invokes at once; the answers, and the seconds from the first send to the last answer. */
async function burst(key: TenantKey, name: string, n: number, type: "Event" | "RequestResponse" = "Event") {
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: n }, () => invoke(key, name, type)));
  const seconds = (Date.now() - started) / 1000;
  const refused = answers.filter((a) => a.status === 429);
  return { accepted: answers.filter((a) => a.status < 300).length, refused, other: answers.filter((a) => a.status >= 300 && a.status !== 429).map((a) => a.status), seconds };
}

async function throttlesCounted(reason: string): Promise<number> {
  const text = await (await admin("GET", "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(`cellfn_lambda_throttles_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("invocation request rate quota (10 × concurrency per second)", () => {
  it("refuses a tenant's invokes past 10 per second per unit of its concurrency limit, with Lambda's 429, and only that tenant's", async () => {
    const key = await newTenant("full", "rate");
    const other = await newTenant("full", "rate-other");
    // Before the tenant's first authenticated request, so no isolate has its old limit cached.
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { concurrencyLimit: 2 })).status).toBe(200);
    await createEcho(key, "echo");
    await createEcho(other, "echo");
    const countedBefore = await throttlesCounted("FunctionInvocationRateLimitExceeded");
    await sleep(1100); // the creates' checks took nothing, but start from a full bucket anyway

    // 20 a second, a burst of one second's worth: 40 at once leave at least 20 refused, less what refilled meanwhile.
    const sent = await burst(key, "echo", 40);
    expect(sent.other).toEqual([]);
    expect(sent.accepted).toBeGreaterThanOrEqual(20);
    expect(sent.accepted).toBeLessThanOrEqual(20 + Math.ceil(20 * sent.seconds) + 1);
    expect(sent.refused.length).toBe(40 - sent.accepted);
    for (const res of sent.refused) {
      expect(res.headers.get("x-amzn-ErrorType")).toBe("TooManyRequestsException");
      expect(res.headers.get("Retry-After")).toBe("1");
      expect(await res.json()).toEqual({ Reason: "FunctionInvocationRateLimitExceeded", Type: "User", message: "Rate Exceeded." });
    }
    expect(await throttlesCounted("FunctionInvocationRateLimitExceeded")).toBe(countedBefore + sent.refused.length);

    // A DryRun invokes nothing and is not counted; another tenant's bucket is its own.
    expect((await invoke(key, "echo", "DryRun")).status).toBe(204);
    const others = await burst(other, "echo", 40);
    expect({ accepted: others.accepted, refused: others.refused.length }).toEqual({ accepted: 40, refused: 0 });

    // It refills at the rate: after a second, a sync invoke runs again.
    await sleep(1100);
    const again = await invoke(key, "echo", "RequestResponse");
    expect(again.status, await again.clone().text()).toBe(200);
  });

  it("holds a function with reserved concurrency to 10 per second per reserved unit, apart from the tenant's other functions", async () => {
    const key = await newTenant("full", "rate-reserved");
    await createEcho(key, "reserved");
    await createEcho(key, "free");
    expect((await signed(key, "PUT", "/2017-10-31/functions/reserved/concurrency", { ReservedConcurrentExecutions: 1 })).status).toBe(200);
    // The function's metadata (its reservation) is cached for up to 2 s.
    await sleep(2500);

    const sent = await burst(key, "reserved", 25);
    expect(sent.other).toEqual([]);
    expect(sent.accepted).toBeGreaterThanOrEqual(10);
    expect(sent.accepted).toBeLessThanOrEqual(10 + Math.ceil(10 * sent.seconds) + 1);
    expect(sent.refused.length).toBeGreaterThan(0);
    for (const res of sent.refused) expect(await res.json()).toMatchObject({ Reason: "ReservedFunctionInvocationRateLimitExceeded", message: "Rate Exceeded." });

    const free = await burst(key, "free", 25);
    expect({ accepted: free.accepted, refused: free.refused.length }).toEqual({ accepted: 25, refused: 0 });
  });

  it("leaves a function reserved to 0 to the concurrency check: its events are still accepted", async () => {
    const key = await newTenant("full", "rate-zero");
    await createEcho(key, "zero");
    expect((await signed(key, "PUT", "/2017-10-31/functions/zero/concurrency", { ReservedConcurrentExecutions: 0 })).status).toBe(200);
    await sleep(2500);
    const sync = await invoke(key, "zero", "RequestResponse");
    expect(sync.status).toBe(429);
    expect(await sync.json()).toMatchObject({ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    expect((await invoke(key, "zero", "Event")).status).toBe(202);
  });
});
