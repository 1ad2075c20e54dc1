import { AwsClient } from "aws4fetch";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AUTH_FAILURE_LIMIT } from "../../src/auth/failure-limit";
import type { TenantKey } from "../helpers/platform";
import { addKey, BASE, errorOf, newTenant } from "../helpers/platform";

const FUNCTIONS = "/2015-03-31/functions";
let ipCounter = 0;
/** A source address no other test uses (the limiter is per isolate, shared by the files it runs). */
const freshIp = () => `198.51.100.${(Date.now() + ipCounter++) % 250}-${crypto.randomUUID().slice(0, 4)}`;

function bearerFrom(ip: string, token: string, path = FUNCTIONS): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip } });
}

async function signedFrom(ip: string, key: Pick<TenantKey, "accessKeyId" | "secretAccessKey">, service = "lambda", init: RequestInit = {}, path = FUNCTIONS) {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service, region: "us-east-1" });
  const request = await client.sign(`${BASE}${path}`, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), "cf-connecting-ip": ip } });
  return exports.default.fetch(request);
}

async function expectThrottled(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get("x-amzn-ErrorType")).toBe("TooManyRequestsException");
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  expect(await res.json()).toEqual({ Type: "User", message: "Rate Exceeded.", Reason: "CallerRateLimitExceeded" });
}

describe("failed-authentication rate limit", () => {
  it("blocks a source IP after the limit, even with good credentials, and only that IP", async () => {
    const key = await newTenant();
    const ip = freshIp();
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) {
      const res = await bearerFrom(ip, `AKIANOSUCHKEY${i}.wrong-secret`);
      expect((await errorOf(res)).type).toBe("UnrecognizedClientException");
    }
    await expectThrottled(await bearerFrom(ip, key.token));
    await expectThrottled(await signedFrom(ip, key));
    expect((await bearerFrom(freshIp(), key.token)).status).toBe(200);
  });

  it("blocks an access key id after the limit from any address, its owner included (README: use another key meanwhile)", async () => {
    const key = await newTenant();
    const spare = await addKey(key.tenantId);
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) {
      const res = await signedFrom(freshIp(), { accessKeyId: key.accessKeyId, secretAccessKey: "wrong-secret-wrong-secret-wrong-secret00" });
      expect((await errorOf(res)).type).toBe("InvalidSignatureException");
    }
    await expectThrottled(await signedFrom(freshIp(), key));
    await expectThrottled(await bearerFrom(freshIp(), key.token));
    expect((await bearerFrom(freshIp(), spare.token)).status).toBe(200);
  });

  it("does not count a missing token, nor a key refused for its scope", async () => {
    const key = await newTenant("invoke");
    const ip = freshIp();
    for (let i = 0; i < AUTH_FAILURE_LIMIT + 5; i++) {
      const anonymous = await exports.default.fetch(`${BASE}${FUNCTIONS}`, { headers: { "cf-connecting-ip": ip } });
      expect(anonymous.status).toBe(403);
    }
    for (let i = 0; i < AUTH_FAILURE_LIMIT + 5; i++) {
      const denied = await exports.default.fetch(`${BASE}/2017-10-31/functions/x/concurrency`, {
        method: "PUT",
        headers: { authorization: `Bearer ${key.token}`, "cf-connecting-ip": ip },
        body: JSON.stringify({ ReservedConcurrentExecutions: 1 }),
      });
      expect((await errorOf(denied)).type).toBe("AccessDeniedException");
    }
    expect((await bearerFrom(ip, key.token)).status).toBe(200);
  });

  it("answers the JSON services with their throttling error", async () => {
    const key = await newTenant();
    const ip = freshIp();
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) await bearerFrom(ip, `AKIANOSUCH${i}.x`);
    const res = await signedFrom(ip, key, "sqs", { method: "POST", headers: { "x-amz-target": "AmazonSQS.ListQueues", "content-type": "application/x-amz-json-1.0" }, body: "{}" }, "/");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
  });

  it("blocks the admin API for an address that kept guessing the operator token", async () => {
    const ip = freshIp();
    const adminFrom = (token: string, from: string) =>
      exports.default.fetch(`${BASE}/admin/tenants`, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": from } });
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) expect((await adminFrom(`guess-${i}`, ip)).status).toBe(401);
    await expectThrottled(await adminFrom(env.ADMIN_TOKEN, ip));
    expect((await adminFrom(env.ADMIN_TOKEN, freshIp())).status).toBe(200);
  });

  it("blocks console sign-in with the same counts", async () => {
    const key = await newTenant();
    const ip = freshIp();
    const signIn = (secret: string) =>
      exports.default.fetch(`${BASE}/console/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, "cf-connecting-ip": ip },
        body: new URLSearchParams({ accessKeyId: key.accessKeyId, secret, adminToken: "" }),
      });
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) expect((await signIn(`wrong-${i}`)).status).toBe(401);
    const blocked = await signIn(key.secretAccessKey);
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toContain("Too many failed sign-ins");
  });
});
