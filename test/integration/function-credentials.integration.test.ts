/**
 * Credentials inside a function (issue 11 item 2): the session credentials an
 * execution environment gets, what they may do, and the platform endpoint a
 * function reaches through its egress gateway.
 */
import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeAll, describe, expect, it } from "vitest";
import { mintSessionCredentials } from "../../src/auth/session-credentials";
import type { TenantKey } from "../helpers/platform";
import { BASE, createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";

interface Credentials {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_SESSION_TOKEN: string;
}

/** Sends a Lambda API call signed with session credentials (SigV4 + X-Amz-Security-Token), as the SDK does. */
async function withSession(credentials: Credentials, method: string, path: string, body?: unknown): Promise<Response> {
  const client = new AwsClient({
    accessKeyId: credentials.AWS_ACCESS_KEY_ID,
    secretAccessKey: credentials.AWS_SECRET_ACCESS_KEY,
    sessionToken: credentials.AWS_SESSION_TOKEN,
    service: "lambda",
    region: "us-east-1",
  });
  const request = await client.sign(`${BASE}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return exports.default.fetch(request);
}

const CREDENTIALS_HANDLER = {
  "index.js": "exports.handler = async () => ({ AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: process.env.AWS_SESSION_TOKEN });",
};

async function credentialsOf(key: TenantKey, name: string): Promise<Credentials> {
  const res = await signed(key, "POST", `${fn(name)}/invocations`, {});
  expect(res.status).toBe(200);
  return res.json<Credentials>();
}

let a: TenantKey;
let b: TenantKey;
let session: Credentials;

beforeAll(async () => {
  a = await newTenant("full", "creds-a");
  b = await newTenant("full", "creds-b");
  for (const [key, name] of [[a, "holder"], [a, "sibling"], [b, "other"]] as const) {
    await createActive(key, createFunctionBody(name, CREDENTIALS_HANDLER));
  }
  session = await credentialsOf(a, "holder");
});

describe("session credentials in process.env", () => {
  it("are temporary AWS-shaped credentials, never the tenant's key", async () => {
    expect(session.AWS_ACCESS_KEY_ID).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(session.AWS_SECRET_ACCESS_KEY).toHaveLength(40);
    expect(session.AWS_SESSION_TOKEN).toMatch(/^cellfn1\./);
    expect(session.AWS_ACCESS_KEY_ID).not.toBe(a.accessKeyId);
  });

  it("list and read the tenant's functions and invoke its other functions", async () => {
    const list = await withSession(session, "GET", "/2015-03-31/functions");
    expect(list.status).toBe(200);
    const names = (await list.json<{ Functions: { FunctionName: string }[] }>()).Functions.map((f) => f.FunctionName).sort();
    expect(names).toEqual(["holder", "sibling"]);
    expect((await withSession(session, "GET", fn("sibling"))).status).toBe(200);
    const invoked = await withSession(session, "POST", `${fn("sibling")}/invocations`, {});
    expect(invoked.status).toBe(200);
    expect((await invoked.json<Credentials>()).AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    const event = await exports.default.fetch(
      await new AwsClient({ accessKeyId: session.AWS_ACCESS_KEY_ID, secretAccessKey: session.AWS_SECRET_ACCESS_KEY, sessionToken: session.AWS_SESSION_TOKEN, service: "lambda", region: "us-east-1" })
        .sign(`${BASE}${fn("sibling")}/invocations`, { method: "POST", headers: { "X-Amz-Invocation-Type": "Event" }, body: "{}" }),
    );
    expect(event.status).toBe(202);
  });

  it("get against tenant B exactly what tenant A's key gets", async () => {
    for (const path of [fn("other"), fn(`arn:aws:lambda:us-east-1:${b.accountId}:function:other`)]) {
      const byKey = await errorOf(await signed(a, "GET", path));
      const bySession = await errorOf(await withSession(session, "GET", path));
      expect(bySession).toEqual(byKey);
      expect([403, 404]).toContain(bySession.status);
    }
  });

  it("cannot change functions (control-plane writes are refused)", async () => {
    const res = await withSession(session, "DELETE", fn("sibling"));
    expect(await errorOf(res)).toMatchObject({ status: 403, type: "AccessDeniedException" });
    expect((await signed(a, "GET", fn("sibling"))).status).toBe(200);
  });

  it("cannot call the admin API", async () => {
    const res = await withSession(session, "GET", "/admin/tenants");
    expect(res.status).toBe(401);
  });

  it("are refused once expired, and when forged or signed with the wrong secret", async () => {
    const old = await mintSessionCredentials(env.KEY_DERIVATION_SECRET, { tenantId: a.tenantId, functionName: "holder", environmentId: "e1" }, Date.now() - 7 * 3600_000);
    const expired = { AWS_ACCESS_KEY_ID: old.accessKeyId, AWS_SECRET_ACCESS_KEY: old.secretAccessKey, AWS_SESSION_TOKEN: old.sessionToken };
    expect(await errorOf(await withSession(expired, "GET", "/2015-03-31/functions"))).toEqual({ status: 403, type: "ExpiredTokenException", message: "The security token included in the request is expired" });

    const [prefix, body, mac] = session.AWS_SESSION_TOKEN.split(".");
    const claims = JSON.parse(atob((body ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    const forgedBody = btoa(JSON.stringify({ ...claims, t: b.tenantId })).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const forged = { ...session, AWS_SESSION_TOKEN: `${prefix}.${forgedBody}.${mac}` };
    expect(await errorOf(await withSession(forged, "GET", "/2015-03-31/functions"))).toMatchObject({ status: 403, type: "UnrecognizedClientException" });

    const wrongSecret = { ...session, AWS_SECRET_ACCESS_KEY: "x".repeat(40) };
    expect(await errorOf(await withSession(wrongSecret, "GET", "/2015-03-31/functions"))).toMatchObject({ status: 403, type: "InvalidSignatureException" });
  });

  it("are refused after the function is deleted", async () => {
    await createActive(a, createFunctionBody("short-lived", CREDENTIALS_HANDLER));
    const creds = await credentialsOf(a, "short-lived");
    expect((await withSession(creds, "GET", "/2015-03-31/functions")).status).toBe(200);
    expect((await signed(a, "DELETE", fn("short-lived"))).status).toBe(204);
    await new Promise((r) => setTimeout(r, 2_100)); // KEY_CACHE_TTL_MS
    expect(await errorOf(await withSession(creds, "GET", "/2015-03-31/functions"))).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
  });
});

describe("the platform endpoint inside a function", () => {
  it("routes https://cellfn.internal back into cellfn through the egress gateway, not to the network", async () => {
    const source = {
      "index.js": `exports.handler = async () => {
        const res = await fetch(process.env.AWS_ENDPOINT_URL_LAMBDA + '/2015-03-31/functions');
        return { status: res.status, type: res.headers.get('x-amzn-ErrorType'), requestId: res.headers.get('x-amzn-RequestId') };
      };`,
    };
    await createActive(a, createFunctionBody("loopback", source));
    const res = await signed(a, "POST", `${fn("loopback")}/invocations`, {});
    const body = await res.json<{ status: number; type: string; requestId: string }>();
    // cellfn's own answer to an unsigned request, not a network error.
    expect(body).toMatchObject({ status: 403, type: "MissingAuthenticationTokenException" });
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
