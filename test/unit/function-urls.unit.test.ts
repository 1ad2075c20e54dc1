import { describe, expect, it } from "vitest";
import { allowsUrlInvoke } from "../../src/function-urls/access";
import { checkCorsMethods, checkUrlQualifier, corsSchema, createAnswer, functionUrlOf, newUrlId, updateAnswer, URL_ID } from "../../src/function-urls/config";
import { addResponseCors, allowedOrigin, isPreflight, preflightHeaders } from "../../src/function-urls/cors";
import { bodyOf, clfTime, cookiesOf, queryParameters, urlEvent } from "../../src/function-urls/event";
import { matchHost } from "../../src/function-urls/host";
import { interpretResult, MALFORMED, splitPrelude } from "../../src/function-urls/response";
import type { FunctionUrlRow } from "../../src/data/function-url-store";
import type { PolicyStatement } from "../../src/lambda/policy";
import { permissionStatement } from "../../src/lambda/policy";
import { thrownLambdaError } from "../helpers/errors";

const ID = "abcdefghijklmnopqrstuvwxyz012345";

describe("host", () => {
  it("finds the url id of <id>.lambda-url.<region>.<domain>, with or without a port, in any case", () => {
    expect(matchHost(`${ID}.lambda-url.us-east-1.localhost:8787`, "us-east-1", "localhost")).toEqual({
      kind: "url",
      urlId: ID,
      domainName: `${ID}.lambda-url.us-east-1.localhost`,
    });
    expect(matchHost(`${ID.toUpperCase()}.LAMBDA-URL.us-east-1.Example.COM`, "us-east-1", "example.com")).toMatchObject({ kind: "url", urlId: ID });
  });

  it("leaves every other host to the API", () => {
    expect(matchHost("localhost:8787", "us-east-1", "localhost")).toEqual({ kind: "api" });
    expect(matchHost("cellfn.test", "us-east-1", "localhost")).toEqual({ kind: "api" });
    expect(matchHost(null, "us-east-1", "localhost")).toEqual({ kind: "api" });
  });

  it("calls a lambda-url host with a bad id, another region or another domain malformed", () => {
    for (const host of [
      `short.lambda-url.us-east-1.localhost`,
      `${ID}-x.lambda-url.us-east-1.localhost`,
      `${ID}.lambda-url.eu-west-1.localhost`,
      `${ID}.lambda-url.us-east-1.other.example`,
      `${ID}.lambda-url.localhost`,
      `.lambda-url.us-east-1.localhost`,
    ]) {
      expect(matchHost(host, "us-east-1", "localhost").kind, host).toBe("malformed");
    }
  });
});

describe("config", () => {
  it("makes 32-character lower-case ids, different each time", () => {
    const ids = new Set(Array.from({ length: 50 }, newUrlId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(URL_ID);
  });

  it("builds the URL with the API's scheme and port", () => {
    expect(functionUrlOf(ID, "us-east-1", "localhost", new URL("http://localhost:8787/x"))).toBe(`http://${ID}.lambda-url.us-east-1.localhost:8787/`);
    expect(functionUrlOf(ID, "us-east-1", "fn.example.com", new URL("https://api.example.com/x"))).toBe(`https://${ID}.lambda-url.us-east-1.fn.example.com/`);
  });

  it("takes only alias names as qualifiers, with AWS's message", () => {
    expect(() => checkUrlQualifier(undefined)).not.toThrow();
    expect(() => checkUrlQualifier("live")).not.toThrow();
    for (const q of ["1", "$LATEST", "a:b"]) {
      const err = thrownLambdaError(() => checkUrlQualifier(q));
      expect(err.type).toBe("ValidationException");
      expect(err.message).toBe(
        `1 validation error detected: Value '${q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)`,
      );
    }
  });

  it("holds CORS to the model's limits", () => {
    expect(corsSchema.safeParse({ AllowOrigins: ["*"], MaxAge: 86400 }).success).toBe(true);
    expect(corsSchema.safeParse({ MaxAge: 86401 }).success).toBe(false);
    expect(corsSchema.safeParse({ MaxAge: -1 }).success).toBe(false);
    expect(corsSchema.safeParse({ AllowMethods: ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"] }).success).toBe(false);
    expect(corsSchema.safeParse({ AllowMethods: ["OPTIONSX"] }).success).toBe(false);
    expect(corsSchema.safeParse({ AllowOrigins: [""] }).success).toBe(false);
    expect(corsSchema.safeParse({ AllowOrigins: ["x".repeat(254)] }).success).toBe(false);
    expect(corsSchema.safeParse({ AllowHeaders: Array.from({ length: 101 }, (_, i) => `h${i}`) }).success).toBe(false);
    expect(corsSchema.safeParse({ Unknown: 1 }).success).toBe(false);
    expect(() => checkCorsMethods({ AllowMethods: ["get", "*"] })).not.toThrow();
    expect(thrownLambdaError(() => checkCorsMethods({ AllowMethods: ["GET", "FETCH"] })).message).toContain("Value '[FETCH]' at 'cors.allowMethods'");
  });

  const row: FunctionUrlRow = {
    urlId: ID,
    tenantId: "t",
    functionName: "f",
    qualifier: "",
    authType: "NONE",
    cors: null,
    invokeMode: "BUFFERED",
    creationTime: "2026-01-01T00:00:00.000+0000",
    lastModifiedTime: "2026-01-01T00:00:00.000+0000",
  };
  const ctx = { accountId: "123456789012", region: "us-east-1", domain: "localhost", apiUrl: new URL("http://localhost:8787/") };

  it("answers Create without LastModifiedTime, and InvokeMode only when asked for", () => {
    expect(Object.keys(createAnswer(row, ctx, false))).toEqual(["FunctionUrl", "FunctionArn", "AuthType", "CreationTime"]);
    expect(createAnswer(row, ctx, true)).toMatchObject({ InvokeMode: "BUFFERED", FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:f" });
    expect(createAnswer({ ...row, qualifier: "live" }, ctx, false).FunctionArn).toBe("arn:aws:lambda:us-east-1:123456789012:function:f:live");
  });

  it("answers Update with InvokeMode when asked for or not the default", () => {
    expect(updateAnswer(row, ctx, false)).not.toHaveProperty("InvokeMode");
    expect(updateAnswer(row, ctx, true)).toHaveProperty("InvokeMode", "BUFFERED");
    expect(updateAnswer({ ...row, invokeMode: "RESPONSE_STREAM" }, ctx, false)).toHaveProperty("InvokeMode", "RESPONSE_STREAM");
  });
});

describe("payload format 2.0 event", () => {
  const now = new Date(Date.UTC(2020, 2, 12, 19, 3, 58, 390));
  const base = {
    method: "POST",
    url: `http://${ID}.lambda-url.us-east-1.localhost:8787/my/pa%2Fth?a=1&a=2&b=x%20y&empty=`,
    urlId: ID,
    domainName: `${ID}.lambda-url.us-east-1.localhost`,
    sourceIp: "1.2.3.4",
    requestId: "req-1",
    now,
  };

  it("maps every field of a text request", () => {
    const headers = new Headers({ "Content-Type": "application/json", "User-Agent": "agent/1", "X-Multi": "v1", cookie: "c1=v1; c2=v2" });
    headers.append("x-multi", "v2");
    const event = urlEvent({ ...base, headers, body: new TextEncoder().encode('{"k":"é"}') });
    expect(event).toEqual({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/my/pa%2Fth",
      rawQueryString: "a=1&a=2&b=x%20y&empty=",
      cookies: ["c1=v1", "c2=v2"],
      headers: {
        "content-type": "application/json",
        "user-agent": "agent/1",
        "x-multi": "v1, v2",
        host: `${ID}.lambda-url.us-east-1.localhost:8787`,
        "x-forwarded-for": "1.2.3.4",
        "x-forwarded-proto": "http",
        "x-forwarded-port": "8787",
      },
      queryStringParameters: { a: "1,2", b: "x y", empty: "" },
      requestContext: {
        accountId: "anonymous",
        apiId: ID,
        domainName: `${ID}.lambda-url.us-east-1.localhost`,
        domainPrefix: ID,
        http: { method: "POST", path: "/my/pa%2Fth", protocol: "HTTP/1.1", sourceIp: "1.2.3.4", userAgent: "agent/1" },
        requestId: "req-1",
        routeKey: "$default",
        stage: "$default",
        time: "12/Mar/2020:19:03:58 +0000",
        timeEpoch: now.getTime(),
      },
      body: '{"k":"é"}',
      pathParameters: null,
      isBase64Encoded: false,
      stageVariables: null,
    });
  });

  it("leaves out body, cookies and query parameters when there are none", () => {
    const event = urlEvent({ ...base, method: "GET", url: `http://${ID}.lambda-url.us-east-1.localhost/`, headers: new Headers(), body: new Uint8Array() });
    expect(event).not.toHaveProperty("body");
    expect(event).not.toHaveProperty("cookies");
    expect(event).not.toHaveProperty("queryStringParameters");
    expect(event).toMatchObject({ rawPath: "/", rawQueryString: "", isBase64Encoded: false });
    expect((event.headers as Record<string, string>)["x-forwarded-port"]).toBe("80");
  });

  it("carries the IAM caller for AWS_IAM URLs", () => {
    const caller = { accessKey: "AKIA1", accountId: "111122223333", callerId: "AKIA1", userArn: "arn:aws:iam::111122223333:root", userId: "111122223333" };
    const event = urlEvent({ ...base, headers: new Headers(), body: new Uint8Array(), caller });
    expect(event.requestContext).toMatchObject({
      accountId: "111122223333",
      authorizer: { iam: { ...caller, cognitoIdentity: null, principalOrgId: null } },
    });
  });

  it("base64-encodes binary bodies and text that is not UTF-8", () => {
    const bytes = new Uint8Array([0, 255, 1, 2, 128]);
    expect(bodyOf(bytes, "application/octet-stream")).toEqual({ text: "AP8BAoA=", base64: true });
    expect(bodyOf(bytes, "text/plain")).toEqual({ text: "AP8BAoA=", base64: true });
    expect(bodyOf(new TextEncoder().encode("a=1"), "application/x-www-form-urlencoded")).toEqual({ text: "YT0x", base64: true });
    expect(bodyOf(new TextEncoder().encode("a=1"), null)).toEqual({ text: "YT0x", base64: true });
    expect(bodyOf(new TextEncoder().encode("<a/>"), "application/xml; charset=utf-8")).toEqual({ text: "<a/>", base64: false });
    expect(bodyOf(new TextEncoder().encode("{}"), "application/vnd.api+json")).toEqual({ text: "{}", base64: false });
    expect(bodyOf(new Uint8Array(), "text/plain")).toBeUndefined();
  });

  it("splits cookies and joins repeated query keys", () => {
    expect(cookiesOf("a=1;b=2;  c=3; ")).toEqual(["a=1", "b=2", "c=3"]);
    expect(cookiesOf(null)).toEqual([]);
    expect(queryParameters("multiQuery=foo&multiQuery=%2Fbar&q=query")).toEqual({ multiQuery: "foo,/bar", q: "query" });
    expect(queryParameters("")).toBeUndefined();
    expect(clfTime(new Date(Date.UTC(2026, 0, 5, 3, 4, 5)))).toBe("05/Jan/2026:03:04:05 +0000");
  });
});

describe("response interpretation", () => {
  const text = (body: Uint8Array | string) => (typeof body === "string" ? body : new TextDecoder().decode(body));

  it("sends JSON that is no response object as a JSON 200, a string as its text", () => {
    for (const [payload, body] of [
      ['{"hello":"world"}', '{"hello":"world"}'],
      ['["hello",3,true]', '["hello",3,true]'],
      ['"hello"', "hello"],
      ["3.1", "3.1"],
      ["true", "true"],
    ]) {
      const answer = interpretResult(payload ?? "");
      if (answer === MALFORMED) throw new Error(`malformed: ${payload}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/json");
      expect(text(answer.body)).toBe(body);
    }
  });

  it("applies statusCode, headers, cookies and a base64 body", () => {
    const answer = interpretResult(
      JSON.stringify({ statusCode: "418", headers: { "X-Custom": "v", "content-type": "image/png", n: 1 }, cookies: ["a=1; Path=/", "b=2"], body: "AP8=", isBase64Encoded: true }),
    );
    if (answer === MALFORMED) throw new Error("malformed");
    expect(answer.status).toBe(418);
    expect(answer.headers.get("x-custom")).toBe("v");
    expect(answer.headers.get("n")).toBe("1");
    expect(answer.headers.get("content-type")).toBe("image/png");
    expect(answer.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2"]);
    expect(answer.body).toEqual(new Uint8Array([0, 255]));
  });

  it("defaults a response object's content type to JSON and its body to empty", () => {
    const answer = interpretResult('{"statusCode":204}');
    if (answer === MALFORMED) throw new Error("malformed");
    expect(answer).toMatchObject({ status: 204, body: "" });
    expect(answer.headers.get("content-type")).toBe("application/json");
  });

  it("refuses malformed results", () => {
    for (const payload of [
      "not json",
      '{"statusCode":"abc"}',
      '{"statusCode":99}',
      '{"statusCode":600}',
      '{"statusCode":200.5}',
      '{"statusCode":200,"headers":["x"]}',
      '{"statusCode":200,"headers":{"x":{"y":1}}}',
      '{"statusCode":200,"headers":{"bad name":"v"}}',
      '{"statusCode":200,"cookies":"a=1"}',
      '{"statusCode":200,"body":{"a":1}}',
      '{"statusCode":200,"body":"!!!","isBase64Encoded":true}',
    ]) {
      expect(interpretResult(payload), payload).toBe(MALFORMED);
    }
  });

  it("splits a streamed prelude at the 8 NUL bytes", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"statusCode":201}'), 0, 0, 0, 0, 0, 0, 0, 0, 104, 105]);
    const split = splitPrelude(bytes);
    expect(split?.prelude).toBe('{"statusCode":201}');
    expect(split && text(split.rest)).toBe("hi");
    expect(splitPrelude(bytes.subarray(0, 22))).toBeUndefined();
  });
});

describe("CORS", () => {
  const cors = { AllowOrigins: ["https://app.example"], AllowMethods: ["GET", "POST"], AllowHeaders: ["x-custom"], ExposeHeaders: ["x-out"], MaxAge: 600, AllowCredentials: true };
  const preflight = new Headers({ origin: "https://app.example", "access-control-request-method": "POST" });

  it("answers a preflight from the config", () => {
    expect(isPreflight("OPTIONS", preflight, cors)).toBe(true);
    expect(isPreflight("OPTIONS", preflight, null)).toBe(false);
    expect(isPreflight("OPTIONS", new Headers({ origin: "https://app.example" }), cors)).toBe(false);
    expect(Object.fromEntries(preflightHeaders(cors, preflight))).toEqual({
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-methods": "GET,POST",
      "access-control-allow-headers": "x-custom",
      "access-control-allow-credentials": "true",
      "access-control-max-age": "600",
      vary: "Origin",
    });
  });

  it("gives an origin it does not allow no CORS headers", () => {
    expect([...preflightHeaders(cors, new Headers({ origin: "https://evil.example", "access-control-request-method": "POST" }))]).toEqual([]);
    const headers = new Headers({ "x-fn": "1" });
    addResponseCors(cors, new Headers({ origin: "https://evil.example" }), headers);
    expect([...headers]).toEqual([["x-fn", "1"]]);
  });

  it("adds allow/expose headers to a normal response beside the function's", () => {
    const headers = new Headers({ "x-fn": "1" });
    addResponseCors(cors, new Headers({ origin: "https://app.example" }), headers);
    expect(Object.fromEntries(headers)).toEqual({
      "x-fn": "1",
      "access-control-allow-origin": "https://app.example",
      "access-control-expose-headers": "x-out",
      "access-control-allow-credentials": "true",
      vary: "Origin",
    });
  });

  it("says * for a wildcard unless credentials are allowed", () => {
    expect(allowedOrigin({ AllowOrigins: ["*"] }, "https://a.example")).toBe("*");
    expect(allowedOrigin({ AllowOrigins: ["*"], AllowCredentials: true }, "https://a.example")).toBe("https://a.example");
    expect(allowedOrigin({ AllowOrigins: ["*"] }, null)).toBeUndefined();
    expect(allowedOrigin({}, "https://a.example")).toBeUndefined();
  });
});

describe("access", () => {
  const publicNone = permissionStatement({ StatementId: "url", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" }, "arn");
  const otherIam = permissionStatement({ StatementId: "b", Action: "lambda:InvokeFunctionUrl", Principal: "111122223333", FunctionUrlAuthType: "AWS_IAM" }, "arn");
  const invokeOnly = permissionStatement({ StatementId: "c", Action: "lambda:InvokeFunction", Principal: "*" }, "arn");
  const sourced = permissionStatement({ StatementId: "d", Action: "lambda:InvokeFunctionUrl", Principal: "*", SourceArn: "arn:aws:s3:::b" }, "arn");

  it("opens a NONE URL only with the public InvokeFunctionUrl statement for NONE", () => {
    expect(allowsUrlInvoke([publicNone], "NONE", { kind: "anonymous" })).toBe(true);
    expect(allowsUrlInvoke([], "NONE", { kind: "anonymous" })).toBe(false);
    expect(allowsUrlInvoke([invokeOnly], "NONE", { kind: "anonymous" })).toBe(false);
    expect(allowsUrlInvoke([sourced], "NONE", { kind: "anonymous" })).toBe(false);
    expect(allowsUrlInvoke([otherIam], "NONE", { kind: "anonymous" })).toBe(false);
  });

  it("lets another account call an AWS_IAM URL only where a statement names it for AWS_IAM", () => {
    expect(allowsUrlInvoke([otherIam], "AWS_IAM", { kind: "account", accountId: "111122223333" })).toBe(true);
    expect(allowsUrlInvoke([otherIam], "AWS_IAM", { kind: "account", accountId: "444455556666" })).toBe(false);
    expect(allowsUrlInvoke([publicNone], "AWS_IAM", { kind: "account", accountId: "111122223333" })).toBe(false);
    const anyone: PolicyStatement = { ...publicNone, Condition: { StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } } };
    expect(allowsUrlInvoke([anyone], "AWS_IAM", { kind: "account", accountId: "444455556666" })).toBe(true);
  });
});
