import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeZip, makeZipBase64 } from "../fixtures/zips";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, errorOf, fn, newTenant, ROLE, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Function states and update statuses (issue 12 item 1). Expected answers
 * come from AWS's recorded responses: LocalStack's AWS-validated snapshots
 * (tests/aws/services/lambda_/test_lambda_api.snapshot.json,
 * "test_function_lifecycle" and "test_lambda_code_location_zipfile") and real
 * CLI output quoted in public write-ups (found with the search tool, query
 * `"StateReasonCode": "Creating"`):
 * - CreateFunction: `"State": "Pending", "StateReason": "The function is being created.",
 *   "StateReasonCode": "Creating"` and no LastUpdateStatus;
 * - Update*: `"State": "Active", "LastUpdateStatus": "InProgress",
 *   "LastUpdateStatusReason": "The function is being created.", "LastUpdateStatusReasonCode": "Creating"`;
 * - settled: `"State": "Active", "LastUpdateStatus": "Successful"`;
 * - 409 messages: "The operation cannot be performed at this time. An update is in progress
 *   for resource: <unqualified arn>" and "... The function is currently in the following state: Pending"
 *   (LocalStack's lambda provider, the AWS PHP SDK's retry middleware that matches both).
 */

type Config = Record<string, unknown> & { RevisionId: string; CodeSha256: string };

const V1 = { "index.js": "exports.handler = async () => ({ version: 1 });" };
const V2 = { "index.js": "exports.handler = async () => ({ version: 2 });" };
const BROKEN = { "index.js": "exports.handler = async () => ({ version: ;" };

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return btoa(String.fromCharCode(...digest));
}

async function invokeVersion(key: TenantKey, name: string): Promise<unknown> {
  const res = await signed(key, "POST", `${fn(name)}/invocations`, "{}");
  expect(res.status).toBe(200);
  return res.json();
}

/** Puts a row in a state directly (deterministic: the real transitions can finish within milliseconds). */
async function forceState(key: TenantKey, name: string, sql: string): Promise<void> {
  await env.DB.prepare(`UPDATE function_versions SET ${sql} WHERE tenant_id = ? AND function_name = ? AND version = '$LATEST'`)
    .bind(key.tenantId, name)
    .run();
}

describe("function states", () => {
  let key: TenantKey;
  let arn: (name: string) => string;

  beforeAll(async () => {
    key = await newTenant();
    arn = (name) => `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}`;
  });

  it("CreateFunction answers Pending with AWS's full body, then the function becomes Active", async () => {
    const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("states-create", V1));
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
    const created = await res.json<Config>();
    expect(created).toEqual({
      FunctionName: "states-create",
      FunctionArn: arn("states-create"),
      Runtime: "nodejs22.x",
      Role: ROLE,
      Handler: "index.handler",
      CodeSize: makeZip(V1).byteLength,
      Description: "",
      Timeout: 3,
      MemorySize: 128,
      LastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
      CodeSha256: await sha256Base64(makeZip(V1)),
      Version: "$LATEST",
      TracingConfig: { Mode: "PassThrough" },
      RevisionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      State: "Pending",
      StateReason: "The function is being created.",
      StateReasonCode: "Creating",
      PackageType: "Zip",
      Architectures: ["x86_64"],
      EphemeralStorage: { Size: 512 },
      SnapStart: { ApplyOn: "None", OptimizationStatus: "Off" },
      RuntimeVersionConfig: { RuntimeVersionArn: expect.stringMatching(/^arn:aws:lambda:us-east-1::runtime:/) },
      LoggingConfig: { LogFormat: "Text", LogGroup: "/aws/lambda/states-create" },
    });

    const settled = await waitUntilSettled(key, "states-create");
    expect(settled).toMatchObject({ State: "Active", LastUpdateStatus: "Successful", CodeSha256: created.CodeSha256 });
    expect(settled).not.toHaveProperty("StateReason");
    // The transition is a change: a new RevisionId (AWS: the revision read after the wait differs from CreateFunction's).
    expect(settled.RevisionId).not.toBe(created.RevisionId);
    expect(await invokeVersion(key, "states-create")).toEqual({ version: 1 });
  });

  it("a create whose code cannot be bundled ends Failed with the reason, and cannot be published", async () => {
    const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("states-broken", BROKEN));
    expect(res.status).toBe(201);
    const settled = await waitUntilSettled(key, "states-broken");
    expect(settled).toMatchObject({
      State: "Failed",
      StateReasonCode: "InvalidZipFileException",
      LastUpdateStatus: "Failed",
      LastUpdateStatusReasonCode: "InvalidZipFileException",
    });
    expect(String(settled.StateReason)).toContain("index.js");
    const publish = await signed(key, "POST", `${fn("states-broken")}/versions`, {});
    expect(await errorOf(publish)).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: "The operation cannot be performed at this time. The function is currently in the following state: Failed",
    });
    // Fixing the code makes it Active.
    const fixed = await signed(key, "PUT", `${fn("states-broken")}/code`, { ZipFile: makeZipBase64(V2) });
    expect(fixed.status).toBe(200);
    expect(await fixed.json()).toMatchObject({ State: "Failed", LastUpdateStatus: "InProgress" });
    expect(await waitUntilSettled(key, "states-broken")).toMatchObject({ State: "Active", LastUpdateStatus: "Successful" });
    expect(await invokeVersion(key, "states-broken")).toEqual({ version: 2 });
  });

  it("UpdateFunctionCode answers InProgress with the new code, then Successful; the new code runs", async () => {
    const before = await createActive(key, createFunctionBody("states-update", V1));
    const res = await signed(key, "PUT", `${fn("states-update")}/code`, { ZipFile: makeZipBase64(V2) });
    expect(res.status).toBe(200);
    const updating = await res.json<Config>();
    expect(updating).toMatchObject({
      State: "Active",
      LastUpdateStatus: "InProgress",
      LastUpdateStatusReason: "The function is being created.",
      LastUpdateStatusReasonCode: "Creating",
      CodeSha256: await sha256Base64(makeZip(V2)),
      CodeSize: makeZip(V2).byteLength,
    });
    expect(updating.RevisionId).not.toBe(before.RevisionId);
    const settled = await waitUntilSettled(key, "states-update");
    expect(settled).toMatchObject({ State: "Active", LastUpdateStatus: "Successful", CodeSha256: updating.CodeSha256 });
    expect(settled).not.toHaveProperty("LastUpdateStatusReason");
    expect(settled.RevisionId).not.toBe(updating.RevisionId);
    expect(await invokeVersion(key, "states-update")).toEqual({ version: 2 });
  });

  it("UpdateFunctionConfiguration answers InProgress with the new settings, then Successful", async () => {
    await createActive(key, createFunctionBody("states-config", V1));
    const res = await signed(key, "PUT", `${fn("states-config")}/configuration`, { Timeout: 9 });
    expect(await res.json()).toMatchObject({ Timeout: 9, State: "Active", LastUpdateStatus: "InProgress" });
    expect(await waitUntilSettled(key, "states-config")).toMatchObject({ Timeout: 9, LastUpdateStatus: "Successful" });
  });

  it("a failed update keeps the previous code and configuration running, with LastUpdateStatus Failed", async () => {
    const before = await createActive(key, createFunctionBody("states-fail", V1));
    const res = await signed(key, "PUT", `${fn("states-fail")}/code`, { ZipFile: makeZipBase64(BROKEN) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ LastUpdateStatus: "InProgress", CodeSha256: await sha256Base64(makeZip(BROKEN)) });
    const settled = await waitUntilSettled(key, "states-fail");
    expect(settled).toMatchObject({
      State: "Active",
      LastUpdateStatus: "Failed",
      LastUpdateStatusReasonCode: "InvalidZipFileException",
      CodeSha256: before.CodeSha256,
    });
    expect(settled).not.toHaveProperty("StateReason");
    expect(await invokeVersion(key, "states-fail")).toEqual({ version: 1 });
  });

  it("while an update is in progress, a second update and PublishVersion get AWS's 409", async () => {
    const before = await createActive(key, createFunctionBody("states-busy", V1));
    await forceState(key, "states-busy", `last_update_status = 'InProgress', transition_started_at = ${Date.now()}`);
    const expected = {
      status: 409,
      type: "ResourceConflictException",
      message: `The operation cannot be performed at this time. An update is in progress for resource: ${arn("states-busy")}`,
    };
    expect(await errorOf(await signed(key, "PUT", `${fn("states-busy")}/code`, { ZipFile: makeZipBase64(V2) }))).toEqual(expected);
    expect(await errorOf(await signed(key, "PUT", `${fn("states-busy")}/configuration`, { Timeout: 5 }))).toEqual(expected);
    // The state is checked before the revision (AWS answers 409 whatever RevisionId says).
    expect(await errorOf(await signed(key, "POST", `${fn("states-busy")}/versions`, { RevisionId: "stale" }))).toEqual(expected);
    // Nothing changed meanwhile.
    expect(await signed(key, "GET", `${fn("states-busy")}/versions`).then((r) => r.json())).toMatchObject({ Versions: [{ Version: "$LATEST" }] });

    // A transition that never finished (its isolate died) reads as failed and no longer blocks.
    await forceState(key, "states-busy", `transition_started_at = ${Date.now() - 6 * 60_000}`);
    expect(await waitUntilSettled(key, "states-busy")).toMatchObject({ LastUpdateStatus: "Failed", LastUpdateStatusReasonCode: "InternalError", CodeSha256: before.CodeSha256 });
    expect((await signed(key, "PUT", `${fn("states-busy")}/configuration`, { Timeout: 5 })).status).toBe(200);
  });

  it("while the function is being created, updates and PublishVersion get 409 naming the Pending state", async () => {
    await createActive(key, createFunctionBody("states-pending", V1));
    await forceState(key, "states-pending", `state = 'Pending', last_update_status = NULL, transition_started_at = ${Date.now()}`);
    const expected = {
      status: 409,
      type: "ResourceConflictException",
      message: "The operation cannot be performed at this time. The function is currently in the following state: Pending",
    };
    expect(await errorOf(await signed(key, "PUT", `${fn("states-pending")}/configuration`, { Timeout: 5 }))).toEqual(expected);
    expect(await errorOf(await signed(key, "POST", `${fn("states-pending")}/versions`, {}))).toEqual(expected);
    const shown = await signed(key, "GET", `${fn("states-pending")}/configuration`).then((r) => r.json<Config>());
    expect(shown).toMatchObject({ State: "Pending", StateReasonCode: "Creating" });
    expect(shown).not.toHaveProperty("LastUpdateStatus");
  });

  it("PublishVersion gives $LATEST a new RevisionId; the version is Active", async () => {
    const before = await createActive(key, createFunctionBody("states-publish", V1));
    const res = await signed(key, "POST", `${fn("states-publish")}/versions`, {});
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ Version: "1", State: "Active", LastUpdateStatus: "Successful" });
    const after = await signed(key, "GET", `${fn("states-publish")}/configuration`).then((r) => r.json<Config>());
    expect(after.RevisionId).not.toBe(before.RevisionId);
    // An old revision is refused after the publish.
    const stale = await signed(key, "PUT", `${fn("states-publish")}/configuration`, { Timeout: 5, RevisionId: before.RevisionId });
    expect((await errorOf(stale)).type).toBe("PreconditionFailedException");
  });

  it("UpdateFunctionCode with Publish waits for the code and answers the new version", async () => {
    await createActive(key, createFunctionBody("states-codepub", V1));
    const res = await signed(key, "PUT", `${fn("states-codepub")}/code`, { ZipFile: makeZipBase64(V2), Publish: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ Version: "1", State: "Active", CodeSha256: await sha256Base64(makeZip(V2)) });
  });
});

/**
 * PublishVersion with nothing changed (issue 12 item 2). AWS-validated in LocalStack's
 * test_lambda_api snapshots (TestLambdaVersions::test_version_lifecycle,
 * test_publish_with_update): publishing an unchanged $LATEST returns the newest version,
 * whatever Description the call gives; a change to $LATEST (its code or any setting,
 * its own Description included) makes the next publish a new version.
 */
describe("versions", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
  });

  it("a Description given to PublishVersion alone is no change; a change to $LATEST is", async () => {
    await createActive(key, createFunctionBody("versions-desc", V1));
    const v1 = await signed(key, "POST", `${fn("versions-desc")}/versions`, { Description: "first" }).then((r) => r.json<Config>());
    expect(v1).toMatchObject({ Version: "1", Description: "first" });
    const again = await signed(key, "POST", `${fn("versions-desc")}/versions`, { Description: "second" });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(v1);

    expect((await signed(key, "PUT", `${fn("versions-desc")}/configuration`, { Description: "latest changed" })).status).toBe(200);
    await waitUntilSettled(key, "versions-desc");
    const v2 = await signed(key, "POST", `${fn("versions-desc")}/versions`, {}).then((r) => r.json<Config>());
    expect(v2).toMatchObject({ Version: "2", Description: "latest changed" });
    const listed = await signed(key, "GET", `${fn("versions-desc")}/versions`).then((r) => r.json<{ Versions: Config[] }>());
    expect(listed.Versions.map((v) => v.Version)).toEqual(["$LATEST", "1", "2"]);
  });
});

/**
 * Settings accepted and echoed (issue 12 item 3). LoggingConfig defaults from LocalStack's
 * AWS-validated snapshots (test_lambda_api TestLoggingConfig: JSON adds ApplicationLogLevel
 * and SystemLogLevel "INFO"); Get/PutRuntimeManagementConfig shapes from the service model
 * (lambda-api.md: UpdateRuntimeOn, FunctionArn, RuntimeVersionArn).
 */
describe("settings echoed", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
  });

  it("Architectures arm64 and a JSON LoggingConfig come back complete", async () => {
    const config = await createActive(key, createFunctionBody("echoed", V1, { Architectures: ["arm64"], LoggingConfig: { LogFormat: "JSON" } }));
    expect(config).toMatchObject({
      Architectures: ["arm64"],
      LoggingConfig: { LogFormat: "JSON", LogGroup: "/aws/lambda/echoed", ApplicationLogLevel: "INFO", SystemLogLevel: "INFO" },
    });
    expect((await signed(key, "PUT", `${fn("echoed")}/configuration`, { LoggingConfig: { LogFormat: "Text" } })).status).toBe(200);
    const text = await waitUntilSettled(key, "echoed");
    expect(text.LoggingConfig).toEqual({ LogFormat: "Text", LogGroup: "/aws/lambda/echoed" });
  });

  it("Get/PutRuntimeManagementConfig are accepted and echoed", async () => {
    const path = `/2021-07-20/functions/echoed/runtime-management-config`;
    const arn = `arn:aws:lambda:us-east-1:${key.accountId}:function:echoed`;
    expect(await signed(key, "GET", path).then((r) => r.json())).toEqual({ UpdateRuntimeOn: "Auto", FunctionArn: arn });
    const manual = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef0123456789abcdef";
    const put = await signed(key, "PUT", path, { UpdateRuntimeOn: "Manual", RuntimeVersionArn: manual });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ UpdateRuntimeOn: "Manual", RuntimeVersionArn: manual, FunctionArn: arn });
    expect(await signed(key, "GET", path).then((r) => r.json())).toEqual({ UpdateRuntimeOn: "Manual", RuntimeVersionArn: manual, FunctionArn: arn });
    expect(await signed(key, "GET", `${fn("echoed")}/configuration`).then((r) => r.json())).toMatchObject({ RuntimeVersionConfig: { RuntimeVersionArn: manual } });
    const bad = await errorOf(await signed(key, "PUT", path, { UpdateRuntimeOn: "Sometimes" }));
    expect(bad).toMatchObject({ status: 400, type: "ValidationException" });
    expect(bad.message).toContain("'updateRuntimeOn'");
    const other = await newTenant();
    expect((await errorOf(await signed(other, "GET", `/2021-07-20/functions/${encodeURIComponent(arn)}/runtime-management-config`))).status).toBe(403);
    expect((await errorOf(await signed(other, "GET", path))).status).toBe(404);
  });
});
