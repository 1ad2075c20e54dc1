import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeZip, makeZipBase64 } from "../fixtures/zips";
import type { TenantKey } from "../helpers/platform";
import { admin, createFunctionBody, errorOf, fn, newTenant, ROLE, signed, waitUntilSettled } from "../helpers/platform";

type Config = Record<string, unknown> & { FunctionArn: string; RevisionId: string; CodeSha256: string; Version: string };

const handlerV1 = { "index.js": "exports.handler = async (event) => ({ version: 1, event });" };
const handlerV2 = { "index.js": "exports.handler = async (event) => ({ version: 2, event });" };

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return btoa(String.fromCharCode(...digest));
}

function createBody(name: string, extra: Record<string, unknown> = {}) {
  return createFunctionBody(name, handlerV1, extra);
}

describe("function control plane", () => {
  let key: TenantKey;
  let arnPrefix: string;

  beforeAll(async () => {
    key = await newTenant();
    arnPrefix = `arn:aws:lambda:us-east-1:${key.accountId}:function:`;
  });

  it("creates a function from a zip and records its code", async () => {
    const res = await signed(key, "POST", "/2015-03-31/functions", createBody("orders", { Description: "orders api" }));
    expect(res.status).toBe(201);
    const config = await res.json<Config>();
    expect(config).toMatchObject({
      FunctionName: "orders",
      FunctionArn: `${arnPrefix}orders`,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Role: ROLE,
      Description: "orders api",
      Timeout: 3,
      MemorySize: 128,
      Version: "$LATEST",
      PackageType: "Zip",
      Architectures: ["x86_64"],
      // Bundling runs after the answer (function-states.integration.test.ts has the full body).
      State: "Pending",
      StateReasonCode: "Creating",
      CodeSize: makeZip(handlerV1).byteLength,
      CodeSha256: await sha256Base64(makeZip(handlerV1)),
      LoggingConfig: { LogFormat: "Text", LogGroup: "/aws/lambda/orders" },
    });
    expect(config.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(config.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(config).not.toHaveProperty("Environment");
    expect(await waitUntilSettled(key, "orders")).toMatchObject({ State: "Active", LastUpdateStatus: "Successful" });

    const bundles = await env.CODE.list({ prefix: "bundles/" });
    expect(bundles.objects.length).toBeGreaterThan(0);
  });

  it("gets the function by every name form", async () => {
    for (const name of ["orders", `${key.accountId}:function:orders`, `${arnPrefix}orders`]) {
      const res = await signed(key, "GET", fn(name));
      expect(res.status).toBe(200);
      const body = await res.json<{ Configuration: Config; Code: Record<string, string> }>();
      expect(body.Configuration.FunctionArn).toBe(`${arnPrefix}orders`);
      expect(body.Code.RepositoryType).toBe("S3");
      expect(body).not.toHaveProperty("Concurrency");
    }
    const latest = await (await signed(key, "GET", `${fn("orders")}/configuration?Qualifier=$LATEST`)).json<Config>();
    expect(latest.FunctionArn).toBe(`${arnPrefix}orders:$LATEST`);
  });

  it("GetFunction's Code.Location downloads the .zip package without credentials, and only as signed", async () => {
    const got = await (await signed(key, "GET", fn("orders"))).json<{ Code: { RepositoryType: string; Location: string } }>();
    expect(got.Code.RepositoryType).toBe("S3");
    const location = new URL(got.Code.Location);
    expect(location.pathname).toMatch(/^\/cellfn\/code\/[0-9a-f]{64}\.zip$/);
    const download = await exports.default.fetch(location.href);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/zip");
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(makeZip(handlerV1));

    const tampered = (change: (u: URL) => void) => {
      const u = new URL(location.href);
      change(u);
      return exports.default.fetch(u.href);
    };
    const signature = location.searchParams.get("Signature") ?? "";
    const refusals = await Promise.all([
      tampered((u) => u.searchParams.set("Signature", `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`)),
      tampered((u) => u.searchParams.set("Expires", String(Number(u.searchParams.get("Expires")) + 3600))),
      tampered((u) => (u.pathname = `/cellfn/code/${"0".repeat(64)}.zip`)),
      tampered((u) => u.searchParams.delete("Signature")),
    ]);
    for (const res of refusals) expect(await errorOf(res)).toMatchObject({ status: 403, type: "AccessDeniedException" });
  });

  it("stores identical code once across tenants", async () => {
    const other = await newTenant();
    const before = (await env.CODE.list({ prefix: "bundles/" })).objects.length;
    expect((await signed(other, "POST", "/2015-03-31/functions", createBody("orders"))).status).toBe(201);
    await waitUntilSettled(other, "orders");
    expect((await env.CODE.list({ prefix: "bundles/" })).objects.length).toBe(before);
  });

  it("updates configuration and keeps it", async () => {
    const res = await signed(key, "PUT", `${fn("orders")}/configuration`, {
      Timeout: 30,
      MemorySize: 256,
      Environment: { Variables: { STAGE: "prod" } },
    });
    expect(res.status).toBe(200);
    const got = await waitUntilSettled(key, "orders");
    expect(got).toMatchObject({ Timeout: 30, MemorySize: 256, Environment: { Variables: { STAGE: "prod" } }, Description: "orders api" });
  });

  it("updates code and changes CodeSha256", async () => {
    const before = await (await signed(key, "GET", `${fn("orders")}/configuration`)).json<Config>();
    const res = await signed(key, "PUT", `${fn("orders")}/code`, { ZipFile: makeZipBase64(handlerV2) });
    expect(res.status).toBe(200);
    const after = await res.json<Config>();
    expect(after.CodeSha256).toBe(await sha256Base64(makeZip(handlerV2)));
    expect(after.CodeSha256).not.toBe(before.CodeSha256);
    expect(after.RevisionId).not.toBe(before.RevisionId);
    expect(after.Timeout).toBe(30);
    expect(await waitUntilSettled(key, "orders")).toMatchObject({ CodeSha256: after.CodeSha256, LastUpdateStatus: "Successful" });
  });

  it("publishes versions, returning the newest one when nothing changed", async () => {
    const v1 = await signed(key, "POST", `${fn("orders")}/versions`, {});
    expect(v1.status).toBe(201);
    const published = await v1.json<Config>();
    expect(published.Version).toBe("1");
    expect(published.FunctionArn).toBe(`${arnPrefix}orders:1`);

    const again = await (await signed(key, "POST", `${fn("orders")}/versions`, {})).json<Config>();
    expect(again.Version).toBe("1");
    expect(again.RevisionId).toBe(published.RevisionId);

    await signed(key, "PUT", `${fn("orders")}/configuration`, { Timeout: 31 });
    await waitUntilSettled(key, "orders");
    const v2 = await (await signed(key, "POST", `${fn("orders")}/versions`, { Description: "second" })).json<Config>();
    expect(v2).toMatchObject({ Version: "2", Description: "second", Timeout: 31 });

    const wrongSha = await signed(key, "POST", `${fn("orders")}/versions`, { CodeSha256: "nope" });
    expect(await errorOf(wrongSha)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });

    const versions = await (await signed(key, "GET", `${fn("orders")}/versions`)).json<{ Versions: Config[] }>();
    expect(versions.Versions.map((v) => v.Version)).toEqual(["$LATEST", "1", "2"]);
    expect(versions.Versions[0]?.FunctionArn).toBe(`${arnPrefix}orders:$LATEST`);

    const v1Config = await (await signed(key, "GET", `${fn("orders:1")}/configuration`)).json<Config>();
    expect(v1Config.Timeout).toBe(30);
  });

  it("manages aliases with weighted routing", async () => {
    const created = await signed(key, "POST", `${fn("orders")}/aliases`, { Name: "live", FunctionVersion: "1" });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ AliasArn: `${arnPrefix}orders:live`, Name: "live", FunctionVersion: "1", Description: "" });

    const updated = await signed(key, "PUT", `${fn("orders")}/aliases/live`, {
      RoutingConfig: { AdditionalVersionWeights: { "2": 0.25 } },
    });
    expect(updated.status).toBe(200);
    const alias = await (await signed(key, "GET", `${fn("orders")}/aliases/live`)).json<Record<string, unknown>>();
    expect(alias).toMatchObject({ FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 0.25 } } });

    const viaAlias = await (await signed(key, "GET", `${fn("orders:live")}/configuration`)).json<Config>();
    expect(viaAlias).toMatchObject({ Version: "1", FunctionArn: `${arnPrefix}orders:live` });

    const inUse = await signed(key, "DELETE", `${fn("orders")}?Qualifier=2`);
    expect(await errorOf(inUse)).toMatchObject({ status: 409, type: "ResourceConflictException" });

    await signed(key, "POST", `${fn("orders")}/aliases`, { Name: "beta", FunctionVersion: "2" });
    const list = await (await signed(key, "GET", `${fn("orders")}/aliases?MaxItems=1`)).json<{ Aliases: Array<{ Name: string }>; NextMarker?: string }>();
    expect(list.Aliases.map((a) => a.Name)).toEqual(["beta"]);
    expect(list.NextMarker).toEqual(expect.any(String));
    const page2 = await (
      await signed(key, "GET", `${fn("orders")}/aliases?MaxItems=1&Marker=${encodeURIComponent(list.NextMarker ?? "")}`)
    ).json<{ Aliases: Array<{ Name: string }>; NextMarker?: string }>();
    expect(page2.Aliases.map((a) => a.Name)).toEqual(["live"]);
    expect(page2).not.toHaveProperty("NextMarker");

    expect((await signed(key, "DELETE", `${fn("orders")}/aliases/beta`)).status).toBe(204);
    const gone = await signed(key, "GET", `${fn("orders")}/aliases/beta`);
    expect(await errorOf(gone)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
  });

  it("answers a missing alias: Function not found when resolving the function, Cannot find alias arn on the alias operations", async () => {
    // beta was deleted above; live still exists.
    const functionNotFound = { status: 404, type: "ResourceNotFoundException", message: `Function not found: ${arnPrefix}orders:beta` };
    expect(await errorOf(await signed(key, "GET", `${fn("orders")}?Qualifier=beta`))).toEqual(functionNotFound);
    expect(await errorOf(await signed(key, "GET", fn("orders:beta")))).toEqual(functionNotFound);
    expect(await errorOf(await signed(key, "GET", `${fn("orders")}/configuration?Qualifier=beta`))).toEqual(functionNotFound);
    expect(await errorOf(await signed(key, "GET", `${fn("orders:beta")}/configuration`))).toEqual(functionNotFound);
    expect(await errorOf(await signed(key, "POST", `${fn("orders")}/invocations?Qualifier=beta`, {}))).toEqual(functionNotFound);
    expect(await errorOf(await signed(key, "POST", `${fn("orders:beta")}/invocations`, {}))).toEqual(functionNotFound);

    const aliasNotFound = { status: 404, type: "ResourceNotFoundException", message: `Cannot find alias arn: ${arnPrefix}orders:beta` };
    expect(await errorOf(await signed(key, "GET", `${fn("orders")}/aliases/beta`))).toEqual(aliasNotFound);
    // UpdateAlias words it differently (AWS's recording, test_non_existent_alias_update; contract-errors).
    expect(await errorOf(await signed(key, "PUT", `${fn("orders")}/aliases/beta`, { Description: "x" }))).toEqual({
      ...aliasNotFound,
      message: `Alias not found: ${arnPrefix}orders:beta`,
    });
    // DeleteAlias of a missing alias is a 204 no-op (AWS-validated: LocalStack test_non_existent_alias_deletion).
    expect((await signed(key, "DELETE", `${fn("orders")}/aliases/beta`)).status).toBe(204);

    // An existing alias still resolves, and a missing function is still Function not found (unqualified by the alias op).
    expect((await signed(key, "GET", `${fn("orders")}/configuration?Qualifier=live`)).status).toBe(200);
    expect(await errorOf(await signed(key, "DELETE", `${fn("nowhere")}/aliases/beta`))).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: `Function not found: ${arnPrefix}nowhere`,
    });
  });

  it("sets, reads and removes reserved concurrency", async () => {
    const put = await signed(key, "PUT", `/2017-10-31/functions/orders/concurrency`, { ReservedConcurrentExecutions: 5 });
    expect(await put.json()).toEqual({ ReservedConcurrentExecutions: 5 });
    expect(await (await signed(key, "GET", `/2019-09-30/functions/orders/concurrency`)).json()).toEqual({ ReservedConcurrentExecutions: 5 });
    const got = await (await signed(key, "GET", fn("orders"))).json<Record<string, unknown>>();
    expect(got.Concurrency).toEqual({ ReservedConcurrentExecutions: 5 });

    const settings = await (await signed(key, "GET", "/2016-08-19/account-settings")).json<{
      AccountLimit: Record<string, number>;
      AccountUsage: Record<string, number>;
    }>();
    expect(settings.AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 995 });
    expect(settings.AccountUsage.FunctionCount).toBe(1);
    expect(settings.AccountUsage.TotalCodeSize).toBeGreaterThan(0);

    expect((await signed(key, "DELETE", `/2017-10-31/functions/orders/concurrency`)).status).toBe(204);
    expect(await (await signed(key, "GET", `/2019-09-30/functions/orders/concurrency`)).json()).toEqual({});
  });

  it("keeps reservations within the tenant's limit under concurrent PutFunctionConcurrency, and the limit above them", async () => {
    const tenant = await newTenant();
    expect((await admin("PATCH", `/tenants/${tenant.tenantId}`, { concurrencyLimit: 100 })).status).toBe(200);
    for (const name of ["left", "right"]) {
      expect((await signed(tenant, "POST", "/2015-03-31/functions", createBody(name))).status).toBe(201);
    }
    // 100 - 10 kept unreserved = 90 to reserve: both 60s at once cannot both pass.
    const puts = await Promise.all(
      ["left", "right"].map((name) => signed(tenant, "PUT", `/2017-10-31/functions/${name}/concurrency`, { ReservedConcurrentExecutions: 60 })),
    );
    expect(puts.map((r) => r.status).sort()).toEqual([200, 400]);
    const refused = await errorOf(puts.find((r) => r.status === 400) ?? puts[0]!);
    expect(refused).toMatchObject({ type: "InvalidParameterValueException" });
    expect(refused.message).toBe("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [40].");
    const settings = await (await signed(tenant, "GET", "/2016-08-19/account-settings")).json<{ AccountLimit: Record<string, number> }>();
    expect(settings.AccountLimit.UnreservedConcurrentExecutions).toBe(40);

    // The operator cannot lower the limit under the reservations (60 + a tenth kept free).
    const low = await admin("PATCH", `/tenants/${tenant.tenantId}`, { concurrencyLimit: 65 });
    expect(await errorOf(low)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    expect((await (await admin("GET", `/tenants/${tenant.tenantId}`)).json<{ concurrencyLimit: number }>()).concurrencyLimit).toBe(100);
    expect((await admin("PATCH", `/tenants/${tenant.tenantId}`, { concurrencyLimit: 67 })).status).toBe(200);
  });

  it("lists functions in pages", async () => {
    for (const name of ["alpha", "beta"]) {
      expect((await signed(key, "POST", "/2015-03-31/functions", createBody(name))).status).toBe(201);
      await waitUntilSettled(key, name);
    }
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const query = `MaxItems=1${marker ? `&Marker=${encodeURIComponent(marker)}` : ""}`;
      const page = await (await signed(key, "GET", `/2015-03-31/functions/?${query}`)).json<{ Functions: Config[]; NextMarker?: string }>();
      expect(page.Functions).toHaveLength(1);
      expect(page.Functions[0]).not.toHaveProperty("State");
      names.push(String(page.Functions[0]?.FunctionName));
      marker = page.NextMarker;
    } while (marker);
    expect(names).toEqual(["alpha", "beta", "orders"]);

    const all = await (await signed(key, "GET", "/2015-03-31/functions?FunctionVersion=ALL")).json<{ Functions: Config[] }>();
    expect(all.Functions.map((f) => `${f.FunctionName}:${f.Version}`)).toEqual([
      "alpha:$LATEST",
      "beta:$LATEST",
      "orders:$LATEST",
      "orders:1",
      "orders:2",
    ]);
  });

  it("builds a new Handler from the stored .zip package, and removes packages no version uses", async () => {
    const files = {
      "index.js": "exports.handler = async () => 'from index';",
      "lib/other.mjs": "export const main = async (event) => ({ from: 'other', event });",
    };
    const zip = makeZip(files);
    const sha = await sha256Base64(zip);
    const zipKey = `zips/${Array.from(Uint8Array.from(atob(sha), (c) => c.charCodeAt(0)), (b) => b.toString(16).padStart(2, "0")).join("")}.zip`;
    expect((await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("rehandled", files))).status).toBe(201);
    await waitUntilSettled(key, "rehandled");
    const stored = await env.CODE.get(zipKey);
    expect(new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(zip);
    const invoke = async () => (await signed(key, "POST", `${fn("rehandled")}/invocations`, { n: 1 })).json();
    expect(await invoke()).toBe("from index");

    const res = await signed(key, "PUT", `${fn("rehandled")}/configuration`, { Handler: "lib/other.main" });
    expect(res.status).toBe(200);
    expect(await res.json<Config>()).toMatchObject({ Handler: "lib/other.main", CodeSha256: sha, CodeSize: zip.byteLength });
    await waitUntilSettled(key, "rehandled");
    expect(await invoke()).toEqual({ from: "other", event: { n: 1 } });

    // A Handler whose module is not in the package is refused at once; one whose export is
    // missing fails the update (found when bundling); either way the previous handler keeps running.
    const noModule = await errorOf(await signed(key, "PUT", `${fn("rehandled")}/configuration`, { Handler: "lib/nowhere.main" }));
    expect(noModule).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    expect(noModule.message).toContain("lib/nowhere");
    expect((await signed(key, "PUT", `${fn("rehandled")}/configuration`, { Handler: "lib/other.nope" })).status).toBe(200);
    const failed = await waitUntilSettled(key, "rehandled");
    expect(failed).toMatchObject({ LastUpdateStatus: "Failed", Handler: "lib/other.main" });
    expect(String(failed.LastUpdateStatusReason)).toContain("lib/other.nope");
    expect(await invoke()).toEqual({ from: "other", event: { n: 1 } });

    // New code replaces the package; deleting the function removes what nothing else uses.
    const v2 = { "index.js": "exports.handler = async () => 'v2';" };
    const v2Zip = makeZip(v2);
    expect((await signed(key, "PUT", `${fn("rehandled")}/configuration`, { Handler: "index.handler" })).status).toBe(200);
    await waitUntilSettled(key, "rehandled");
    expect(await invoke()).toBe("from index");
    expect((await signed(key, "PUT", `${fn("rehandled")}/code`, { ZipFile: makeZipBase64(v2) })).status).toBe(200);
    await waitUntilSettled(key, "rehandled");
    // The old package is released after the update settles (deferred work), so wait for it to go.
    await expect.poll(() => env.CODE.head(zipKey), { timeout: 5_000, interval: 50 }).toBeNull();
    expect(await invoke()).toBe("v2");
    const v2Sha = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", v2Zip)), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(await env.CODE.head(`zips/${v2Sha}.zip`)).not.toBeNull();
    expect((await signed(key, "DELETE", fn("rehandled"))).status).toBe(204);
    expect(await env.CODE.head(`zips/${v2Sha}.zip`)).toBeNull();
  });

  it("creates and publishes in one call", async () => {
    const res = await signed(key, "POST", "/2015-03-31/functions", createBody("published", { Publish: true }));
    const config = await res.json<Config>();
    expect(config.Version).toBe("1");
    expect(config.FunctionArn).toBe(`${arnPrefix}published`);
    expect(await waitUntilSettled(key, "published", "1")).toMatchObject({ Version: "1", State: "Active" });
  });

  it("deletes a version, then the function with everything it had", async () => {
    await signed(key, "POST", `${fn("alpha")}/versions`, {});
    expect((await signed(key, "DELETE", `${fn("alpha")}?Qualifier=1`)).status).toBe(204);
    expect((await signed(key, "GET", `${fn("alpha:1")}/configuration`)).status).toBe(404);

    expect((await signed(key, "DELETE", fn("orders"))).status).toBe(204);
    const gone = await signed(key, "GET", fn("orders"));
    expect(await errorOf(gone)).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: `Function not found: ${arnPrefix}orders`,
    });
    expect((await signed(key, "GET", `${fn("orders")}/aliases/live`)).status).toBe(404);
    // A new function of the same name starts from scratch.
    expect((await signed(key, "POST", "/2015-03-31/functions", createBody("orders"))).status).toBe(201);
    await waitUntilSettled(key, "orders");
    const versions = await (await signed(key, "GET", `${fn("orders")}/versions`)).json<{ Versions: Config[] }>();
    expect(versions.Versions.map((v) => v.Version)).toEqual(["$LATEST"]);
  });
});
