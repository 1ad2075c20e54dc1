import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch, type Platform, startPlatform } from "./harness";

describe("platform boot (wrangler dev + local D1)", () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform();
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("answers GET /healthz with 200", async () => {
    const res = await fetch(`${platform.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get("x-amzn-requestid")).toBeTruthy();
  });

  it("refuses the admin API without a token", async () => {
    const res = await adminFetch(platform, "GET", "/admin/tenants", undefined, { token: null });
    expect([401, 403]).toContain(res.status);
  });

  it("refuses the admin API with a wrong token", async () => {
    const res = await adminFetch(platform, "GET", "/admin/tenants", undefined, { token: "not-the-admin-token" });
    expect([401, 403]).toContain(res.status);
  });

  it("accepts the admin token and has the migrated schema (tenants table)", async () => {
    const res = await adminFetch(platform, "GET", "/admin/tenants");
    expect(res.status, res.text).toBe(200);
  });
});
