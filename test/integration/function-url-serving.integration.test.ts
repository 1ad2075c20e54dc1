/**
 * Serving function URLs (issue 14, Function URLs): requests by Host
 * `<url-id>.lambda-url.us-east-1.localhost` through the real Worker and the
 * invoke path. The payload 2.0 event the function receives, the response
 * interpretation, CORS, the NONE policy requirement, SigV4 for AWS_IAM
 * (cross-tenant only by policy), RESPONSE_STREAM, and AWS's error answers.
 */
import { AwsClient } from "aws4fetch";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

const ECHO = `exports.handler = async (event) => {
  const mode = event.headers['x-mode'];
  if (mode === 'throw') throw new Error('boom');
  if (mode === 'raw') return JSON.parse(event.body);
  if (mode === 'big') return 'x'.repeat(6 * 1024 * 1024 + 10);
  return { statusCode: 200, headers: { 'content-type': 'application/json', 'x-echo': 'yes' }, cookies: ['session=1; Path=/', 'theme=dark'], body: JSON.stringify(event) };
};`;
const STREAMER = `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.headers['x-mode'] === 'throw') throw new Error('before any byte');
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-stream': '1' }, cookies: ['s=1'] });
  stream.write('first,');
  await new Promise((r) => setTimeout(r, 300));
  stream.write('second');
  stream.end();
});`;

let key: TenantKey;
const hosts = { echo: "", streamer: "", closed: "", iam: "" };

/** Creates `name` with a URL (and, for NONE, the public statement unless `open` is false); returns the URL. */
async function withUrl(name: string, code: string, config: Record<string, unknown>, opts: { open?: boolean; qualifier?: string } = {}): Promise<string> {
  const q = opts.qualifier === undefined ? "" : `?Qualifier=${opts.qualifier}`;
  const res = await signed(key, "POST", `/2021-10-31/functions/${name}/url${q}`, config);
  expect(res.status).toBe(201);
  const { FunctionUrl } = await res.json<{ FunctionUrl: string }>();
  if (config.AuthType === "NONE" && opts.open !== false) {
    const grant = await signed(key, "POST", `${fn(name)}/policy${q}`, { StatementId: "public", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" });
    expect(grant.status).toBe(201);
  }
  return FunctionUrl;
}

const call = (url: string, init: RequestInit = {}) => exports.default.fetch(new Request(url, init));
const eventOf = async (res: Response) => JSON.parse(await res.text()) as Record<string, any>;

beforeAll(async () => {
  key = await newTenant();
  await createActive(key, createFunctionBody("echo", { "index.js": ECHO }));
  await createActive(key, createFunctionBody("streamer", { "index.js": STREAMER }));
  await createActive(key, createFunctionBody("closed", { "index.js": ECHO }));
  await createActive(key, createFunctionBody("iam", { "index.js": ECHO }));
  hosts.echo = await withUrl("echo", ECHO, { AuthType: "NONE", Cors: { AllowOrigins: ["https://app.example"], AllowMethods: ["GET", "POST"], AllowHeaders: ["x-custom"], ExposeHeaders: ["x-echo"], MaxAge: 600 } });
  hosts.streamer = await withUrl("streamer", STREAMER, { AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" });
  hosts.closed = await withUrl("closed", ECHO, { AuthType: "NONE" }, { open: false });
  hosts.iam = await withUrl("iam", ECHO, { AuthType: "AWS_IAM" });
});

describe("the request event", () => {
  it("carries every payload 2.0 field, with cookies, repeated headers and query keys", async () => {
    const headers = new Headers({ "content-type": "application/json", "user-agent": "curl/8.5", cookie: "a=1; b=2", "x-custom": "one" });
    headers.append("x-custom", "two");
    const res = await call(`${hosts.echo}some/pa%2Fth?q=1&q=2&name=x%20y`, { method: "POST", headers, body: '{"hello":"world"}' });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-echo")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual(["session=1; Path=/", "theme=dark"]);
    expect(res.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
    const event = await eventOf(res);
    const urlId = new URL(hosts.echo).hostname.split(".")[0];
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/some/pa%2Fth",
      rawQueryString: "q=1&q=2&name=x%20y",
      cookies: ["a=1", "b=2"],
      queryStringParameters: { q: "1,2", name: "x y" },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: "anonymous",
        apiId: urlId,
        domainName: new URL(hosts.echo).hostname,
        domainPrefix: urlId,
        http: { method: "POST", path: "/some/pa%2Fth", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "curl/8.5" },
        requestId: res.headers.get("x-amzn-RequestId"),
        routeKey: "$default",
        stage: "$default",
      },
    });
    expect(event.headers).toMatchObject({ "content-type": "application/json", "user-agent": "curl/8.5", "x-custom": "one, two", host: new URL(hosts.echo).host });
    expect(event.headers["x-forwarded-proto"]).toBe("http");
    expect(event.headers).not.toHaveProperty("cookie");
    expect(event.requestContext).not.toHaveProperty("authorizer");
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it("base64-encodes binary bodies and leaves out an empty one", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 255]);
    const binary = await eventOf(await call(`${hosts.echo}`, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: bytes }));
    expect(binary).toMatchObject({ isBase64Encoded: true, body: "AAEC+vv/" });
    const empty = await eventOf(await call(`${hosts.echo}`));
    expect(empty).not.toHaveProperty("body");
    expect(empty).not.toHaveProperty("queryStringParameters");
    expect(empty).toMatchObject({ isBase64Encoded: false, rawPath: "/", requestContext: { http: { method: "GET" } } });
  });
});

describe("the response", () => {
  const raw = (value: unknown) => call(hosts.echo, { method: "POST", headers: { "x-mode": "raw", "content-type": "application/json" }, body: JSON.stringify(value) });

  it("sends a plain value as JSON 200 and applies a response object", async () => {
    const plain = await raw({ hello: "world" });
    expect([plain.status, plain.headers.get("content-type"), await plain.text()]).toEqual([200, "application/json", '{"hello":"world"}']);
    const text = await raw("hello");
    expect(await text.text()).toBe("hello");
    const teapot = await raw({ statusCode: "418", body: "i'm a teapot", headers: { "content-type": "text/plain" } });
    expect([teapot.status, teapot.headers.get("content-type"), await teapot.text()]).toEqual([418, "text/plain", "i'm a teapot"]);
    const binary = await raw({ statusCode: 200, body: "AP8=", isBase64Encoded: true, headers: { "content-type": "image/png" } });
    expect(new Uint8Array(await binary.arrayBuffer())).toEqual(new Uint8Array([0, 255]));
    const empty = await raw({ statusCode: 204 });
    expect([empty.status, await empty.text()]).toEqual([204, ""]);
  });

  it("answers a function error, a malformed result and an oversize result with 502 Internal Server Error", async () => {
    for (const res of [
      await call(hosts.echo, { headers: { "x-mode": "throw" } }),
      await raw({ statusCode: "abc" }),
      await raw({ statusCode: 200, body: { not: "a string" } }),
      await raw({ statusCode: 200, headers: ["x"] }),
      await call(hosts.echo, { headers: { "x-mode": "big" } }),
    ]) {
      expect(res.status).toBe(502);
      expect(await res.text()).toBe("Internal Server Error");
    }
  });
});

describe("CORS", () => {
  it("answers a preflight without invoking, and adds headers for an allowed origin", async () => {
    const preflight = await call(hosts.echo, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST", "x-mode": "throw" } });
    expect(preflight.status).toBe(200);
    expect(Object.fromEntries([...preflight.headers].filter(([n]) => n.startsWith("access-control")))).toEqual({
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-methods": "GET,POST",
      "access-control-allow-headers": "x-custom",
      "access-control-max-age": "600",
    });
    const denied = await call(hosts.echo, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();

    const cross = await call(hosts.echo, { headers: { origin: "https://app.example" } });
    expect(cross.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(cross.headers.get("access-control-expose-headers")).toBe("x-echo");
    const other = await call(hosts.echo, { headers: { origin: "https://evil.example" } });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("access", () => {
  const forbidden = {
    Message: "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
  };

  it("refuses a NONE URL without the public statement, and opens it once added", async () => {
    const res = await call(hosts.closed);
    expect([res.status, res.headers.get("x-amzn-ErrorType"), await res.json()]).toEqual([403, "AccessDeniedException", forbidden]);
    const grant = await signed(key, "POST", `${fn("closed")}/policy`, { StatementId: "wrong", Action: "lambda:InvokeFunction", Principal: "*" });
    expect(grant.status).toBe(201);
    expect((await call(hosts.closed)).status).toBe(403);
    await signed(key, "POST", `${fn("closed")}/policy`, { StatementId: "url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" });
    expect((await call(hosts.closed)).status).toBe(200);
    expect((await signed(key, "DELETE", `${fn("closed")}/policy/url`)).status).toBe(204);
    expect((await call(hosts.closed)).status).toBe(403);
  });

  /** What a URL that does not exist answers: an AWS_IAM URL answers the same to anyone it does not serve. */
  const unknownUrl = [403, "AccessDeniedException", '{"Message":null}'];
  const seen = async (res: Response) => [res.status, res.headers.get("x-amzn-ErrorType"), await res.text()];

  const signer = (k: TenantKey) => new AwsClient({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, service: "lambda", region: "us-east-1" });

  it("takes SigV4-signed calls by the owner on an AWS_IAM URL, and reports the caller", async () => {
    expect(await seen(await call(hosts.iam))).toEqual(unknownUrl);
    const req = await signer(key).sign(`${hosts.iam}path?x=1`, { method: "POST", headers: { "content-type": "text/plain" }, body: "signed body" });
    const res = await exports.default.fetch(req);
    expect(res.status).toBe(200);
    const event = await eventOf(res);
    expect(event).toMatchObject({ body: "signed body", rawPath: "/path" });
    expect(event.requestContext.accountId).toBe(key.accountId);
    expect(event.requestContext.authorizer.iam).toMatchObject({ accessKey: key.accessKeyId, accountId: key.accountId, cognitoIdentity: null });
    const tampered = await signer(key).sign(hosts.iam, { method: "POST", body: "a" });
    const swapped = new Request(tampered, { body: "b" });
    const bad = await exports.default.fetch(swapped);
    expect(await seen(bad)).toEqual(unknownUrl);
    const wrongService = await new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "s3", region: "us-east-1" }).sign(hosts.iam);
    expect(await seen(await exports.default.fetch(wrongService))).toEqual(unknownUrl);
  });

  it("lets another tenant's key call an AWS_IAM URL only where the policy grants its account", async () => {
    const other = await newTenant();
    const before = await exports.default.fetch(await signer(other).sign(hosts.iam));
    expect(await seen(before)).toEqual(unknownUrl);
    const grant = await signed(key, "POST", `${fn("iam")}/policy`, { StatementId: "partner", Action: "lambda:InvokeFunctionUrl", Principal: other.accountId, FunctionUrlAuthType: "AWS_IAM" });
    expect(grant.status).toBe(201);
    const after = await exports.default.fetch(await signer(other).sign(hosts.iam));
    expect(after.status).toBe(200);
    expect((await eventOf(after)).requestContext.authorizer.iam.accountId).toBe(other.accountId);
    const third = await newTenant();
    expect(await seen(await exports.default.fetch(await signer(third).sign(hosts.iam)))).toEqual(unknownUrl);
    // Bearer tokens are no SigV4.
    expect(await seen(await call(hosts.iam, { headers: { authorization: `Bearer ${key.token}` } }))).toEqual(unknownUrl);
  });
});

describe("errors", () => {
  it("answers unknown ids and malformed hosts with AWS's 403 {\"Message\":null}", async () => {
    for (const host of [
      "http://0123456789abcdefghijklmnopqrstuv.lambda-url.us-east-1.localhost/",
      "http://short.lambda-url.us-east-1.localhost/",
      `http://${new URL(hosts.echo).hostname.split(".")[0]}.lambda-url.eu-west-1.localhost/`,
    ]) {
      const res = await call(host);
      expect([res.status, res.headers.get("x-amzn-ErrorType"), await res.text()]).toEqual([403, "AccessDeniedException", '{"Message":null}']);
    }
  });

  it("refuses a request over 6 MB with 413", async () => {
    const res = await call(hosts.echo, { method: "POST", headers: { "content-type": "text/plain" }, body: "x".repeat(6_291_457) });
    expect([res.status, res.headers.get("x-amzn-ErrorType")]).toEqual([413, "RequestEntityTooLargeException"]);
    // Within the limit as bytes, but base64 would take the event over it.
    const binary = await call(hosts.echo, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(5_000_000) });
    expect(binary.status).toBe(413);
  });

  it("throttles with 429 when the function's concurrency is 0, and serves again after", async () => {
    expect((await signed(key, "PUT", "/2017-10-31/functions/echo/concurrency", { ReservedConcurrentExecutions: 0 })).status).toBe(200);
    const res = await call(hosts.echo);
    expect([res.status, res.headers.get("x-amzn-ErrorType"), await res.json()]).toEqual([429, "TooManyRequestsException", { Message: "Rate Exceeded." }]);
    expect((await signed(key, "DELETE", "/2017-10-31/functions/echo/concurrency")).status).toBe(204);
    expect((await call(hosts.echo)).status).toBe(200);
  });

  it("stops serving a deleted URL", async () => {
    await createActive(key, createFunctionBody("gone", { "index.js": ECHO }));
    const gone = await withUrl("gone", ECHO, { AuthType: "NONE" });
    expect((await call(gone)).status).toBe(200);
    expect((await signed(key, "DELETE", "/2021-10-31/functions/gone/url")).status).toBe(204);
    expect((await call(gone)).status).toBe(403);
  });
});

describe("RESPONSE_STREAM", () => {
  it("streams the body with the HttpResponseStream prelude's status, headers and cookies, first bytes before the end", async () => {
    const started = Date.now();
    const res = await call(hosts.streamer);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("x-stream")).toBe("1");
    expect(res.headers.getSetCookie()).toEqual(["s=1"]);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: { text: string; at: number }[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push({ text: new TextDecoder().decode(value), at: Date.now() - started });
    }
    expect(chunks.map((c) => c.text).join("")).toBe("first,second");
    const first = chunks[0];
    const last = chunks.at(-1);
    expect(first?.text.startsWith("first,")).toBe(true);
    // The handler sleeps 300 ms between its writes: the first arrives well before the last.
    expect((last?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(200);
  });

  it("answers a stream that fails before its first byte with 502", async () => {
    const res = await call(hosts.streamer, { headers: { "x-mode": "throw" } });
    expect([res.status, await res.text()]).toEqual([502, "Internal Server Error"]);
  });
});

describe("aliases", () => {
  it("serves an alias's URL with the alias's version", async () => {
    await createActive(key, createFunctionBody("versioned", { "index.js": "exports.handler = async () => ({ version: 'one' });" }));
    expect((await signed(key, "POST", `${fn("versioned")}/versions`, {})).status).toBe(201);
    expect((await signed(key, "POST", `${fn("versioned")}/aliases`, { Name: "live", FunctionVersion: "1" })).status).toBe(201);
    const live = await withUrl("versioned", "", { AuthType: "NONE" }, { qualifier: "live" });
    const res = await call(live);
    expect([res.status, await res.json()]).toEqual([200, { version: "one" }]);
  });
});
