import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { addKey, admin, createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";
import { buildFunctionCode } from "../../src/code/build";
import { AssignmentPartition } from "../../src/invoke/assignment-partition";
import type { ExecutionEnvironment, InvocationRequest } from "../../src/runtime/executor";
import { invoke } from "../../src/runtime/executor";
import { initialise } from "../../src/runtime/initialise";
import { makeZipBase64 } from "../fixtures/zips";

/** Module code records how its environment was initialised; the handler can sleep, crash, or report. */
const HANDLER = {
  "index.js": `
    const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    const environment = crypto.randomUUID();
    exports.handler = async (event) => {
      if (event.ms) await new Promise((r) => setTimeout(r, event.ms));
      if (event.exit) process.exit(3);
      return { initType, environment };
    };`,
};

const pcPath = (name: string, qualifier?: string) =>
  `/2019-09-30/functions/${encodeURIComponent(name)}/provisioned-concurrency${qualifier === undefined ? "" : `?Qualifier=${encodeURIComponent(qualifier)}`}`;

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

async function publish(key: TenantKey, name: string): Promise<string> {
  const res = await signed(key, "POST", `${fn(name)}/versions`, {});
  const body = await res.json<{ Version: string }>();
  if (res.status !== 201) throw new Error(`publish ${name}: ${res.status} ${JSON.stringify(body)}`);
  return body.Version;
}

async function createPublished(key: TenantKey, name: string, files: Record<string, string> = HANDLER, extra: Record<string, unknown> = {}) {
  await createActive(key, createFunctionBody(name, files, extra));
  return publish(key, name);
}

/** Get…Config until `Status` leaves IN_PROGRESS (alarms initialise the environments in the background). */
async function settled(key: TenantKey, name: string, qualifier: string, want = (b: Record<string, unknown>) => b.Status !== "IN_PROGRESS") {
  const deadline = Date.now() + 25_000;
  for (;;) {
    const res = await signed(key, "GET", pcPath(name, qualifier));
    const body = await res.json<Record<string, unknown>>();
    if (res.status !== 200) throw new Error(`get ${name}:${qualifier}: ${res.status} ${JSON.stringify(body)}`);
    if (want(body)) return body;
    if (Date.now() > deadline) throw new Error(`${name}:${qualifier} stayed ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Invoke with LogType Tail: the payload and the REPORT line. */
async function invokeTail(key: TenantKey, name: string, qualifier: string, payload: unknown = {}) {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const request = await client.sign(`http://cellfn.test${fn(name)}/invocations?Qualifier=${encodeURIComponent(qualifier)}`, {
    method: "POST",
    headers: { "X-Amz-Log-Type": "Tail" },
    body: JSON.stringify(payload),
  });
  const res = await exports.default.fetch(request);
  const log = atob(res.headers.get("x-amz-log-result") ?? "");
  const report = log.split("\n").find((l) => l.startsWith("REPORT ")) ?? "";
  return { status: res.status, body: await res.json<{ initType: string; environment: string }>(), report };
}

function partitionOf(key: TenantKey, name: string) {
  return AssignmentPartition.of(env, key.tenantId, name);
}

describe("PutProvisionedConcurrencyConfig and the state machine", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant();
  });

  it("answers 202 IN_PROGRESS, then becomes READY with every environment allocated and available", async () => {
    const name = unique("pc");
    const version = await createPublished(key, name);
    const put = await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 2 });
    expect(put.status).toBe(202);
    const body = await put.json<Record<string, unknown>>();
    expect(body).toEqual({
      RequestedProvisionedConcurrentExecutions: 2,
      AvailableProvisionedConcurrentExecutions: 0,
      AllocatedProvisionedConcurrentExecutions: 0,
      Status: "IN_PROGRESS",
      LastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
    });
    const ready = await settled(key, name, version);
    expect(ready).toEqual({ ...body, AvailableProvisionedConcurrentExecutions: 2, AllocatedProvisionedConcurrentExecutions: 2, Status: "READY" });
    const snapshot = await partitionOf(key, name).snapshot();
    expect(snapshot.environments.filter((e) => e.provisioned === version && e.ready)).toHaveLength(2);
  });

  it("runs module init with AWS_LAMBDA_INITIALIZATION_TYPE provisioned-concurrency and reports no Init Duration; on-demand keeps on-demand", async () => {
    const name = unique("pc-init");
    const version = await createPublished(key, name);
    await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1 });
    await settled(key, name, version);

    const hot = await invokeTail(key, name, version);
    expect(hot.status).toBe(200);
    expect(hot.body.initType).toBe("provisioned-concurrency");
    expect(hot.report).toMatch(/^REPORT RequestId: /);
    expect(hot.report).not.toContain("Init Duration");

    const cold = await invokeTail(key, name, "$LATEST");
    expect(cold.body.initType).toBe("on-demand");
    expect(cold.report).toContain("Init Duration");
  });

  it("goes FAILED with the init error as StatusReason when the module's init fails", async () => {
    const name = unique("pc-broken");
    // The upload probe refuses a module that throws, so the broken code comes with a variable the module checks.
    const broken = { "index.js": `if (process.env.BREAK === "1") throw new Error("init exploded"); exports.handler = async () => 1;` };
    await createActive(key, createFunctionBody(name, broken, { Environment: { Variables: { BREAK: "1" } } }));
    const version = await publish(key, name);
    await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 2 });
    const failed = await settled(key, name, version);
    expect(failed.Status).toBe("FAILED");
    expect(failed.StatusReason).toBe("FUNCTION_ERROR_INIT_FAILURE: Error: init exploded");
    expect(failed.AllocatedProvisionedConcurrentExecutions).toBe(0);
  });

  it("replaces an environment the runtime lost (a crash) and is READY again", async () => {
    const name = unique("pc-heal");
    const version = await createPublished(key, name);
    await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1 });
    await settled(key, name, version);
    const before = await partitionOf(key, name).snapshot();
    const crash = await invokeTail(key, name, version, { exit: true });
    expect(crash.status).toBe(200);
    const healed = await settled(key, name, version, (b) => b.Status === "READY" && b.AvailableProvisionedConcurrentExecutions === 1);
    expect(healed.AllocatedProvisionedConcurrentExecutions).toBe(1);
    const after = await partitionOf(key, name).snapshot();
    const ids = (s: typeof before) => s.environments.filter((e) => e.provisioned !== undefined).map((e) => e.id);
    expect(ids(after)).toHaveLength(1);
    expect(ids(after)).not.toEqual(ids(before));
    const next = await invokeTail(key, name, version);
    expect(next.body.initType).toBe("provisioned-concurrency");
    expect(next.report).not.toContain("Init Duration");
  });
});

describe("routing: provisioned first, then spillover", () => {
  it("runs on the provisioned environments first and counts the invocations beyond them as spillover", async () => {
    const key = await newTenant();
    const name = unique("pc-spill");
    const version = await createPublished(key, name);
    await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 2 });
    await settled(key, name, version);

    const results = await Promise.all([1, 2, 3, 4].map(() => invokeTail(key, name, version, { ms: 400 })));
    const provisioned = results.filter((r) => r.body.initType === "provisioned-concurrency");
    const spilled = results.filter((r) => r.body.initType === "on-demand");
    expect(provisioned).toHaveLength(2);
    expect(spilled).toHaveLength(2);
    for (const r of provisioned) expect(r.report).not.toContain("Init Duration");
    for (const r of spilled) expect(r.report).toContain("Init Duration");

    const [metrics] = await partitionOf(key, name).provisionedReports(version);
    expect(metrics).toMatchObject({ qualifier: version, requested: 2, allocated: 2, provisionedInvocations: 2, spilloverInvocations: 2 });
  });

  it("splits a weighted alias's environments between its versions by weight", async () => {
    const key = await newTenant();
    const name = unique("pc-alias");
    const v1 = await createPublished(key, name);
    await signed(key, "PUT", `${fn(name)}/configuration`, { Description: "v2" });
    await new Promise((r) => setTimeout(r, 300));
    const v2 = await publish(key, name);
    const alias = await signed(key, "POST", `${fn(name)}/aliases`, { Name: "live", FunctionVersion: v1, RoutingConfig: { AdditionalVersionWeights: { [v2]: 0.4 } } });
    expect(alias.status).toBe(201);
    expect((await signed(key, "PUT", pcPath(name, "live"), { ProvisionedConcurrentExecutions: 5 })).status).toBe(202);
    await settled(key, name, "live");
    const byVersion = (s: Awaited<ReturnType<ReturnType<typeof partitionOf>["snapshot"]>>) =>
      s.environments.filter((e) => e.provisioned === "live").map((e) => e.versionKey.split("@")[0]).sort();
    expect(byVersion(await partitionOf(key, name).snapshot())).toEqual([v1, v1, v1, v2, v2]);

    // Shifting the weights re-splits them.
    const update = await signed(key, "PUT", `${fn(name)}/aliases/live`, { RoutingConfig: { AdditionalVersionWeights: { [v2]: 0.8 } } });
    expect(update.status).toBe(200);
    await settled(key, name, "live", (b) => b.Status === "READY");
    expect(byVersion(await partitionOf(key, name).snapshot())).toEqual([v1, v2, v2, v2, v2]);
  });
});

describe("Get, List and Delete", () => {
  it("lists with List=ALL (qualified FunctionArn, pages by MaxItems), deletes idempotently", async () => {
    const key = await newTenant();
    const name = unique("pc-list");
    const v1 = await createPublished(key, name);
    expect((await signed(key, "POST", `${fn(name)}/aliases`, { Name: "blue", FunctionVersion: "$LATEST" })).status).toBe(201);
    await signed(key, "PUT", `${fn(name)}/aliases/blue`, { FunctionVersion: v1 });
    await signed(key, "PUT", pcPath(name, "blue"), { ProvisionedConcurrentExecutions: 1 });
    await signed(key, "PUT", `${fn(name)}/configuration`, { Description: "next" });
    await new Promise((r) => setTimeout(r, 300));
    const v2 = await publish(key, name);
    expect((await signed(key, "PUT", pcPath(name, v2), { ProvisionedConcurrentExecutions: 1 })).status).toBe(202);

    const first = await (await signed(key, "GET", `${pcPath(name)}?List=ALL&MaxItems=1`)).json<{ ProvisionedConcurrencyConfigs: Array<Record<string, unknown>>; NextMarker?: string }>();
    expect(first.ProvisionedConcurrencyConfigs).toHaveLength(1);
    expect(first.NextMarker).toEqual(expect.any(String));
    const second = await (
      await signed(key, "GET", `${pcPath(name)}?List=ALL&MaxItems=1&Marker=${encodeURIComponent(first.NextMarker ?? "")}`)
    ).json<{ ProvisionedConcurrencyConfigs: Array<Record<string, unknown>>; NextMarker?: string }>();
    expect(second.NextMarker).toBeUndefined();
    const arns = [...first.ProvisionedConcurrencyConfigs, ...second.ProvisionedConcurrencyConfigs].map((c) => c.FunctionArn);
    expect(arns).toEqual([`arn:aws:lambda:us-east-1:${key.accountId}:function:${name}:${v2}`, `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}:blue`]);
    expect(first.ProvisionedConcurrencyConfigs[0]).toMatchObject({ RequestedProvisionedConcurrentExecutions: 1, Status: expect.stringMatching(/^(IN_PROGRESS|READY)$/) });

    expect((await signed(key, "DELETE", pcPath(name, v2))).status).toBe(204);
    expect(await errorOf(await signed(key, "GET", pcPath(name, v2)))).toEqual({
      status: 404,
      type: "ProvisionedConcurrencyConfigNotFoundException",
      message: "No Provisioned Concurrency Config found for this function",
    });
    expect((await signed(key, "DELETE", pcPath(name, v2))).status).toBe(204);
    // Deleting the alias deletes its config.
    expect((await signed(key, "DELETE", `${fn(name)}/aliases/blue`)).status).toBe(204);
    const empty = await (await signed(key, "GET", `${pcPath(name)}?List=ALL`)).json<{ ProvisionedConcurrencyConfigs: unknown[] }>();
    expect(empty.ProvisionedConcurrencyConfigs).toEqual([]);
    expect((await partitionOf(key, name).snapshot()).environments.filter((e) => e.provisioned !== undefined)).toEqual([]);
  });
});

describe("bad input: AWS's answers, nothing half-applied", () => {
  let key: TenantKey;
  let name: string;
  let version: string;
  beforeAll(async () => {
    key = await newTenant();
    name = unique("pc-bad");
    version = await createPublished(key, name);
    expect((await signed(key, "POST", `${fn(name)}/aliases`, { Name: "live", FunctionVersion: version })).status).toBe(201);
  });

  const expectNoConfig = async (qualifier: string) => {
    const res = await signed(key, "GET", pcPath(name, qualifier));
    expect((await errorOf(res)).type).toBe("ProvisionedConcurrencyConfigNotFoundException");
  };

  it("refuses $LATEST on every operation", async () => {
    expect(await errorOf(await signed(key, "PUT", pcPath(name, "$LATEST"), { ProvisionedConcurrentExecutions: 1 }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    });
    for (const method of ["GET", "DELETE"]) {
      expect(await errorOf(await signed(key, method, pcPath(name, "$LATEST")))).toEqual({
        status: 400,
        type: "InvalidParameterValueException",
        message: "The function resource provided must be an alias or a published version.",
      });
    }
  });

  it("refuses 0, a missing count, a wrong type and unknown fields", async () => {
    expect(await errorOf(await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 0 }))).toEqual({
      status: 400,
      type: "ValidationException",
      message: "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
    });
    expect((await errorOf(await signed(key, "PUT", pcPath(name, version), {}))).message).toBe(
      "1 validation error detected: Value null at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
    );
    expect((await errorOf(await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: "2" }))).type).toBe("InvalidRequestContentException");
    expect((await errorOf(await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1, Extra: 1 }))).type).toBe(
      "InvalidRequestContentException",
    );
    await expectNoConfig(version);
  });

  it("requires a qualifier", async () => {
    for (const method of ["PUT", "GET", "DELETE"]) {
      const res = await signed(key, method, pcPath(name), method === "PUT" ? { ProvisionedConcurrentExecutions: 1 } : undefined);
      expect(await errorOf(res)).toEqual({
        status: 400,
        type: "ValidationException",
        message: "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
      });
    }
  });

  it("answers 404 for a function, version or alias that does not exist", async () => {
    const arn = `arn:aws:lambda:us-east-1:${key.accountId}:function`;
    for (const method of ["PUT", "GET", "DELETE"]) {
      const body = method === "PUT" ? { ProvisionedConcurrentExecutions: 1 } : undefined;
      expect(await errorOf(await signed(key, method, pcPath("nope", "1"), body))).toEqual({ status: 404, type: "ResourceNotFoundException", message: `Function not found: ${arn}:nope` });
      expect(await errorOf(await signed(key, method, pcPath(name, "99"), body))).toEqual({
        status: 404,
        type: "ResourceNotFoundException",
        message: `Function not found: ${arn}:${name}:99`,
      });
      expect(await errorOf(await signed(key, method, pcPath(name, "ghost"), body))).toEqual({
        status: 404,
        type: "ResourceNotFoundException",
        message: `Cannot find alias arn: ${arn}:${name}:ghost`,
      });
    }
    expect(await errorOf(await signed(key, "GET", `${pcPath("nope")}?List=ALL`))).toEqual({ status: 404, type: "ResourceNotFoundException", message: `Function not found: ${arn}:nope` });
  });

  it("refuses an alias on a provisioned version and a version under a provisioned alias (409)", async () => {
    expect((await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1 })).status).toBe(202);
    expect(await errorOf(await signed(key, "PUT", pcPath(name, "live"), { ProvisionedConcurrentExecutions: 1 }))).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
    });
    await expectNoConfig("live");
    expect((await signed(key, "DELETE", pcPath(name, version))).status).toBe(204);
    expect((await signed(key, "PUT", pcPath(name, "live"), { ProvisionedConcurrentExecutions: 1 })).status).toBe(202);
    expect(await errorOf(await signed(key, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1 }))).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: "Version is pointed by a Provisioned Concurrency alias",
    });
    expect((await signed(key, "DELETE", pcPath(name, "live"))).status).toBe(204);
  });

  it("counts against the function's reserved concurrency", async () => {
    expect((await signed(key, "PUT", `/2017-10-31/functions/${name}/concurrency`, { ReservedConcurrentExecutions: 3 })).status).toBe(200);
    expect((await signed(key, "PUT", pcPath(name, "live"), { ProvisionedConcurrentExecutions: 2 })).status).toBe(202);
    expect(await errorOf(await signed(key, "PUT", pcPath(name, "live"), { ProvisionedConcurrentExecutions: 4 }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
    });
    // Nothing half-applied: the config keeps its 2.
    const kept = await (await signed(key, "GET", pcPath(name, "live"))).json<Record<string, unknown>>();
    expect(kept.RequestedProvisionedConcurrentExecutions).toBe(2);
    expect((await signed(key, "DELETE", pcPath(name, "live"))).status).toBe(204);
    expect((await signed(key, "DELETE", `/2017-10-31/functions/${name}/concurrency`)).status).toBe(204);
  });

  it("counts against the account's unreserved concurrency and its minimum", async () => {
    const small = await newTenant();
    expect((await admin("PATCH", `/tenants/${small.tenantId}`, { concurrencyLimit: 20 })).status).toBe(200);
    const small2 = { ...small };
    const fnName = unique("pc-acct");
    const v = await createPublished(small2, fnName);
    expect(await errorOf(await signed(small2, "PUT", pcPath(fnName, v), { ProvisionedConcurrentExecutions: 21 }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [20].",
    });
    expect(await errorOf(await signed(small2, "PUT", pcPath(fnName, v), { ProvisionedConcurrentExecutions: 19 }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].",
    });
    expect((await signed(small2, "PUT", pcPath(fnName, v), { ProvisionedConcurrentExecutions: 18 })).status).toBe(202);
  });

  it("refuses functions in tenant isolation mode", async () => {
    const isolated = unique("pc-iso");
    const v = await createPublished(key, isolated, HANDLER, { TenancyConfig: { TenantIsolationMode: "PER_TENANT" } });
    expect(await errorOf(await signed(key, "PUT", pcPath(isolated, v), { ProvisionedConcurrentExecutions: 1 }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Provisioned Concurrency Configs cannot be applied to functions with tenant isolation mode (TenancyConfig PER_TENANT).",
    });
    const list = await (await signed(key, "GET", `${pcPath(isolated)}?List=ALL`)).json<{ ProvisionedConcurrencyConfigs: unknown[] }>();
    expect(list.ProvisionedConcurrencyConfigs).toEqual([]);
  });

  it("refuses Put and Delete to an invoke-only key", async () => {
    const invokeOnly = { ...key, ...(await addKey(key.tenantId, "invoke")) };
    expect((await errorOf(await signed(invokeOnly, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1 }))).type).toBe("AccessDeniedException");
    expect((await errorOf(await signed(invokeOnly, "DELETE", pcPath(name, version)))).type).toBe("AccessDeniedException");
    await expectNoConfig(version);
  });
});

describe("tenant isolation", () => {
  it("never lets tenant B read, change, list or learn of tenant A's configs", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const name = unique("pc-tenant");
    const version = await createPublished(a, name);
    expect((await signed(a, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 1 })).status).toBe(202);
    const missing = `Function not found: arn:aws:lambda:us-east-1:${b.accountId}:function:${name}`;
    expect(await errorOf(await signed(b, "GET", pcPath(name, version)))).toEqual({ status: 404, type: "ResourceNotFoundException", message: missing });
    expect(await errorOf(await signed(b, "GET", `${pcPath(name)}?List=ALL`))).toEqual({ status: 404, type: "ResourceNotFoundException", message: missing });
    expect(await errorOf(await signed(b, "PUT", pcPath(name, version), { ProvisionedConcurrentExecutions: 5 }))).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: missing,
    });
    expect(await errorOf(await signed(b, "DELETE", pcPath(name, version)))).toEqual({ status: 404, type: "ResourceNotFoundException", message: missing });
    // A's ARN from B's key: the empty 403 of another account.
    const arn = encodeURIComponent(`arn:aws:lambda:us-east-1:${a.accountId}:function:${name}`);
    for (const method of ["GET", "PUT", "DELETE"]) {
      const body = method === "PUT" ? { ProvisionedConcurrentExecutions: 1 } : undefined;
      expect(await errorOf(await signed(b, method, `/2019-09-30/functions/${arn}/provisioned-concurrency?Qualifier=${version}`, body))).toEqual({
        status: 403,
        type: "AccessDeniedException",
        message: "",
      });
    }

    // B's own function of the same name is B's alone.
    const bVersion = await createPublished(b, name);
    expect((await errorOf(await signed(b, "GET", pcPath(name, bVersion)))).type).toBe("ProvisionedConcurrencyConfigNotFoundException");
    const kept = await (await signed(a, "GET", pcPath(name, version))).json<Record<string, unknown>>();
    expect(kept.RequestedProvisionedConcurrentExecutions).toBe(1);
  });
});

describe("initialise (the runtime's init phase ahead of traffic)", () => {
  const files = {
    "index.js": `
      console.log("init", process.env.AWS_LAMBDA_INITIALIZATION_TYPE);
      if (process.env.BREAK === "1") throw new TypeError("bad module");
      let calls = 0;
      const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
      exports.handler = async () => ({ calls: ++calls, initType });`,
  };
  const request = (): InvocationRequest => ({
    requestId: crypto.randomUUID(),
    payload: "",
    functionName: "pc-fn",
    functionVersion: "1",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:pc-fn:1",
    memoryLimitInMB: 128,
    timeoutSeconds: 3,
    logGroupName: "/aws/lambda/pc-fn",
    logStreamName: "2026/01/01/[1]0123456789abcdef0123456789abcdef",
  });
  const environment = async (variables: Record<string, string> = {}): Promise<ExecutionEnvironment> => {
    const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64(files), "index.handler");
    return {
      id: `pc-init-${crypto.randomUUID()}`,
      loadBundle: async () => bundle,
      environment: variables,
      egress: null,
      runtime: "nodejs22.x",
      handler: "index.handler",
      initializationType: "provisioned-concurrency",
    };
  };

  it("runs the init phase once; a second call finds it done; the first invocation is warm", async () => {
    const pc = await environment();
    const first = await initialise(env.LOADER, pc, request());
    expect(first).toMatchObject({ kind: "initialised", lines: [expect.stringContaining("INFO\tinit provisioned-concurrency")] });
    expect(await initialise(env.LOADER, pc, request())).toEqual({ kind: "already" });
    const result = await invoke(env.LOADER, { ...pc, warm: true }, { ...request(), payload: "{}" });
    expect(JSON.parse(result.payload)).toEqual({ calls: 1, initType: "provisioned-concurrency" });
    expect(result.initDurationMs).toBeUndefined();
    expect(result.log).not.toContain("Init Duration");
  });

  it("reports the function's init error as a failure", async () => {
    const outcome = await initialise(env.LOADER, await environment({ BREAK: "1" }), request());
    expect(outcome).toMatchObject({ kind: "failed", error: { errorType: "TypeError", errorMessage: "bad module" } });
  });
});
