/**
 * Function URL management (issue 14, Function URLs): Create / Get / Update /
 * Delete / ListFunctionUrlConfigs on the function and on aliases, AWS's
 * answers and errors (LocalStack's AWS-validated test_lambda_api TestLambdaUrl
 * and test_lambda TestLambdaURL snapshots), and tenant isolation for every route.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { addKey, createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";

const CODE = { "index.js": "exports.handler = async () => 'ok';" };
const url = (name: string, qualifier?: string) => `/2021-10-31/functions/${encodeURIComponent(name)}/url${qualifier === undefined ? "" : `?Qualifier=${encodeURIComponent(qualifier)}`}`;
const urls = (name: string, query = "") => `/2021-10-31/functions/${encodeURIComponent(name)}/urls${query}`;
const URL_SHAPE = /^http:\/\/[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost\/$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;

let key: TenantKey;
let arn: (name: string, qualifier?: string) => string;

beforeAll(async () => {
  key = await newTenant();
  arn = (name, qualifier) => `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
  await createActive(key, createFunctionBody("web", CODE));
  await signed(key, "POST", `${fn("web")}/versions`, {});
  const alias = await signed(key, "POST", `${fn("web")}/aliases`, { Name: "live", FunctionVersion: "1" });
  expect(alias.status).toBe(201);
});

describe("function URL configs", () => {
  it("creates, gets, updates, lists and deletes a URL with AWS's shapes", async () => {
    const created = await signed(key, "POST", url("web"), { AuthType: "NONE" });
    expect(created.status).toBe(201);
    const body = await created.json<Record<string, string>>();
    expect(Object.keys(body).sort()).toEqual(["AuthType", "CreationTime", "FunctionArn", "FunctionUrl"]);
    expect(body).toMatchObject({ AuthType: "NONE", FunctionArn: arn("web") });
    expect(body.FunctionUrl).toMatch(URL_SHAPE);
    expect(body.CreationTime).toMatch(TIME);

    const duplicate = await signed(key, "POST", url("web"), { AuthType: "NONE" });
    expect(await errorOf(duplicate)).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: `Failed to create function url config for [functionArn = ${arn("web")}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
    });

    const got = await signed(key, "GET", url("web")).then((r) => r.json<Record<string, unknown>>());
    expect(got).toEqual({ ...body, LastModifiedTime: body.CreationTime, InvokeMode: "BUFFERED" });

    const cors = { AllowOrigins: ["https://app.example"], AllowMethods: ["GET", "POST"], MaxAge: 300, AllowCredentials: true };
    const updated = await signed(key, "PUT", url("web"), { AuthType: "AWS_IAM", Cors: cors });
    expect(updated.status).toBe(200);
    const after = await updated.json<Record<string, unknown>>();
    expect(after).toMatchObject({ AuthType: "AWS_IAM", Cors: cors, FunctionUrl: body.FunctionUrl, CreationTime: body.CreationTime });
    expect(after).not.toHaveProperty("InvokeMode");

    const streaming = await signed(key, "PUT", url("web"), { InvokeMode: "RESPONSE_STREAM" }).then((r) => r.json<Record<string, unknown>>());
    expect(streaming).toMatchObject({ AuthType: "AWS_IAM", Cors: cors, InvokeMode: "RESPONSE_STREAM" });
    // An empty Cors removes it.
    const cleared = await signed(key, "PUT", url("web"), { Cors: {} }).then((r) => r.json<Record<string, unknown>>());
    expect(cleared).not.toHaveProperty("Cors");
    expect(cleared).toMatchObject({ InvokeMode: "RESPONSE_STREAM" });

    const alias = await signed(key, "POST", url("web", "live"), { AuthType: "NONE", InvokeMode: "BUFFERED" });
    expect(alias.status).toBe(201);
    const aliasBody = await alias.json<Record<string, string>>();
    expect(aliasBody).toMatchObject({ FunctionArn: arn("web", "live"), InvokeMode: "BUFFERED" });
    expect(aliasBody.FunctionUrl).not.toBe(body.FunctionUrl);

    const list = await signed(key, "GET", urls("web")).then((r) => r.json<{ FunctionUrlConfigs: Record<string, unknown>[] }>());
    expect(list.FunctionUrlConfigs.map((c) => c.FunctionArn)).toEqual([arn("web"), arn("web", "live")]);
    const page1 = await signed(key, "GET", urls("web", "?MaxItems=1")).then((r) => r.json<{ FunctionUrlConfigs: Record<string, unknown>[]; NextMarker: string }>());
    expect(page1.FunctionUrlConfigs).toHaveLength(1);
    const page2 = await signed(key, "GET", urls("web", `?MaxItems=1&Marker=${page1.NextMarker}`)).then((r) => r.json<Record<string, unknown>>());
    expect(page2).toEqual({ FunctionUrlConfigs: [expect.objectContaining({ FunctionArn: arn("web", "live") })] });

    // Deleting the unqualified URL leaves the alias's.
    expect((await signed(key, "DELETE", url("web"))).status).toBe(204);
    expect(await errorOf(await signed(key, "GET", url("web")))).toEqual({ status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." });
    expect((await signed(key, "GET", url("web", "live"))).status).toBe(200);
    expect((await signed(key, "DELETE", url("web", "live"))).status).toBe(204);
    expect((await signed(key, "DELETE", url("web", "live"))).status).toBe(404);
    expect(await signed(key, "GET", urls("web")).then((r) => r.json())).toEqual({ FunctionUrlConfigs: [] });
  });

  it("refuses qualifiers that are not alias names, with AWS's messages", async () => {
    for (const [method, body] of [["POST", { AuthType: "NONE" }], ["GET", undefined], ["PUT", { AuthType: "AWS_IAM" }], ["DELETE", undefined]] as const) {
      for (const q of ["1", "2", "$LATEST"]) {
        expect(await errorOf(await signed(key, method, url("web", q), body))).toEqual({
          status: 400,
          type: "ValidationException",
          message: `1 validation error detected: Value '${q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)`,
        });
      }
      const mismatch = await signed(key, method, url("web:live-x", "live"), body);
      expect(await errorOf(mismatch)).toMatchObject({ status: 400, type: "InvalidParameterValueException", message: "The derived qualifier from the function name does not match the specified qualifier." });
    }
  });

  it("answers missing functions, aliases and configs as AWS does", async () => {
    const missing = { status: 404, type: "ResourceNotFoundException", message: "Function does not exist" };
    const noConfig = { status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." };
    expect(await errorOf(await signed(key, "POST", url("nope"), { AuthType: "NONE" }))).toEqual(missing);
    expect(await errorOf(await signed(key, "POST", url(arn("nope")), { AuthType: "NONE" }))).toEqual(missing);
    expect(await errorOf(await signed(key, "POST", url("web", "v9"), { AuthType: "NONE" }))).toEqual(missing);
    expect(await errorOf(await signed(key, "PUT", url("nope"), { AuthType: "NONE" }))).toEqual(missing);
    expect(await errorOf(await signed(key, "GET", urls("nope")))).toEqual(missing);
    expect(await errorOf(await signed(key, "GET", url("nope")))).toEqual(noConfig);
    expect(await errorOf(await signed(key, "GET", url("web", "v9")))).toEqual(noConfig);
    expect(await errorOf(await signed(key, "DELETE", url("nope")))).toEqual(noConfig);
    expect(await errorOf(await signed(key, "PUT", url("web"), { AuthType: "NONE" }))).toEqual(noConfig);
  });

  it("refuses bad bodies and CORS AWS refuses, writing nothing", async () => {
    const bad = [
      [{}, "ValidationException"],
      [{ AuthType: "OPEN" }, "ValidationException"],
      [{ AuthType: "NONE", InvokeMode: "UNKNOWN" }, "ValidationException"],
      [{ AuthType: "NONE", Cors: { MaxAge: 86401 } }, "ValidationException"],
      [{ AuthType: "NONE", Cors: { AllowMethods: ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"] } }, "ValidationException"],
      [{ AuthType: "NONE", Cors: { AllowMethods: ["FETCH"] } }, "ValidationException"],
      [{ AuthType: "NONE", Cors: { AllowOrigins: ["x".repeat(254)] } }, "ValidationException"],
      [{ AuthType: "NONE", Cors: { AllowOrigins: "*" } }, "InvalidRequestContentException"],
      [{ AuthType: "NONE", Cors: { Origins: ["*"] } }, "InvalidRequestContentException"],
      [{ AuthType: "NONE", Extra: 1 }, "InvalidRequestContentException"],
    ] as const;
    for (const [body, type] of bad) {
      const res = await signed(key, "POST", url("web"), body);
      expect((await errorOf(res)).type, JSON.stringify(body)).toBe(type);
    }
    const invokeMode = await signed(key, "POST", url("web"), { AuthType: "NONE", InvokeMode: "UNKNOWN" });
    expect((await errorOf(invokeMode)).message).toBe(
      "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
    );
    expect((await signed(key, "GET", url("web"))).status).toBe(404);
    // An update with bad CORS leaves the URL as it was.
    expect((await signed(key, "POST", url("web"), { AuthType: "NONE", Cors: { MaxAge: 5 } })).status).toBe(201);
    expect((await signed(key, "PUT", url("web"), { AuthType: "AWS_IAM", Cors: { MaxAge: -1 } })).status).toBe(400);
    expect(await signed(key, "GET", url("web")).then((r) => r.json())).toMatchObject({ AuthType: "NONE", Cors: { MaxAge: 5 } });
    expect((await signed(key, "DELETE", url("web"))).status).toBe(204);
  });

  it("drops a URL with its alias or function", async () => {
    await createActive(key, createFunctionBody("short-lived", CODE));
    await signed(key, "POST", `${fn("short-lived")}/aliases`, { Name: "a1", FunctionVersion: "$LATEST" });
    const aliasUrl = await signed(key, "POST", url("short-lived", "a1"), { AuthType: "NONE" }).then((r) => r.json<{ FunctionUrl: string }>());
    expect((await signed(key, "POST", url("short-lived"), { AuthType: "NONE" })).status).toBe(201);
    expect((await signed(key, "DELETE", `${fn("short-lived")}/aliases/a1`)).status).toBe(204);
    expect((await signed(key, "GET", url("short-lived", "a1"))).status).toBe(404);
    expect((await signed(key, "GET", url("short-lived"))).status).toBe(200);
    expect((await signed(key, "DELETE", fn("short-lived"))).status).toBe(204);
    await createActive(key, createFunctionBody("short-lived", CODE));
    expect((await signed(key, "GET", url("short-lived"))).status).toBe(404);
    expect(aliasUrl.FunctionUrl).toMatch(URL_SHAPE);
  });

  it("refuses URLs for tenant-isolation functions", async () => {
    await createActive(key, createFunctionBody("isolated", CODE, { TenancyConfig: { TenantIsolationMode: "PER_TENANT" } }));
    expect(await errorOf(await signed(key, "POST", url("isolated"), { AuthType: "NONE" }))).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
  });

  it("lets an invoke-only key read URLs but not change them", async () => {
    const reader = { ...key, ...(await addKey(key.tenantId, "invoke")) };
    expect((await signed(key, "POST", url("web", "live"), { AuthType: "NONE" })).status).toBe(201);
    expect((await signed(reader, "GET", url("web", "live"))).status).toBe(200);
    expect((await signed(reader, "GET", urls("web"))).status).toBe(200);
    for (const [method, body] of [["POST", { AuthType: "NONE" }], ["PUT", { AuthType: "AWS_IAM" }], ["DELETE", undefined]] as const) {
      expect((await errorOf(await signed(reader, method, url("web", "live"), body))).type).toBe("AccessDeniedException");
    }
    expect(await signed(key, "GET", url("web", "live")).then((r) => r.json())).toMatchObject({ AuthType: "NONE" });
    expect((await signed(key, "DELETE", url("web", "live"))).status).toBe(204);
  });
});

describe("tenant isolation of URL configs", () => {
  it("never lets another tenant create, read, change, list or delete a tenant's URLs", async () => {
    const other = await newTenant();
    const created = await signed(key, "POST", url("web"), { AuthType: "NONE", Cors: { AllowOrigins: ["*"] } });
    expect(created.status).toBe(201);
    const original = await signed(key, "GET", url("web")).then((r) => r.json<Record<string, unknown>>());

    // By name: the other tenant has no such function (same answers as for any missing one).
    expect(await errorOf(await signed(other, "POST", url("web"), { AuthType: "NONE" }))).toMatchObject({ status: 404, message: "Function does not exist" });
    expect(await errorOf(await signed(other, "GET", url("web")))).toMatchObject({ status: 404, message: "The resource you requested does not exist." });
    expect(await errorOf(await signed(other, "PUT", url("web"), { AuthType: "AWS_IAM" }))).toMatchObject({ status: 404 });
    expect(await errorOf(await signed(other, "DELETE", url("web")))).toMatchObject({ status: 404 });
    expect(await errorOf(await signed(other, "GET", urls("web")))).toMatchObject({ status: 404 });
    // By ARN: the same empty 403 whether or not the function exists.
    for (const name of [arn("web"), arn("does-not-exist")]) {
      expect(await errorOf(await signed(other, "POST", url(name), { AuthType: "NONE" }))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      expect(await errorOf(await signed(other, "GET", url(name)))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      expect(await errorOf(await signed(other, "PUT", url(name), { AuthType: "AWS_IAM" }))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      expect(await errorOf(await signed(other, "DELETE", url(name)))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      expect(await errorOf(await signed(other, "GET", urls(name)))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
    }
    // The other tenant's own function of the same name gets its own URL; the first is untouched.
    await createActive(other, createFunctionBody("web", CODE));
    const theirs = await signed(other, "POST", url("web"), { AuthType: "AWS_IAM" }).then((r) => r.json<Record<string, unknown>>());
    expect(theirs.FunctionUrl).not.toBe(original.FunctionUrl);
    expect(await signed(other, "GET", urls("web")).then((r) => r.json<{ FunctionUrlConfigs: unknown[] }>())).toEqual({ FunctionUrlConfigs: [expect.objectContaining({ FunctionUrl: theirs.FunctionUrl })] });
    expect(await signed(key, "GET", url("web")).then((r) => r.json())).toEqual(original);
    expect((await signed(key, "DELETE", url("web"))).status).toBe(204);
  });
});
