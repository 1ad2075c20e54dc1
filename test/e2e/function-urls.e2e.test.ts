/**
 * Function URLs end to end (issue 14): `wrangler dev` started by the harness,
 * URLs configured with the real @aws-sdk/client-lambda, and called the ways
 * users call them: the real curl against a NONE URL, a headless Chromium
 * (playwright-core + @sparticuz/chromium) loading a page from one URL and
 * fetching another cross-origin under its CORS config, a request signed by
 * @smithy/signature-v4 (the SDK's signer) to an AWS_IAM URL, and a
 * RESPONSE_STREAM URL whose first bytes arrive while the handler still runs.
 * `*.localhost` resolves to loopback in curl and Chromium; Node's own calls
 * go to 127.0.0.1 with the URL's Host header (node:http).
 */
import { execFile } from "node:child_process";
import http from "node:http";
import { promisify } from "node:util";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  type CreateFunctionUrlConfigCommandInput,
  GetFunctionUrlConfigCommand,
  type LambdaClient,
  ListFunctionUrlConfigsCommand,
} from "@aws-sdk/client-lambda";
import chromium from "@sparticuz/chromium";
import { Sha256Js } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import { strToU8, zipSync } from "fflate";
import { type Browser, chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, untilActive } from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const run = promisify(execFile);

const PAGE_JS = `exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: '<!doctype html><html><head><title>cellfn</title></head><body><h1 id="greeting">Hello from a function URL</h1></body></html>',
});`;
const ECHO_JS = `exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'x-echo': 'yes' },
  cookies: ['visited=1; Path=/'],
  body: JSON.stringify(event),
});`;
/** Writes, waits STREAM_PAUSE_MS, writes again: the first bytes must reach the client during the pause. */
const STREAM_PAUSE_MS = 1500;
const STREAM_JS = `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });
  stream.write('tick ');
  await new Promise((r) => setTimeout(r, ${STREAM_PAUSE_MS}));
  stream.write('tock');
  stream.end();
});`;

let platform: Platform;
let tenant: TenantCredentials;
let lambda: LambdaClient;
let browser: Browser | undefined;

async function deploy(name: string, code: string, url: Omit<CreateFunctionUrlConfigCommandInput, "FunctionName">, open = url.AuthType === "NONE"): Promise<string> {
  await lambda.send(
    new CreateFunctionCommand({ FunctionName: name, Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zipSync({ "index.js": strToU8(code) }) } }),
  );
  await untilActive(lambda, name);
  const created = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, ...url }));
  if (open) {
    await lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: "public-url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" }));
  }
  return created.FunctionUrl ?? "";
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Milliseconds from the request to each chunk of the body. */
  chunkTimes: number[];
}

/** An HTTP request to 127.0.0.1 with the URL's host in the Host header (as DNS for *.localhost would give). */
function rawRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const target = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: target.port, path: `${target.pathname}${target.search}`, method: init.method ?? "GET", headers: { host: target.host, ...init.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        const chunkTimes: number[] = [];
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          chunkTimes.push(Date.now() - started);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), chunkTimes }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

const urls = { page: "", api: "", closed: "", iam: "", stream: "" };

beforeAll(async () => {
  platform = await startPlatform();
  tenant = await createTenantWithKey(platform, "urls");
  lambda = lambdaClient(platform, tenant);
  urls.page = await deploy("page", PAGE_JS, { AuthType: "NONE" });
  const pageOrigin = new URL(urls.page).origin;
  urls.api = await deploy("api", ECHO_JS, {
    AuthType: "NONE",
    Cors: { AllowOrigins: [pageOrigin], AllowMethods: ["POST"], AllowHeaders: ["content-type", "x-custom"], ExposeHeaders: ["x-echo"], MaxAge: 60 },
  });
  urls.closed = await deploy("no-cors", ECHO_JS, { AuthType: "NONE" });
  urls.iam = await deploy("iam", ECHO_JS, { AuthType: "AWS_IAM" });
  urls.stream = await deploy("stream", STREAM_JS, { AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("function URLs end to end", () => {
  it("answers the management API through the SDK with URLs on this host", async () => {
    expect(urls.page).toMatch(new RegExp(`^http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:${platform.port}/$`));
    const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: "api" }));
    expect(got).toMatchObject({ AuthType: "NONE", InvokeMode: "BUFFERED", FunctionUrl: urls.api, Cors: { AllowMethods: ["POST"], MaxAge: 60 } });
    const list = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: "stream" }));
    expect(list.FunctionUrlConfigs?.map((c) => c.InvokeMode)).toEqual(["RESPONSE_STREAM"]);
  });

  it("serves a NONE URL to curl", async () => {
    const { stdout } = await run("curl", ["-s", "-i", "-H", "Cookie: a=1; b=2", "-H", "X-Multi: one", "-H", "X-Multi: two", `${urls.api}hello/world?q=1&q=2`]);
    const [head = "", body = ""] = stdout.split(/\r\n\r\n/);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head.toLowerCase()).toContain("x-echo: yes");
    expect(head.toLowerCase()).toContain("set-cookie: visited=1; path=/");
    const event = JSON.parse(body);
    expect(event).toMatchObject({
      version: "2.0",
      rawPath: "/hello/world",
      rawQueryString: "q=1&q=2",
      cookies: ["a=1", "b=2"],
      queryStringParameters: { q: "1,2" },
      requestContext: { accountId: "anonymous", http: { method: "GET", path: "/hello/world", userAgent: expect.stringMatching(/^curl\//) } },
      isBase64Encoded: false,
    });
    expect(event.headers["x-multi"]).toMatch(/^one, ?two$/);
    expect(event.headers.host).toBe(new URL(urls.api).host);

    // Binary data from curl arrives base64-encoded.
    const binary = await run("curl", ["-s", "-H", "content-type: application/octet-stream", "--data-binary", "\u0001\u0002binary", urls.api]);
    expect(JSON.parse(binary.stdout)).toMatchObject({ isBase64Encoded: true, body: Buffer.from("\u0001\u0002binary").toString("base64") });

    // Without the public statement the URL is closed, as on AWS.
    await lambda.send(new CreateFunctionCommand({ FunctionName: "private", Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zipSync({ "index.js": strToU8(ECHO_JS) }) } }));
    await untilActive(lambda, "private");
    const closed = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: "private", AuthType: "NONE" }));
    const forbidden = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", closed.FunctionUrl ?? ""]);
    expect(forbidden.stdout).toBe("403");
  });

  it("loads a page from a URL in Chromium and fetches another URL cross-origin under its CORS config", async () => {
    // @sparticuz/chromium's defaults include --disable-web-security, which turns CORS off: this test needs it on.
    const args = chromium.args.filter((arg) => arg !== "--disable-web-security");
    browser = await playwright.launch({ executablePath: await chromium.executablePath(), args, headless: true });
    const page = await browser.newPage();
    const methods: string[] = [];
    page.on("request", (r) => methods.push(`${r.method()} ${new URL(r.url()).hostname.split(".")[0]}`));
    const response = await page.goto(urls.page);
    expect(response?.status()).toBe(200);
    expect(await page.textContent("#greeting")).toBe("Hello from a function URL");

    // A preflighted cross-origin POST (custom header, JSON body) to the API URL, which allows the page's origin.
    const allowed = await page.evaluate(async (api) => {
      const res = await fetch(`${api}items?n=1`, { method: "POST", headers: { "content-type": "application/json", "x-custom": "from-browser" }, body: JSON.stringify({ a: 1 }) });
      return { status: res.status, echo: res.headers.get("x-echo"), event: await res.json() };
    }, urls.api);
    expect(allowed.status).toBe(200);
    expect(allowed.echo).toBe("yes");
    expect(allowed.event).toMatchObject({
      rawPath: "/items",
      body: '{"a":1}',
      headers: { origin: new URL(urls.page).origin, "x-custom": "from-browser" },
      requestContext: { http: { method: "POST" } },
    });

    const apiId = new URL(urls.api).hostname.split(".")[0];
    expect(methods).toContain(`POST ${apiId}`);

    // The URL without CORS config does not let the page read its answer.
    const blocked = await page.evaluate(async (other) => {
      try {
        await fetch(other, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        return "read";
      } catch (err) {
        return (err as Error).name;
      }
    }, urls.closed);
    expect(blocked).toBe("TypeError");
  });

  it("takes a SigV4-signed call to an AWS_IAM URL, as the SDK's signer makes it", async () => {
    const target = new URL(`${urls.iam}orders?id=7`);
    const signer = new SignatureV4({ service: "lambda", region: "us-east-1", sha256: Sha256Js, credentials: { accessKeyId: tenant.accessKeyId, secretAccessKey: tenant.secretAccessKey } });
    const body = JSON.stringify({ order: 7 });
    const request = new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: { id: "7" },
      headers: { host: target.host, "content-type": "application/json" },
      body,
    });
    const signed = await signer.sign(request);
    const ok = await rawRequest(target.toString(), { method: "POST", headers: signed.headers, body });
    expect(ok.status).toBe(200);
    const event = JSON.parse(ok.body);
    expect(event).toMatchObject({ body, rawPath: "/orders", requestContext: { accountId: tenant.accountId, authorizer: { iam: { accessKey: tenant.accessKeyId, accountId: tenant.accountId } } } });

    // Unsigned, or another tenant's key with no grant in the policy: the answer of a URL that does not exist.
    const unsigned = await rawRequest(target.toString(), { method: "POST", body });
    expect([unsigned.status, unsigned.body]).toEqual([403, '{"Message":null}']);
    const stranger = await createTenantWithKey(platform, "stranger");
    const theirs = await new SignatureV4({ service: "lambda", region: "us-east-1", sha256: Sha256Js, credentials: stranger }).sign(request);
    const refused = await rawRequest(target.toString(), { method: "POST", headers: theirs.headers, body });
    expect([refused.status, refused.body]).toEqual([403, '{"Message":null}']);
  });

  it("streams a RESPONSE_STREAM URL: the first bytes arrive before the handler finishes", async () => {
    const res = await rawRequest(urls.stream);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain");
    expect(res.body).toBe("tick tock");
    const first = res.chunkTimes[0] ?? 0;
    const last = res.chunkTimes.at(-1) ?? 0;
    expect(res.chunkTimes.length).toBeGreaterThanOrEqual(2);
    expect(last - first).toBeGreaterThanOrEqual(STREAM_PAUSE_MS - 300);
  });
});
