import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { admin, createFunctionBody, errorOf, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

const HANDLERS: Record<string, Record<string, string>> = {
  echo: {
    "index.js": `
      let invocations = 0;
      exports.handler = async (event, context) => {
        invocations += 1;
        console.log("got", JSON.stringify(event));
        return { event, invocations, requestId: context.awsRequestId, version: context.functionVersion,
                 arn: context.invokedFunctionArn, stage: process.env.STAGE ?? null, tenantId: context.tenantId ?? null };
      };`,
  },
  fail: { "index.js": `exports.handler = async () => { throw new TypeError("bad input"); };` },
  isolated: {
    "index.js": `
      const environment = crypto.randomUUID();
      let calls = 0;
      exports.handler = async (event, context) => ({ environment, calls: ++calls, tenantId: context.tenantId });`,
  },
  sleepy: {
    "index.js": `
      const environment = crypto.randomUUID();
      exports.handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return { environment }; };`,
  },
  lateCrash: {
    "index.js": `
      const environment = crypto.randomUUID();
      let calls = 0;
      exports.handler = async (event) => {
        calls += 1;
        if (event.crashLater) Promise.reject(new Error("late failure after the handler returned"));
        return { environment, calls };
      };`,
  },
  slow: {
    "index.js": `
      let calls = 0;
      exports.handler = async (event) => { calls += 1; await new Promise((r) => setTimeout(r, event.ms ?? 10)); return { calls }; };`,
  },
};

async function createFn(key: TenantKey, name: string, handler: keyof typeof HANDLERS, extra: Record<string, unknown> = {}) {
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, HANDLERS[handler] ?? {}, extra));
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
}

function invoke(key: TenantKey, name: string, payload: unknown = {}, headers: Record<string, string> = {}, query = "") {
  return signedWithHeaders(key, `${fn(name)}/invocations${query}`, JSON.stringify(payload), headers);
}

async function signedWithHeaders(key: TenantKey, path: string, body: string, headers: Record<string, string>) {
  const { AwsClient } = await import("aws4fetch");
  const { exports } = await import("cloudflare:workers");
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  return exports.default.fetch(await client.sign(`http://cellfn.test${path}`, { method: "POST", headers, body }));
}

describe("synchronous invoke", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
    await createFn(key, "echo", "echo", { Environment: { Variables: { STAGE: "test" } } });
    await createFn(key, "fail", "fail");
  });

  it("runs the handler and returns its result with the executed version", async () => {
    const res = await invoke(key, "echo", { a: 1 });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Amz-Executed-Version")).toBe("$LATEST");
    expect(res.headers.get("X-Amz-Function-Error")).toBeNull();
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      event: { a: 1 },
      version: "$LATEST",
      stage: "test",
      arn: `arn:aws:lambda:us-east-1:${key.accountId}:function:echo`,
      tenantId: null,
    });
    expect(body.requestId).toBe(res.headers.get("x-amzn-RequestId"));
  });

  it("keeps module state in a warm environment", async () => {
    const first = await (await invoke(key, "echo")).json<{ invocations: number }>();
    const second = await (await invoke(key, "echo")).json<{ invocations: number }>();
    expect(second.invocations).toBe(first.invocations + 1);
  });

  it("says in Server-Timing whether the lease came from the partition or was held here from the last invocation", async () => {
    await createFn(key, "timed", "echo");
    const first = await invoke(key, "timed");
    expect(first.status).toBe(200);
    // A function nobody invoked yet: its lease is a trip to its partition.
    expect(first.headers.get("Server-Timing")).toMatch(/^lease-partition;dur=\d+\.\d$/);
    await first.arrayBuffer();
    // Back to back, the next invocations take the lease the last one left here (held for LEASE_LINGER_MS).
    const sources: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await invoke(key, "timed");
      await res.arrayBuffer();
      sources.push(/^lease-(\w+);dur=\d+\.\d$/.exec(res.headers.get("Server-Timing") ?? "")?.[1] ?? "malformed");
    }
    expect(sources).toContain("held");
    expect(sources.every((s) => s === "held" || s === "partition")).toBe(true);
  });

  it("gives the next invocation a new environment when the runtime crashed after the last one returned", async () => {
    await createFn(key, "late-crash", "lateCrash");
    const first = await (await invoke(key, "late-crash", { crashLater: true })).json<{ environment: string; calls: number }>();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await invoke(key, "late-crash", {});
    expect(second.status).toBe(200);
    expect(second.headers.get("X-Amz-Function-Error")).toBeNull();
    const body = await second.json<{ environment: string; calls: number }>();
    expect(body.environment).not.toBe(first.environment);
    expect(body.calls).toBe(1);
  });

  it("reports a thrown error as Unhandled with Lambda's payload", async () => {
    const res = await invoke(key, "fail");
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Amz-Function-Error")).toBe("Unhandled");
    const body = await res.json<{ errorType: string; errorMessage: string; trace: string[] }>();
    expect(body.errorType).toBe("TypeError");
    expect(body.errorMessage).toBe("bad input");
    expect(Array.isArray(body.trace)).toBe(true);
  });

  it("returns the tail of the log with X-Amz-Log-Type Tail", async () => {
    const res = await invoke(key, "echo", { tail: true }, { "X-Amz-Log-Type": "Tail" });
    const log = atob(res.headers.get("X-Amz-Log-Result") ?? "");
    const requestId = res.headers.get("x-amzn-RequestId");
    expect(log).toContain(`START RequestId: ${requestId} Version: $LATEST`);
    expect(log).toMatch(new RegExp(`\\t${requestId}\\tINFO\\tgot {"tail":true}`));
    expect(log).toContain(`END RequestId: ${requestId}`);
    expect(log).toMatch(/REPORT RequestId: \S+\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB/);
  });

  it("answers DryRun with 204 without running anything", async () => {
    const before = await (await invoke(key, "echo")).json<{ invocations: number }>();
    const dry = await invoke(key, "echo", {}, { "X-Amz-Invocation-Type": "DryRun" });
    expect(dry.status).toBe(204);
    const after = await (await invoke(key, "echo")).json<{ invocations: number }>();
    expect(after.invocations).toBe(before.invocations + 1);
    const missing = await invoke(key, "nope", {}, { "X-Amz-Invocation-Type": "DryRun" });
    expect(await errorOf(missing)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
  });

  it("runs published versions and routes weighted aliases", async () => {
    await signed(key, "POST", `${fn("echo")}/versions`, {});
    await signed(key, "PUT", `${fn("echo")}/configuration`, { Environment: { Variables: { STAGE: "v2" } } });
    await waitUntilSettled(key, "echo");
    await signed(key, "POST", `${fn("echo")}/versions`, {});
    const v1 = await invoke(key, "echo", {}, {}, "?Qualifier=1");
    expect(v1.headers.get("X-Amz-Executed-Version")).toBe("1");
    expect(await v1.json()).toMatchObject({ stage: "test", version: "1" });

    await signed(key, "POST", `${fn("echo")}/aliases`, { Name: "live", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 0.5 } } });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await invoke(key, "echo:live");
      seen.add(res.headers.get("X-Amz-Executed-Version") ?? "");
      expect(await res.json()).toMatchObject({ arn: `arn:aws:lambda:us-east-1:${key.accountId}:function:echo:live` });
    }
    expect([...seen].sort()).toEqual(["1", "2"]);
  });

  it("refuses bad payloads and unknown functions before running anything", async () => {
    const notJson = await signedWithHeaders(key, `${fn("echo")}/invocations`, "{nope", {});
    expect(await errorOf(notJson)).toMatchObject({ status: 400, type: "InvalidRequestContentException" });
    const big = await signedWithHeaders(key, `${fn("echo")}/invocations`, JSON.stringify({ s: "x".repeat(6_291_456) }), {});
    expect(await errorOf(big)).toMatchObject({ status: 413, type: "RequestEntityTooLargeException" });
    const badType = await invoke(key, "echo", {}, { "X-Amz-Invocation-Type": "Sometimes" });
    expect(await errorOf(badType)).toMatchObject({ status: 400, type: "ValidationException" });
  });

  it("hides another tenant's function behind 404", async () => {
    const other = await newTenant();
    const res = await invoke(other, "echo");
    expect(await errorOf(res)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
  });
});

describe("concurrency", () => {
  it("runs exactly the reserved concurrency at once and throttles the rest with 429", async () => {
    const key = await newTenant();
    await createFn(key, "slow", "slow");
    await signed(key, "PUT", "/2017-10-31/functions/slow/concurrency", { ReservedConcurrentExecutions: 5 });
    const results = await Promise.all(Array.from({ length: 20 }, () => invoke(key, "slow", { ms: 1500 })));
    const ok = results.filter((r) => r.status === 200);
    const throttled = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(5);
    expect(throttled).toHaveLength(15);
    for (const res of throttled) {
      expect(res.headers.get("x-amzn-ErrorType")).toBe("TooManyRequestsException");
      expect(await res.json()).toEqual({ Type: "User", message: "Rate Exceeded.", Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    }
  });

  it("throttles everything with reserved concurrency 0", async () => {
    const key = await newTenant();
    await createFn(key, "zero", "echo");
    await signed(key, "PUT", "/2017-10-31/functions/zero/concurrency", { ReservedConcurrentExecutions: 0 });
    const res = await invoke(key, "zero");
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
  });
});

describe("timeouts", () => {
  it("ends the invoke at the timeout and never reuses that environment", async () => {
    const key = await newTenant();
    await createFn(key, "sleepy", "sleepy", { Timeout: 1 });
    const warm = await (await invoke(key, "sleepy", { ms: 1 })).json<{ environment: string }>();
    const started = Date.now();
    const res = await invoke(key, "sleepy", { ms: 5000 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(res.headers.get("X-Amz-Function-Error")).toBe("Unhandled");
    const requestId = res.headers.get("x-amzn-RequestId");
    expect(await res.json()).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
    });
    const after = await (await invoke(key, "sleepy", { ms: 1 })).json<{ environment: string }>();
    expect(after.environment).not.toBe(warm.environment);
  });
});

describe("tenant isolation mode", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
    await createFn(key, "per-tenant", "isolated", { TenancyConfig: { TenantIsolationMode: "PER_TENANT" } });
    await createFn(key, "shared", "isolated");
  });

  it("requires X-Amz-Tenant-Id and passes it to the handler", async () => {
    const missing = await invoke(key, "per-tenant");
    expect(await errorOf(missing)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    const res = await invoke(key, "per-tenant", {}, { "X-Amz-Tenant-Id": "customer-a" });
    expect(await res.json()).toMatchObject({ tenantId: "customer-a" });
  });

  it("never lets one environment serve two tenant ids", async () => {
    const a1 = await (await invoke(key, "per-tenant", {}, { "X-Amz-Tenant-Id": "alpha" })).json<{ environment: string; calls: number }>();
    const a2 = await (await invoke(key, "per-tenant", {}, { "X-Amz-Tenant-Id": "alpha" })).json<{ environment: string; calls: number }>();
    const b1 = await (await invoke(key, "per-tenant", {}, { "X-Amz-Tenant-Id": "beta" })).json<{ environment: string; calls: number }>();
    expect(a2).toMatchObject({ environment: a1.environment, calls: a1.calls + 1 });
    expect(b1.environment).not.toBe(a1.environment);
    expect(b1.calls).toBe(1);
  });

  it("refuses a tenant id for a function without the mode, and a malformed one", async () => {
    const res = await invoke(key, "shared", {}, { "X-Amz-Tenant-Id": "customer-a" });
    expect(await errorOf(res)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    const bad = await invoke(key, "per-tenant", {}, { "X-Amz-Tenant-Id": "no\\slash" });
    expect(await errorOf(bad)).toMatchObject({ status: 400, type: "ValidationException" });
  });
});

describe("tenant concurrency limit", () => {
  it("holds the tenant's limit across its functions with ConcurrentInvocationLimitExceeded", async () => {
    const key = await newTenant();
    const patched = await admin("PATCH", `/tenants/${key.tenantId}`, { concurrencyLimit: 3 });
    expect(patched.status).toBe(200);
    await createFn(key, "one", "sleepy");
    await createFn(key, "two", "sleepy");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => invoke(key, i % 2 === 0 ? "one" : "two", { ms: 1500 })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(5);
    for (const res of throttled) expect(await res.json()).toMatchObject({ Reason: "ConcurrentInvocationLimitExceeded" });
  });
});

