/**
 * The control plane end to end, as a user would drive it: an operator creates
 * tenants and keys through the admin API, then tenants use the real
 * @aws-sdk/client-lambda against `wrangler dev`.
 */
import { createHash } from "node:crypto";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminFetch,
  createKey,
  createTenantWithKey,
  lambdaClient,
  type Platform,
  startPlatform,
  type TenantCredentials,
  untilActive,
  untilUpdated,
} from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";

function zipOf(source: string): Uint8Array {
  // Fixed mtime so the same source always gives the same bytes.
  return zipSync({ "index.js": [strToU8(source), { mtime: new Date("2024-01-01T00:00:00Z") }] });
}

const sha256b64 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");

const ZIP_V1 = zipOf("exports.handler = async (e) => ({ ok: true, e });\n");
const ZIP_V2 = zipOf("exports.handler = async (e) => ({ ok: true, version: 2, e });\n");

function createInput(name: string, overrides: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return {
    FunctionName: name,
    Role: ROLE,
    Runtime: "nodejs22.x",
    Handler: "index.handler",
    Code: { ZipFile: ZIP_V1 },
    ...overrides,
  };
}

/** Resolves to the error the SDK threw; fails the test if the call succeeded. */
async function sdkError(call: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return call.then(
    (result) => {
      throw new Error(`expected the call to fail, it returned ${JSON.stringify(result)}`);
    },
    (err: unknown) => err as Error & { $metadata?: { httpStatusCode?: number } },
  );
}

async function expectSdkError(call: Promise<unknown>, name: string, status: number): Promise<void> {
  const err = await sdkError(call);
  expect({ name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }).toMatchObject({ name, status });
}

describe("control plane through the AWS SDK", () => {
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
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await platform?.stop();
  });

  it("admin API created the tenant with a 12-digit account id", async () => {
    expect(acme.accountId).toMatch(/^\d{12}$/);
    const res = await adminFetch(platform, "GET", `/admin/tenants/${acme.tenantId}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ tenantId: acme.tenantId, name: "acme", accountId: acme.accountId });
  });

  it("CreateFunction returns the function configuration", async () => {
    const out = await lambda.send(new CreateFunctionCommand(createInput("hello")));
    expect(out.$metadata.httpStatusCode).toBe(201);
    expect(out).toMatchObject({ State: "Pending", StateReasonCode: "Creating" });
    await untilActive(lambda, "hello");
    expect(out).toMatchObject({
      FunctionName: "hello",
      FunctionArn: arn("hello"),
      CodeSha256: sha256b64(ZIP_V1),
      CodeSize: ZIP_V1.byteLength,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Role: ROLE,
      Timeout: 3,
      MemorySize: 128,
      Version: "$LATEST",
    });
  });

  it("GetFunction and GetFunctionConfiguration return it", async () => {
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: "hello" }));
    expect(got.Configuration).toMatchObject({
      FunctionName: "hello",
      FunctionArn: arn("hello"),
      CodeSha256: sha256b64(ZIP_V1),
      CodeSize: ZIP_V1.byteLength,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Timeout: 3,
      MemorySize: 128,
      Version: "$LATEST",
    });
    expect(got.Code?.RepositoryType).toBe("S3");
    // Code.Location downloads the package, as the presigned S3 URL does: no credentials.
    const download = await fetch(got.Code?.Location ?? "");
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(ZIP_V1))).toBe(true);

    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "hello" }));
    expect(config).toMatchObject({
      FunctionName: "hello",
      FunctionArn: arn("hello"),
      CodeSha256: sha256b64(ZIP_V1),
      Version: "$LATEST",
    });
  });

  it("accepts the function name as a partial ARN and as a full ARN", async () => {
    const partial = await lambda.send(
      new GetFunctionCommand({ FunctionName: `${acme.accountId}:function:hello` }),
    );
    expect(partial.Configuration?.FunctionArn).toBe(arn("hello"));
    const full = await lambda.send(new GetFunctionCommand({ FunctionName: arn("hello") }));
    expect(full.Configuration?.FunctionName).toBe("hello");
  });

  it("ListFunctions pages with MaxItems and NextMarker", async () => {
    // A tenant of its own so exactly three functions exist.
    const lister = await createTenantWithKey(platform, "lister");
    const listerLambda = client(lister);
    const names = ["list-a", "list-b", "list-c"];
    for (const name of names) await listerLambda.send(new CreateFunctionCommand(createInput(name)));
    for (const name of names) await untilActive(listerLambda, name);

    const pages: string[][] = [];
    let marker: string | undefined;
    do {
      const page = await listerLambda.send(new ListFunctionsCommand({ MaxItems: 1, Marker: marker }));
      pages.push((page.Functions ?? []).map((f) => f.FunctionName!));
      marker = page.NextMarker;
      expect(pages.length, "too many pages").toBeLessThanOrEqual(names.length + 1);
    } while (marker);

    expect(pages).toHaveLength(3);
    for (const page of pages) expect(page).toHaveLength(1);
    expect(pages.flat().sort()).toEqual(names);

    const all = await listerLambda.send(new ListFunctionsCommand({}));
    expect(all.Functions?.map((f) => f.FunctionName).sort()).toEqual(names);
    expect(all.NextMarker).toBeUndefined();
  });

  it("UpdateFunctionConfiguration and UpdateFunctionCode stick", async () => {
    await lambda.send(new CreateFunctionCommand(createInput("mutable")));
    await untilActive(lambda, "mutable");

    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: "mutable",
        Timeout: 30,
        MemorySize: 256,
        Environment: { Variables: { GREETING: "hello", MODE: "test" } },
      }),
    );
    expect(updated).toMatchObject({
      Timeout: 30,
      MemorySize: 256,
      Environment: { Variables: { GREETING: "hello", MODE: "test" } },
      LastUpdateStatus: "InProgress",
    });
    await untilUpdated(lambda, "mutable");
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "mutable" }));
    expect(config).toMatchObject({
      Timeout: 30,
      MemorySize: 256,
      Environment: { Variables: { GREETING: "hello", MODE: "test" } },
      CodeSha256: sha256b64(ZIP_V1),
    });

    const code = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "mutable", ZipFile: ZIP_V2 }));
    expect(code.CodeSha256).toBe(sha256b64(ZIP_V2));
    expect(code.CodeSha256).not.toBe(sha256b64(ZIP_V1));
    expect(code.CodeSize).toBe(ZIP_V2.byteLength);
    await untilUpdated(lambda, "mutable");
    const after = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "mutable" }));
    expect(after).toMatchObject({ CodeSha256: sha256b64(ZIP_V2), CodeSize: ZIP_V2.byteLength, Timeout: 30, MemorySize: 256 });
  });

  it("publishes versions and manages aliases with weighted routing", async () => {
    await lambda.send(new CreateFunctionCommand(createInput("versioned")));
    await untilActive(lambda, "versioned");

    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    expect(v1).toMatchObject({ Version: "1", FunctionArn: arn("versioned", "1"), CodeSha256: sha256b64(ZIP_V1) });

    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "versioned" }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(["$LATEST", "1"]);

    // name:version form
    const qualified = await lambda.send(new GetFunctionCommand({ FunctionName: "versioned:1" }));
    expect(qualified.Configuration).toMatchObject({ Version: "1", FunctionArn: arn("versioned", "1") });

    const alias = await lambda.send(
      new CreateAliasCommand({ FunctionName: "versioned", Name: "live", FunctionVersion: "1" }),
    );
    expect(alias).toMatchObject({ Name: "live", FunctionVersion: "1", AliasArn: arn("versioned", "live") });

    // Publishing needs a change since version 1.
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "versioned", ZipFile: ZIP_V2 }));
    await untilUpdated(lambda, "versioned");
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    expect(v2).toMatchObject({ Version: "2", CodeSha256: sha256b64(ZIP_V2) });

    const routed = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: "versioned",
        Name: "live",
        RoutingConfig: { AdditionalVersionWeights: { "2": 0.25 } },
      }),
    );
    expect(routed).toMatchObject({
      Name: "live",
      FunctionVersion: "1",
      RoutingConfig: { AdditionalVersionWeights: { "2": 0.25 } },
    });

    const got = await lambda.send(new GetAliasCommand({ FunctionName: "versioned", Name: "live" }));
    expect(got).toMatchObject({
      Name: "live",
      FunctionVersion: "1",
      AliasArn: arn("versioned", "live"),
      RoutingConfig: { AdditionalVersionWeights: { "2": 0.25 } },
    });

    const listed = await lambda.send(new ListAliasesCommand({ FunctionName: "versioned" }));
    expect(listed.Aliases).toHaveLength(1);
    expect(listed.Aliases?.[0]).toMatchObject({ Name: "live", FunctionVersion: "1" });

    const deleted = await lambda.send(new DeleteAliasCommand({ FunctionName: "versioned", Name: "live" }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    await expectSdkError(
      lambda.send(new GetAliasCommand({ FunctionName: "versioned", Name: "live" })),
      "ResourceNotFoundException",
      404,
    );
    const none = await lambda.send(new ListAliasesCommand({ FunctionName: "versioned" }));
    expect(none.Aliases ?? []).toEqual([]);
  });

  it("reserved concurrency and account settings", async () => {
    const put = await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: "hello", ReservedConcurrentExecutions: 5 }),
    );
    expect(put.ReservedConcurrentExecutions).toBe(5);
    const got = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: "hello" }));
    expect(got.ReservedConcurrentExecutions).toBe(5);

    const functions = await lambda.send(new ListFunctionsCommand({}));
    const functionCount = functions.Functions?.length ?? 0;
    expect(functionCount).toBeGreaterThanOrEqual(1);

    const reserved = await lambda.send(new GetAccountSettingsCommand({}));
    expect(reserved.AccountLimit?.ConcurrentExecutions).toBe(1000);
    expect(reserved.AccountLimit?.UnreservedConcurrentExecutions).toBe(995);
    expect(reserved.AccountUsage?.FunctionCount).toBe(functionCount);

    const del = await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "hello" }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    const cleared = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: "hello" }));
    expect(cleared.ReservedConcurrentExecutions).toBeUndefined();

    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit?.ConcurrentExecutions).toBe(1000);
    expect(settings.AccountLimit?.UnreservedConcurrentExecutions).toBe(1000);
    expect(settings.AccountUsage?.FunctionCount).toBe(functionCount);
  });

  describe("errors as the SDK surfaces them", () => {
    it("ResourceNotFoundException for a missing function", async () => {
      const err = await sdkError(lambda.send(new GetFunctionCommand({ FunctionName: "does-not-exist" })));
      expect(err.name).toBe("ResourceNotFoundException");
      expect(err.$metadata?.httpStatusCode).toBe(404);
    });

    it("ResourceConflictException on a duplicate create", async () => {
      await expectSdkError(lambda.send(new CreateFunctionCommand(createInput("hello"))), "ResourceConflictException", 409);
    });

    it("InvalidParameterValueException for Timeout 901", async () => {
      await expectSdkError(
        lambda.send(new CreateFunctionCommand(createInput("too-slow", { Timeout: 901 }))),
        "InvalidParameterValueException",
        400,
      );
      await expectSdkError(
        lambda.send(new GetFunctionCommand({ FunctionName: "too-slow" })),
        "ResourceNotFoundException",
        404,
      );
    });

    it("another tenant cannot see the function", async () => {
      const globex = await createTenantWithKey(platform, "globex");
      expect(globex.accountId).not.toBe(acme.accountId);
      const other = client(globex);
      await expectSdkError(other.send(new GetFunctionCommand({ FunctionName: "hello" })), "ResourceNotFoundException", 404);
      const listed = await other.send(new ListFunctionsCommand({}));
      expect(listed.Functions ?? []).toEqual([]);
    });

    it("an invoke-only key gets AccessDeniedException on CreateFunction", async () => {
      const invoker = client(await createKey(platform, acme.tenantId, "invoker", "invoke"));
      await expectSdkError(
        invoker.send(new CreateFunctionCommand(createInput("not-allowed"))),
        "AccessDeniedException",
        403,
      );
      await expectSdkError(
        lambda.send(new GetFunctionCommand({ FunctionName: "not-allowed" })),
        "ResourceNotFoundException",
        404,
      );
    });

    it("a revoked key is refused within 5 s", async () => {
      const key = await createKey(platform, acme.tenantId, "doomed", "full");
      const doomed = client(key);
      await doomed.send(new ListFunctionsCommand({})); // works (and warms any key cache)

      const del = await adminFetch(platform, "DELETE", `/admin/tenants/${acme.tenantId}/keys/${key.accessKeyId}`);
      expect(del.status, del.text).toBe(204);
      const keys = await adminFetch(platform, "GET", `/admin/tenants/${acme.tenantId}/keys`);
      expect(keys.status, keys.text).toBe(200);
      expect(keys.text).not.toContain(key.accessKeyId);
      expect(keys.text).not.toContain(acme.secretAccessKey);

      const deadline = Date.now() + 5_000;
      let last: unknown = "the call kept succeeding";
      while (Date.now() < deadline) {
        try {
          await doomed.send(new ListFunctionsCommand({}));
        } catch (err) {
          last = err;
          if ((err as Error).name === "UnrecognizedClientException") break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const err = last as Error & { $metadata?: { httpStatusCode?: number } };
      expect(err.name, String(err)).toBe("UnrecognizedClientException");
      expect(err.$metadata?.httpStatusCode).toBe(403);
    });
  });

  it("curl-style: lists functions with Authorization: Bearer <token>", async () => {
    for (const path of ["/2015-03-31/functions", "/2015-03-31/functions/"]) {
      const res = await fetch(`${platform.url}${path}`, {
        headers: { authorization: `Bearer ${acme.token}` },
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      expect(res.status, `${path}: ${text}`).toBe(200);
      const body = JSON.parse(text) as { Functions: { FunctionName: string; FunctionArn: string }[] };
      expect(body.Functions.map((f) => f.FunctionName)).toContain("hello");
      expect(body.Functions.find((f) => f.FunctionName === "hello")?.FunctionArn).toBe(arn("hello"));
    }
    const refused = await fetch(`${platform.url}/2015-03-31/functions`, {
      headers: { authorization: "Bearer not-a-real-token" },
      signal: AbortSignal.timeout(30_000),
    });
    expect([401, 403]).toContain(refused.status);
  });

  it("Lambda's control-plane rate: past 15 ListFunctions a second the SDK gets TooManyRequestsException, and its retries get through", async () => {
    const limited = await createTenantWithKey(platform, "rate-limited", "full", { apiRequestRate: 15 });
    const once = client(limited);
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => once.send(new ListFunctionsCommand({}))));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error & { Reason?: string; $metadata?: { httpStatusCode?: number } }] : []));
    expect(results.length - refused.length).toBeGreaterThanOrEqual(15);
    expect(refused.length).toBeGreaterThan(0);
    for (const err of refused) {
      expect({ name: err.name, message: err.message, reason: err.Reason, status: err.$metadata?.httpStatusCode }).toEqual({
        name: "TooManyRequestsException",
        message: "Rate exceeded",
        reason: "CallerRateLimitExceeded",
        status: 429,
      });
    }
    // The SDK's standard retry backs off from the throttle: one call after another, all answered.
    await new Promise((r) => setTimeout(r, 1100));
    const retrying = lambdaClient(platform, limited, { maxAttempts: 5 });
    clients.push(retrying);
    for (let i = 0; i < 25; i++) expect((await retrying.send(new ListFunctionsCommand({}))).Functions).toEqual([]);
  });

  it("DeleteFunction removes it", async () => {
    await lambda.send(new CreateFunctionCommand(createInput("short-lived")));
    const del = await lambda.send(new DeleteFunctionCommand({ FunctionName: "short-lived" }));
    // AWS answers 204; the current service model lists 200 (with an optional body).
    expect([200, 204]).toContain(del.$metadata.httpStatusCode);
    await expectSdkError(
      lambda.send(new GetFunctionCommand({ FunctionName: "short-lived" })),
      "ResourceNotFoundException",
      404,
    );
  });
});
