import { describe, expect, it } from "vitest";
import { makeZip, makeZipBase64 } from "../fixtures/zips";
import { fails as kinesisFails, ok as kinesisOk } from "../helpers/kinesis";
import type { TenantKey } from "../helpers/platform";
import { admin, createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";

const HANDLER = { "index.js": "exports.handler = async () => 'ok';" };
const ZIP_BYTES = makeZip(HANDLER).byteLength;
const STORAGE_EXCEEDED = { status: 400, type: "CodeStorageExceededException", message: "Code storage limit exceeded." };

async function settings(key: TenantKey) {
  const res = await signed(key, "GET", "/2016-08-19/account-settings");
  expect(res.status).toBe(200);
  return res.json<{ AccountLimit: Record<string, number>; AccountUsage: Record<string, number> }>();
}

async function patchTenant(key: TenantKey, body: Record<string, unknown>) {
  const res = await admin("PATCH", `/tenants/${key.tenantId}`, body);
  expect(res.status).toBe(200);
  return res.json<Record<string, unknown>>();
}

async function functionNames(key: TenantKey): Promise<string[]> {
  const res = await signed(key, "GET", "/2015-03-31/functions");
  return (await res.json<{ Functions: { FunctionName: string }[] }>()).Functions.map((f) => f.FunctionName);
}

describe("tenant quotas", () => {
  it("start at AWS's defaults, shown by the admin API and GetAccountSettings", async () => {
    const key = await newTenant();
    const tenant = await (await admin("GET", `/tenants/${key.tenantId}`)).json<Record<string, unknown>>();
    expect(tenant).toMatchObject({ concurrencyLimit: 1000, codeStorageLimit: 80_530_636_800, shardLimit: 500 });
    expect((await settings(key)).AccountLimit).toMatchObject({ TotalCodeSize: 80_530_636_800, ConcurrentExecutions: 1000 });
  });

  it("refuses bad quota values with nothing changed", async () => {
    const key = await newTenant();
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { codeStorageLimit: -1 })).status).toBe(400);
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { shardLimit: 1.5 })).status).toBe(400);
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { codeStorageLimit: "big" })).status).toBe(400);
    expect(await (await admin("GET", `/tenants/${key.tenantId}`)).json()).toMatchObject({ codeStorageLimit: 80_530_636_800, shardLimit: 500 });
  });

  it("code storage: past the limit every write is CodeStorageExceededException and writes nothing; raising it takes effect at once; other tenants unaffected", async () => {
    const [a, b] = await Promise.all([newTenant(), newTenant()]);
    await patchTenant(a, { codeStorageLimit: Math.floor(ZIP_BYTES * 1.5) });
    expect((await settings(a)).AccountLimit.TotalCodeSize).toBe(Math.floor(ZIP_BYTES * 1.5));

    await createActive(a, createFunctionBody("q-one", HANDLER));
    const before = await settings(a);
    expect(before.AccountUsage).toEqual({ TotalCodeSize: ZIP_BYTES, FunctionCount: 1 });

    // A second function, a published version, a create with Publish, a layer version, a larger package.
    expect(await errorOf(await signed(a, "POST", "/2015-03-31/functions", createFunctionBody("q-two", HANDLER)))).toEqual(STORAGE_EXCEEDED);
    expect(await errorOf(await signed(a, "POST", `${fn("q-one")}/versions`, {}))).toEqual(STORAGE_EXCEEDED);
    const layer = await signed(a, "POST", "/2018-10-31/layers/q-layer/versions", { Content: { ZipFile: makeZipBase64({ "nodejs/x.js": "1" }) } });
    expect(await errorOf(layer)).toEqual(STORAGE_EXCEEDED);
    // Random hex, so deflate cannot make the package smaller than the limit.
    const noise = Array.from(crypto.getRandomValues(new Uint8Array(ZIP_BYTES * 2)), (n) => n.toString(16).padStart(2, "0")).join("");
    const bigger = { "index.js": `exports.handler = async () => '${noise}';` };
    expect(await errorOf(await signed(a, "PUT", `${fn("q-one")}/code`, { ZipFile: makeZipBase64(bigger) }))).toEqual(STORAGE_EXCEEDED);

    expect(await functionNames(a)).toEqual(["q-one"]);
    expect((await signed(a, "GET", `${fn("q-two")}`)).status).toBe(404);
    const versions = await (await signed(a, "GET", `${fn("q-one")}/versions`)).json<{ Versions: { Version: string }[] }>();
    expect(versions.Versions.map((v) => v.Version)).toEqual(["$LATEST"]);
    expect((await (await signed(a, "GET", "/2018-10-31/layers")).json<{ Layers: unknown[] }>()).Layers).toEqual([]);
    expect(await settings(a)).toEqual(before);

    // Tenant B keeps the default and creates freely meanwhile.
    expect((await settings(b)).AccountLimit.TotalCodeSize).toBe(80_530_636_800);
    expect((await signed(b, "POST", "/2015-03-31/functions", createFunctionBody("q-two", HANDLER))).status).toBe(201);

    await patchTenant(a, { codeStorageLimit: ZIP_BYTES * 10 });
    expect((await signed(a, "POST", `${fn("q-one")}/versions`, {})).status).toBe(201);
    expect((await signed(a, "POST", "/2015-03-31/functions", createFunctionBody("q-two", HANDLER))).status).toBe(201);
    expect((await settings(a)).AccountUsage).toEqual({ TotalCodeSize: ZIP_BYTES * 3, FunctionCount: 2 });
  });

  it("Kinesis shards: the tenant's shardLimit refuses with Kinesis's LimitExceededException and creates nothing", async () => {
    const [a, b] = await Promise.all([newTenant(), newTenant()]);
    await patchTenant(a, { shardLimit: 3 });
    await kinesisOk(a, "CreateStream", { StreamName: "q-small", ShardCount: 2 });
    const refused = await kinesisFails(a, "CreateStream", { StreamName: "q-big", ShardCount: 2 });
    expect(refused).toMatchObject({ status: 400, type: "LimitExceededException" });
    expect(refused.message).toContain("Current shard count for the account: 2. Limit: 3. Number of additional shards that would have resulted from this request: 2.");
    const listed = await kinesisOk<{ StreamNames: string[] }>(a, "ListStreams", {});
    expect(listed.StreamNames).toEqual(["q-small"]);
    await kinesisOk(b, "CreateStream", { StreamName: "q-big", ShardCount: 4 });
    await patchTenant(a, { shardLimit: 4 });
    await kinesisOk(a, "CreateStream", { StreamName: "q-big", ShardCount: 2 });
  });
});
