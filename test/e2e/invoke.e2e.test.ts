/**
 * Synchronous invoke end to end, as a user does it: `wrangler dev` started by
 * the harness, tenants and keys from the admin API, functions created from
 * zips built here, and every call made with the real @aws-sdk/client-lambda
 * InvokeCommand (maxAttempts 1, so a throttle is seen once and not retried).
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  InvokeCommand,
  type InvokeCommandInput,
  type InvokeCommandOutput,
  type LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminFetch,
  createTenantWithKey,
  lambdaClient,
  type Platform,
  startPlatform,
  type TenantCredentials,
  untilActive,
  untilUpdated,
} from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const MTIME = new Date("2024-01-01T00:00:00Z");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, source]) => [name, [strToU8(source), { mtime: MTIME }]])));
}

// ---------------------------------------------------------------------------
// Handlers

/** Reports everything the handler can see: event, environment and context. */
const CONTEXT_JS = `
exports.handler = async (event, context) => ({
  event,
  env: { GREETING: process.env.GREETING, STAGE: process.env.STAGE, AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME },
  context: {
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    remaining: context.getRemainingTimeInMillis(),
  },
});
`;

/**
 * Module state that tells environments apart: \`count\` survives only in a warm
 * environment, \`id\` is drawn once per environment (lazily: no randomness at
 * global scope), \`tenants\` lists every tenant id this environment served.
 */
const STATEFUL_JS = `
let count = 0;
let id;
const tenants = new Set();
exports.handler = async (event, context) => {
  count += 1;
  id ??= Math.random().toString(36).slice(2) + "-" + Date.now();
  if (context.tenantId !== undefined) tenants.add(context.tenantId);
  console.log("invocation", count, JSON.stringify(event));
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.fail) throw new TypeError("bad input: " + event.fail);
  return { count, id, version: context.functionVersion, arn: context.invokedFunctionArn, tag: process.env.TAG ?? null,
           tenantId: context.tenantId ?? null, tenants: [...tenants] };
};
`;

/** Sleeps event.ms and reports when it ran. */
const SLOW_JS = `
exports.handler = async (event) => {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 2000));
  return { start, end: Date.now() };
};
`;

const ZIPS = {
  context: zipOf({ "index.js": CONTEXT_JS }),
  stateful: zipOf({ "index.js": STATEFUL_JS }),
  slow: zipOf({ "index.js": SLOW_JS }),
  asyncStyle: zipOf({ "index.js": "exports.handler = async (event) => ({ style: 'async', doubled: event.n * 2 });\n" }),
  promiseStyle: zipOf({
    "index.js": "exports.handler = (event) => new Promise((resolve) => setTimeout(() => resolve({ style: 'promise', doubled: event.n * 2 }), 20));\n",
  }),
  callbackStyle: zipOf({
    "index.js":
      "exports.handler = function (event, context, callback) { setTimeout(() => callback(null, { style: 'callback', doubled: event.n * 2, requestId: context.awsRequestId }), 10); };\n",
  }),
  esm: zipOf({
    "index.mjs": "import { join } from 'node:path';\nexport const handler = async (event) => ({ style: 'esm', path: join('a', 'b'), doubled: event.n * 2 });\n",
  }),
};

function createInput(name: string, zip: Uint8Array, overrides: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return { FunctionName: name, Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zip }, ...overrides };
}

// ---------------------------------------------------------------------------
// Helpers

type SdkError = Error & { $metadata?: { httpStatusCode?: number; requestId?: string }; Reason?: string };

/** Resolves to the error the SDK threw; fails the test if the call succeeded. */
async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  return call.then(
    (result) => {
      throw new Error(`expected the call to fail, it returned ${JSON.stringify(result, (_k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v))}`);
    },
    (err: unknown) => err as SdkError,
  );
}

function payloadOf<T = any>(out: InvokeCommandOutput): T {
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : "";
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

const decodeLog = (out: InvokeCommandOutput) => Buffer.from(out.LogResult ?? "", "base64").toString("utf8");

function invoke(client: LambdaClient, name: string, payload: unknown = {}, extra: Partial<InvokeCommandInput> = {}) {
  return client.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload), ...extra }));
}

/** Runs `calls` at once; returns the fulfilled results and the rejections. */
async function burst<T>(calls: Array<() => Promise<T>>): Promise<{ ok: T[]; failed: SdkError[] }> {
  const settled = await Promise.allSettled(calls.map((call) => call()));
  return {
    ok: settled.filter((s): s is PromiseFulfilledResult<Awaited<T>> => s.status === "fulfilled").map((s) => s.value),
    failed: settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason as SdkError),
  };
}

const throttleSummary = (errors: SdkError[]) =>
  errors.map((e) => ({ name: e.name, status: e.$metadata?.httpStatusCode, reason: e.Reason, message: e.message }));

// ---------------------------------------------------------------------------

describe("synchronous invoke through the AWS SDK", () => {
  let platform: Platform;
  let acme: TenantCredentials;
  let lambda: LambdaClient;
  const clients: LambdaClient[] = [];
  const client = (creds: { accessKeyId: string; secretAccessKey: string }) => {
    const c = lambdaClient(platform, creds);
    clients.push(c);
    return c;
  };
  const arn = (name: string, qualifier?: string) =>
    `arn:aws:lambda:us-east-1:${acme.accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;

  beforeAll(async () => {
    platform = await startPlatform();
    acme = await createTenantWithKey(platform, "acme");
    lambda = client(acme);
    // Every function the suite uses, created up front (a few at a time).
    const inputs: CreateFunctionCommandInput[] = [
      createInput("ctx", ZIPS.context, { Timeout: 5, Environment: { Variables: { GREETING: "hello", STAGE: "e2e" } } }),
      createInput("async-style", ZIPS.asyncStyle),
      createInput("promise-style", ZIPS.promiseStyle),
      createInput("callback-style", ZIPS.callbackStyle),
      createInput("esm-style", ZIPS.esm),
      createInput("warm", ZIPS.stateful),
      createInput("dry", ZIPS.stateful),
      createInput("fails", ZIPS.stateful),
      createInput("tail", ZIPS.stateful),
      createInput("timeout", ZIPS.stateful, { Timeout: 1 }),
      createInput("versioned", ZIPS.stateful, { Environment: { Variables: { TAG: "one" } } }),
      createInput("isolated", ZIPS.stateful, { TenancyConfig: { TenantIsolationMode: "PER_TENANT" } }),
      createInput("slow", ZIPS.slow),
      createInput("zero", ZIPS.stateful),
    ];
    for (let i = 0; i < inputs.length; i += 4) {
      await Promise.all(inputs.slice(i, i + 4).map((input) => lambda.send(new CreateFunctionCommand(input))));
    }
    for (const input of inputs) await untilActive(lambda, String(input.FunctionName));
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await platform?.stop();
  });

  it("payload in, result out: StatusCode 200, $LATEST, environment variables and every context field", async () => {
    const out = await invoke(lambda, "ctx", { name: "world", nested: { n: [1, 2, 3] } });
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe("$LATEST");
    expect(out.FunctionError).toBeUndefined();
    const body = payloadOf(out);
    expect(body.event).toEqual({ name: "world", nested: { n: [1, 2, 3] } });
    expect(body.env).toEqual({ GREETING: "hello", STAGE: "e2e", AWS_LAMBDA_FUNCTION_NAME: "ctx" });
    expect(out.$metadata.requestId).toBeTruthy();
    expect(body.context).toMatchObject({
      awsRequestId: out.$metadata.requestId,
      functionName: "ctx",
      functionVersion: "$LATEST",
      invokedFunctionArn: arn("ctx"),
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/ctx",
    });
    expect(body.context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(body.context.remaining).toBeGreaterThan(0);
    expect(body.context.remaining).toBeLessThanOrEqual(5000);
  });

  it("runs async, promise-returning, callback-style (nodejs22.x) and ESM .mjs handlers", async () => {
    const [asyncOut, promiseOut, callbackOut, esmOut] = await Promise.all(
      ["async-style", "promise-style", "callback-style", "esm-style"].map((name) => invoke(lambda, name, { n: 21 })),
    );
    for (const out of [asyncOut!, promiseOut!, callbackOut!, esmOut!]) {
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError, new TextDecoder().decode(out.Payload)).toBeUndefined();
    }
    expect(payloadOf(asyncOut!)).toEqual({ style: "async", doubled: 42 });
    expect(payloadOf(promiseOut!)).toEqual({ style: "promise", doubled: 42 });
    expect(payloadOf(callbackOut!)).toEqual({ style: "callback", doubled: 42, requestId: callbackOut!.$metadata.requestId });
    expect(payloadOf(esmOut!)).toEqual({ style: "esm", path: "a/b", doubled: 42 });
  });

  it("keeps module state in a warm environment across sequential invokes", async () => {
    const first = payloadOf(await invoke(lambda, "warm"));
    const second = payloadOf(await invoke(lambda, "warm"));
    expect(first.count).toBe(1);
    expect(second.count).toBe(2);
    expect(second.id).toBe(first.id);
  });

  it("DryRun answers 204 and does not run the handler", async () => {
    const before = payloadOf(await invoke(lambda, "dry"));
    expect(before.count).toBe(1);
    const dry = await invoke(lambda, "dry", { dry: true }, { InvocationType: "DryRun" });
    expect(dry.StatusCode).toBe(204);
    expect(dry.Payload?.byteLength ?? 0).toBe(0);
    expect(dry.FunctionError).toBeUndefined();
    const after = payloadOf(await invoke(lambda, "dry"));
    // Same warm environment (same id): had the DryRun run the handler, count would be 3.
    expect(after.id).toBe(before.id);
    expect(after.count).toBe(2);
  });

  it("reports a thrown error as FunctionError Unhandled with {errorType, errorMessage, trace}", async () => {
    const out = await invoke(lambda, "fails", { fail: "no widgets" });
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe("Unhandled");
    expect(out.ExecutedVersion).toBe("$LATEST");
    const body = payloadOf(out);
    expect(Object.keys(body).sort()).toEqual(["errorMessage", "errorType", "trace"]);
    expect(body.errorType).toBe("TypeError");
    expect(body.errorMessage).toBe("bad input: no widgets");
    expect(Array.isArray(body.trace)).toBe(true);
    expect(body.trace[0]).toBe("TypeError: bad input: no widgets");
  });

  it("LogType Tail returns START, console lines, END and REPORT; Init Duration only on the cold call", async () => {
    const cold = await invoke(lambda, "tail", { n: 1 }, { LogType: "Tail" });
    const warm = await invoke(lambda, "tail", { n: 2 }, { LogType: "Tail" });
    for (const [out, n, count] of [[cold, 1, 1], [warm, 2, 2]] as const) {
      const id = out.$metadata.requestId!;
      const log = decodeLog(out);
      const lines = log.replace(/\n$/, "").split("\n");
      const start = lines.indexOf(`START RequestId: ${id} Version: $LATEST`);
      expect(start, log).toBeGreaterThanOrEqual(0);
      const app = lines.findIndex((line) =>
        new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${id}\\tINFO\\tinvocation ${count} \\{"n":${n}\\}$`).test(line),
      );
      expect(app, log).toBeGreaterThan(start);
      const end = lines.indexOf(`END RequestId: ${id}`);
      expect(end, log).toBeGreaterThan(app);
      expect(lines[end + 1], log).toMatch(
        new RegExp(`^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\t`),
      );
    }
    expect(decodeLog(cold)).toMatch(/\tInit Duration: \d+\.\d\d ms/);
    expect(decodeLog(warm)).not.toContain("Init Duration");
  });

  it("times out at Timeout (1 s) with Sandbox.Timedout, and the next invoke gets a new environment", async () => {
    const warmUp = payloadOf(await invoke(lambda, "timeout"));
    expect(warmUp.count).toBe(1);

    const started = Date.now();
    const out = await invoke(lambda, "timeout", { sleepMs: 3000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2500);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe("Unhandled");
    expect(payloadOf(out)).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${out.$metadata.requestId} Error: Task timed out after 1.00 seconds`,
    });

    const next = payloadOf(await invoke(lambda, "timeout"));
    // A reused environment would say count 3 and the same id.
    expect(next.count).toBe(1);
    expect(next.id).not.toBe(warmUp.id);
  });

  it("Qualifier selects a version or an alias; a weighted alias routes to both versions", async () => {
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    expect(v1.Version).toBe("1");
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: "versioned", Environment: { Variables: { TAG: "two" } } }),
    );
    await untilUpdated(lambda, "versioned");
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    expect(v2.Version).toBe("2");

    const byVersion = await invoke(lambda, "versioned", {}, { Qualifier: "1" });
    expect(byVersion.ExecutedVersion).toBe("1");
    expect(payloadOf(byVersion)).toMatchObject({ version: "1", tag: "one", arn: arn("versioned", "1") });
    const latest = await invoke(lambda, "versioned");
    expect(latest.ExecutedVersion).toBe("$LATEST");
    expect(payloadOf(latest)).toMatchObject({ version: "$LATEST", tag: "two", arn: arn("versioned") });

    await lambda.send(new CreateAliasCommand({ FunctionName: "versioned", Name: "stable", FunctionVersion: "2" }));
    const byAlias = await invoke(lambda, "versioned", {}, { Qualifier: "stable" });
    expect(byAlias.ExecutedVersion).toBe("2");
    expect(payloadOf(byAlias)).toMatchObject({ version: "2", tag: "two", arn: arn("versioned", "stable") });

    await lambda.send(
      new CreateAliasCommand({
        FunctionName: "versioned",
        Name: "canary",
        FunctionVersion: "1",
        RoutingConfig: { AdditionalVersionWeights: { "2": 0.5 } },
      }),
    );
    const executed: string[] = [];
    for (let i = 0; i < 40; i++) {
      const out = await invoke(lambda, "versioned", {}, { Qualifier: "canary" });
      expect(out.FunctionError).toBeUndefined();
      const body = payloadOf(out);
      expect(body.version).toBe(out.ExecutedVersion);
      expect(body.tag).toBe(out.ExecutedVersion === "1" ? "one" : "two");
      expect(body.arn).toBe(arn("versioned", "canary"));
      executed.push(out.ExecutedVersion!);
    }
    expect([...new Set(executed)].sort()).toEqual(["1", "2"]);
  });

  it("reserved concurrency 5: 20 invokes at once, exactly 5 run (together), 15 get 429 ReservedFunctionConcurrentInvocationLimitExceeded", async () => {
    const put = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: "slow", ReservedConcurrentExecutions: 5 }));
    expect(put.ReservedConcurrentExecutions).toBe(5);

    const { ok, failed } = await burst(Array.from({ length: 20 }, () => () => invoke(lambda, "slow", { ms: 2000 })));
    expect({ ok: ok.length, failed: failed.length }, JSON.stringify(throttleSummary(failed))).toEqual({ ok: 5, failed: 15 });
    for (const err of failed) {
      expect({ name: err.name, status: err.$metadata?.httpStatusCode, reason: err.Reason }).toEqual({
        name: "TooManyRequestsException",
        status: 429,
        reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      });
    }
    const runs = ok.map((out) => {
      expect(out.FunctionError, new TextDecoder().decode(out.Payload)).toBeUndefined();
      return payloadOf<{ start: number; end: number }>(out);
    });
    // They ran at once: every one started before any one finished.
    const lastStart = Math.max(...runs.map((r) => r.start));
    const firstEnd = Math.min(...runs.map((r) => r.end));
    expect(lastStart).toBeLessThan(firstEnd);
  });

  it("reserved concurrency 0 throttles every invoke", async () => {
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: "zero", ReservedConcurrentExecutions: 0 }));
    for (let i = 0; i < 3; i++) {
      const err = await sdkError(invoke(lambda, "zero"));
      expect({ name: err.name, status: err.$metadata?.httpStatusCode, reason: err.Reason }).toEqual({
        name: "TooManyRequestsException",
        status: 429,
        reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      });
    }
  });

  it("tenant concurrency limit 3: 8 invokes at once, exactly 3 run, 5 get 429 ConcurrentInvocationLimitExceeded", async () => {
    const small = await createTenantWithKey(platform, "small");
    const patched = await adminFetch(platform, "PATCH", `/admin/tenants/${small.tenantId}`, { concurrencyLimit: 3 });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ concurrencyLimit: 3 });
    const patchedAt = Date.now();
    const smallLambda = client(small);
    await smallLambda.send(new CreateFunctionCommand(createInput("slow", ZIPS.slow)));
    await untilActive(smallLambda, "slow");
    // Tenant limits are cached for up to ~2 s.
    await sleep(Math.max(0, 2500 - (Date.now() - patchedAt)));

    const { ok, failed } = await burst(Array.from({ length: 8 }, () => () => invoke(smallLambda, "slow", { ms: 2000 })));
    expect({ ok: ok.length, failed: failed.length }, JSON.stringify(throttleSummary(failed))).toEqual({ ok: 3, failed: 5 });
    for (const err of failed) {
      expect({ name: err.name, status: err.$metadata?.httpStatusCode, reason: err.Reason }).toEqual({
        name: "TooManyRequestsException",
        status: 429,
        reason: "ConcurrentInvocationLimitExceeded",
      });
    }
    for (const out of ok) expect(out.FunctionError, new TextDecoder().decode(out.Payload)).toBeUndefined();
  });

  it("request rate quota: a tenant with concurrency limit 1 gets 10 sync invokes a second per function, then TooManyRequestsException FunctionInvocationRateLimitExceeded", async () => {
    const tiny = await createTenantWithKey(platform, "tiny-rate");
    // Before its first request, so no isolate has the default limit cached.
    expect((await adminFetch(platform, "PATCH", `/admin/tenants/${tiny.tenantId}`, { concurrencyLimit: 1 })).status).toBe(200);
    const tinyLambda = client(tiny);
    await tinyLambda.send(new CreateFunctionCommand(createInput("quick", ZIPS.asyncStyle)));
    await untilActive(tinyLambda, "quick");
    // One caller at a time (the limit is 1), as fast as it gets answers, for 1.5 s.
    const started = Date.now();
    const ok: InvokeCommandOutput[] = [];
    const failed: SdkError[] = [];
    while (Date.now() - started < 1500) {
      await invoke(tinyLambda, "quick", { n: 1 }).then(
        (out) => ok.push(out),
        (err: SdkError) => failed.push(err),
      );
    }
    const seconds = (Date.now() - started) / 1000;
    expect(ok.length, JSON.stringify(throttleSummary(failed))).toBeGreaterThanOrEqual(10);
    expect(ok.length).toBeLessThanOrEqual(10 + Math.ceil(10 * seconds) + 2);
    expect(failed.length).toBeGreaterThan(0);
    for (const err of failed) {
      expect({ name: err.name, status: err.$metadata?.httpStatusCode, reason: err.Reason, message: err.message }).toEqual({
        name: "TooManyRequestsException",
        status: 429,
        reason: "FunctionInvocationRateLimitExceeded",
        message: "Rate Exceeded.",
      });
    }
    // An Event invoke is not counted (Lambda's asynchronous invocations have no request rate quota).
    expect((await invoke(tinyLambda, "quick", { n: 1 }, { InvocationType: "Event" })).StatusCode).toBe(202);
  });


  describe("tenant isolation mode (PER_TENANT)", () => {
    it("refuses an invoke without TenantId with InvalidParameterValueException", async () => {
      const err = await sdkError(invoke(lambda, "isolated"));
      expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: "InvalidParameterValueException", status: 400 });
    });

    it("gives each tenant id its own environments, never shared", async () => {
      const a1 = await invoke(lambda, "isolated", {}, { TenantId: "customer-a" });
      const a2 = await invoke(lambda, "isolated", {}, { TenantId: "customer-a" });
      const b1 = await invoke(lambda, "isolated", {}, { TenantId: "customer-b" });
      const [pa1, pa2, pb1] = [payloadOf(a1), payloadOf(a2), payloadOf(b1)];
      expect(pa1).toMatchObject({ tenantId: "customer-a", count: 1, tenants: ["customer-a"] });
      expect(pa2).toMatchObject({ tenantId: "customer-a", count: 2, tenants: ["customer-a"], id: pa1.id });
      expect(pb1).toMatchObject({ tenantId: "customer-b", count: 1, tenants: ["customer-b"] });
      expect(pb1.id).not.toBe(pa1.id);
      // And back to customer-a: its own warm environment, still never shared.
      const a3 = payloadOf(await invoke(lambda, "isolated", {}, { TenantId: "customer-a" }));
      expect(a3).toMatchObject({ tenantId: "customer-a", tenants: ["customer-a"] });
      expect(a3.id).not.toBe(pb1.id);
    });

    it("refuses TenantId on a function without tenant isolation mode", async () => {
      const err = await sdkError(invoke(lambda, "warm", {}, { TenantId: "customer-a" }));
      expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: "InvalidParameterValueException", status: 400 });
    });
  });

  it("refuses a payload over 6 MB with RequestEntityTooLargeException (413), the code Lambda sends", async () => {
    const big = JSON.stringify({ s: "x".repeat(6_291_456) });
    let viaSdk: SdkError | undefined;
    try {
      await lambda.send(new InvokeCommand({ FunctionName: "warm", Payload: big }));
    } catch (err) {
      viaSdk = err as SdkError;
    }
    expect(viaSdk, "the SDK call succeeded").toBeDefined();
    // The SDK sends it as is; if the transport gave up instead of reading the 413, say so.
    expect({ name: viaSdk!.name, status: viaSdk!.$metadata?.httpStatusCode, message: viaSdk!.message }).toMatchObject({
      name: "RequestEntityTooLargeException",
      status: 413,
    });

    const res = await fetch(`${platform.url}/2015-03-31/functions/warm/invocations`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.token}`, "content-type": "application/json" },
      body: big,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    expect(res.status, text).toBe(413);
    expect(res.headers.get("x-amzn-ErrorType")).toMatch(/^RequestEntityTooLargeException/);
  });

  it("another tenant's key gets ResourceNotFoundException for the function name", async () => {
    const globex = await createTenantWithKey(platform, "globex");
    const other = client(globex);
    const err = await sdkError(invoke(other, "ctx"));
    expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: "ResourceNotFoundException", status: 404 });
    // The first tenant's full ARN names another account: AccessDeniedException,
    // the same whether the function exists or not (no existence oracle).
    const byArn = await sdkError(invoke(other, arn("ctx")));
    const missingByArn = await sdkError(invoke(other, arn("no-such-function")));
    for (const e of [byArn, missingByArn]) {
      expect({ name: e.name, status: e.$metadata?.httpStatusCode }).toEqual({ name: "AccessDeniedException", status: 403 });
    }
  });

  it("curl-style: POST .../invocations with Authorization: Bearer <token>", async () => {
    const res = await fetch(`${platform.url}/2015-03-31/functions/ctx/invocations`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.token}` },
      body: JSON.stringify({ name: "curl" }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get("X-Amz-Executed-Version")).toBe("$LATEST");
    expect(res.headers.get("X-Amz-Function-Error")).toBeNull();
    const body = JSON.parse(text);
    expect(body.event).toEqual({ name: "curl" });
    expect(body.context.awsRequestId).toBe(res.headers.get("x-amzn-RequestId"));
  });
});
