import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, BASE, bearer, errorOf, newTenant, signed } from "../helpers/platform";

describe("admin API", () => {
  it("refuses calls without the operator token", async () => {
    const res = await exports.default.fetch(`${BASE}/admin/tenants`);
    expect(res.status).toBe(401);
    const wrong = await exports.default.fetch(`${BASE}/admin/tenants`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("x-amzn-ErrorType")).toBe("UnauthorizedException");
  });

  it("creates, lists, reads and patches tenants", async () => {
    const name = `acme-${crypto.randomUUID().slice(0, 8)}`;
    const created = await admin("POST", "/tenants", { name });
    expect(created.status).toBe(201);
    const tenant = await created.json<Record<string, unknown>>();
    expect(tenant).toMatchObject({ name, concurrencyLimit: 1000 });
    expect(tenant.tenantId).toEqual(expect.any(String));
    expect(tenant.accountId).toMatch(/^[1-9][0-9]{11}$/);
    expect(tenant.cell).toEqual(expect.any(Number));

    const list = await (await admin("GET", "/tenants")).json<{ tenants: Array<{ tenantId: string }> }>();
    expect(list.tenants.map((t) => t.tenantId)).toContain(tenant.tenantId);

    const read = await admin("GET", `/tenants/${tenant.tenantId}`);
    expect(await read.json()).toEqual(tenant);

    const patched = await admin("PATCH", `/tenants/${tenant.tenantId}`, { concurrencyLimit: 50 });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ concurrencyLimit: 50 });
  });

  it("refuses a duplicate tenant name and bad bodies", async () => {
    const name = `dup-${crypto.randomUUID().slice(0, 8)}`;
    expect((await admin("POST", "/tenants", { name })).status).toBe(201);
    const dup = await admin("POST", "/tenants", { name });
    expect(dup.status).toBe(409);
    expect((await admin("POST", "/tenants", { name: "x", extra: 1 })).status).toBe(400);
    expect((await admin("PATCH", "/tenants/t-missing", { concurrencyLimit: 5 })).status).toBe(404);
    expect((await admin("GET", "/tenants/t-missing")).status).toBe(404);
  });

  it("issues keys shown once, lists them without secrets, and revokes them", async () => {
    const key = await newTenant();
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toHaveLength(40);
    expect(key.token).toContain(key.accessKeyId);

    const listed = await (await admin("GET", `/tenants/${key.tenantId}/keys`)).text();
    expect(listed).toContain(key.accessKeyId);
    expect(listed).not.toContain(key.secretAccessKey);

    expect((await signed(key, "GET", "/2015-03-31/functions")).status).toBe(200);
    expect((await bearer(key, "GET", "/2015-03-31/functions")).status).toBe(200);

    const revoked = await admin("DELETE", `/tenants/${key.tenantId}/keys/${key.accessKeyId}`);
    expect(revoked.status).toBe(204);
    // Revocation clears this isolate's cache at once; other isolates within KEY_CACHE_TTL_MS.
    const afterSigned = await errorOf(await signed(key, "GET", "/2015-03-31/functions"));
    expect(afterSigned).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
    const afterBearer = await errorOf(await bearer(key, "GET", "/2015-03-31/functions"));
    expect(afterBearer).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
    expect((await admin("DELETE", `/tenants/${key.tenantId}/keys/${key.accessKeyId}`)).status).toBe(404);
  });

  it("does not let one tenant's key id be revoked through another tenant", async () => {
    const a = await newTenant();
    const b = await newTenant();
    expect((await admin("DELETE", `/tenants/${a.tenantId}/keys/${b.accessKeyId}`)).status).toBe(404);
    expect((await bearer(b, "GET", "/2015-03-31/functions")).status).toBe(200);
  });
});

describe("tenant authentication", () => {
  it("refuses a request with no credentials", async () => {
    const res = await exports.default.fetch(`${BASE}/2015-03-31/functions`);
    expect(await errorOf(res)).toMatchObject({ status: 403, type: "MissingAuthenticationTokenException" });
  });

  it("refuses a bearer token with the wrong secret", async () => {
    const key = await newTenant();
    const res = await bearer({ ...key, token: `${key.accessKeyId}.wrong-secret` }, "GET", "/2015-03-31/functions");
    expect(await errorOf(res)).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
  });

  it("refuses SigV4 with the wrong secret", async () => {
    const key = await newTenant();
    const res = await signed({ ...key, secretAccessKey: "x".repeat(40) }, "GET", "/2015-03-31/functions");
    expect(await errorOf(res)).toMatchObject({ status: 403, type: "InvalidSignatureException" });
  });
});
