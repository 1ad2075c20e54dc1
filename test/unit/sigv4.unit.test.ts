import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { Sha256Js } from "@smithy/core/checksum";
import { buildQueryString, HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import { AwsV4Signer } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { hasSigV4, SIGNATURE_MISMATCH, verifySigV4 } from "../../src/auth/sigv4";
import { LambdaError } from "../../src/errors";

// Requests are signed by @smithy/signature-v4 (the signer inside
// @aws-sdk/client-lambda) and by aws4fetch, then verified with a fixed clock.

const AKID = "AKIACELLFNTEST000001";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const HOST = "lambda.cellfn.example";
const SIGNED_AT = new Date("2026-11-23T12:00:00Z");
const NOW = new Date(SIGNED_AT.getTime() + 30_000);
const ARN = "arn:aws:lambda:us-east-1:123456789012:function:f";
const ENCODED_ARN = encodeURIComponent(ARN);

const secretFor = async (id: string) => (id === AKID ? SECRET : null);

interface SignInput {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  secret?: string;
  service?: string;
  region?: string;
  sessionToken?: string;
  signingDate?: Date;
}

/** Signs like the JS SDK does: path already percent-encoded, query as a decoded map, host header set. */
async function smithySigned(input: SignInput): Promise<Request> {
  const signer = new SignatureV4({
    service: input.service ?? "lambda",
    region: input.region ?? "us-east-1",
    sha256: Sha256Js,
    credentials: { accessKeyId: AKID, secretAccessKey: input.secret ?? SECRET, sessionToken: input.sessionToken },
  });
  const request = new HttpRequest({
    method: input.method,
    protocol: "https:",
    hostname: HOST,
    path: input.path,
    query: input.query ?? {},
    headers: { host: HOST, ...input.headers },
    body: input.body,
  });
  const signed = await signer.sign(request, { signingDate: input.signingDate ?? SIGNED_AT });
  const qs = buildQueryString(signed.query ?? {});
  const headers = new Headers();
  for (const [name, value] of Object.entries(signed.headers)) headers.set(name, value);
  return new Request(`https://${HOST}${signed.path}${qs ? `?${qs}` : ""}`, {
    method: signed.method,
    headers,
    body: input.body ?? null,
  });
}

function toFetchRequest(signed: HttpRequest, body?: string | Uint8Array): Request {
  const qs = buildQueryString(signed.query ?? {});
  const headers = new Headers();
  for (const [name, value] of Object.entries(signed.headers)) headers.set(name, value);
  const port = signed.port ? `:${signed.port}` : "";
  return new Request(`${signed.protocol}//${signed.hostname}${port}${signed.path}${qs ? `?${qs}` : ""}`, {
    method: signed.method,
    headers,
    body: body ?? null,
  });
}

/** What @aws-sdk/client-lambda itself puts on the wire (serialisation, middleware, signing), captured before sending. */
async function sdkRequest(send: (client: LambdaClient) => Promise<unknown>): Promise<Request> {
  let captured: Request | null = null;
  const client = new LambdaClient({
    endpoint: `https://${HOST}`,
    region: "us-east-1",
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        const body: unknown = request.body;
        captured = toFetchRequest(request, typeof body === "string" || body instanceof Uint8Array ? body : undefined);
        throw new Error("captured");
      },
    },
  });
  await send(client).catch(() => undefined);
  if (captured === null) throw new Error("the SDK sent no request");
  return captured;
}

async function aws4fetchSigned(input: SignInput): Promise<Request> {
  const qs = new URLSearchParams(input.query ?? {}).toString();
  const signed = await new AwsV4Signer({
    method: input.method,
    url: `https://${HOST}${input.path}${qs ? `?${qs}` : ""}`,
    headers: input.headers,
    body: input.body ?? null,
    accessKeyId: AKID,
    secretAccessKey: input.secret ?? SECRET,
    service: input.service ?? "lambda",
    region: input.region ?? "us-east-1",
    datetime: (input.signingDate ?? SIGNED_AT).toISOString().replace(/[-:]|\.\d{3}/g, ""),
  }).sign();
  return new Request(signed.url, { method: signed.method, headers: signed.headers, body: input.body ?? null });
}

async function verify(request: Request, now = NOW) {
  return verifySigV4(request, await request.clone().arrayBuffer(), secretFor, now);
}

async function expectFailure(request: Request | Promise<Request>, status: number, type: string, now = NOW) {
  const error = await verify(await request, now).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(LambdaError);
  if (!(error instanceof LambdaError)) return "";
  expect({ status: error.status, type: error.type }).toEqual({ status, type });
  return error.message;
}

/** The same request with some parts replaced (the signature headers stay as signed). */
async function tamper(
  request: Request,
  change: { url?: string; body?: string; headers?: Record<string, string> },
): Promise<Request> {
  const headers = new Headers(request.headers);
  for (const [name, value] of Object.entries(change.headers ?? {})) headers.set(name, value);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const body = change.body ?? (hasBody ? await request.clone().arrayBuffer() : null);
  return new Request(change.url ?? request.url, { method: request.method, headers, body });
}

const CASES: Array<[string, SignInput]> = [
  ["GET with a full-ARN function name", { method: "GET", path: `/2015-03-31/functions/${ENCODED_ARN}/configuration` }],
  [
    "GET with a query string",
    {
      method: "GET",
      path: "/2015-03-31/functions/",
      query: { Marker: "abc+/=", MaxItems: "50", FunctionVersion: "ALL" },
    },
  ],
  [
    "GET with Qualifier=$LATEST",
    { method: "GET", path: `/2015-03-31/functions/${ENCODED_ARN}`, query: { Qualifier: "$LATEST" } },
  ],
  [
    "POST with a JSON body",
    {
      method: "POST",
      path: "/2015-03-31/functions/my-fn/invocations",
      headers: { "content-type": "application/json", "x-amz-invocation-type": "RequestResponse" },
      body: JSON.stringify({ hello: "wörld", n: [1, 2, 3] }),
    },
  ],
  [
    "PUT with a binary body",
    {
      method: "PUT",
      path: "/2015-03-31/functions/my-fn/code",
      headers: { "content-type": "application/octet-stream" },
      body: Uint8Array.from({ length: 1024 }, (_, i) => (i * 131) % 256),
    },
  ],
  ["a path label containing %2F", { method: "GET", path: "/2015-03-31/functions/a%2Fb/aliases/live" }],
  ["a path with characters encoded twice", { method: "DELETE", path: "/2015-03-31/functions/f%20%28x%29%21/concurrency" }],
];

describe("verifySigV4 accepts", () => {
  for (const [name, input] of CASES) {
    it(`${name} (@smithy/signature-v4)`, async () => {
      await expect(verify(await smithySigned(input))).resolves.toEqual({ accessKeyId: AKID, region: "us-east-1" });
    });
    it(`${name} (aws4fetch)`, async () => {
      await expect(verify(await aws4fetchSigned(input))).resolves.toEqual({ accessKeyId: AKID, region: "us-east-1" });
    });
  }

  it("any region in the credential scope", async () => {
    const request = await smithySigned({ method: "GET", path: "/2015-03-31/functions/", region: "eu-central-7" });
    await expect(verify(request)).resolves.toEqual({ accessKeyId: AKID, region: "eu-central-7" });
  });

  it("a signed X-Amz-Security-Token", async () => {
    const request = await smithySigned({ method: "GET", path: "/2015-03-31/functions/", sessionToken: "tok/en+=" });
    expect(request.headers.get("authorization")).toContain("x-amz-security-token");
    await expect(verify(request)).resolves.toEqual({ accessKeyId: AKID, region: "us-east-1" });
  });

  it("a signature 14 minutes old and one 14 minutes ahead", async () => {
    const request = await smithySigned({ method: "GET", path: "/2015-03-31/functions/" });
    await expect(verify(request.clone(), new Date(SIGNED_AT.getTime() + 14 * 60_000))).resolves.toBeDefined();
    await expect(verify(request, new Date(SIGNED_AT.getTime() - 14 * 60_000))).resolves.toBeDefined();
  });

  it("a Host header that differs from the URL's host (proxy rewrote the URL)", async () => {
    const signed = await smithySigned({ method: "GET", path: "/2015-03-31/functions/" });
    const rewritten = tamper(signed, { url: "http://127.0.0.1:8787/2015-03-31/functions/" });
    await expect(verify(await rewritten)).resolves.toBeDefined();
  });
});

describe("verifySigV4 accepts what @aws-sdk/client-lambda sends", () => {
  const sdkNow = () => new Date();

  it("GetFunctionConfiguration with a full ARN and Qualifier", async () => {
    const request = await sdkRequest((c) => c.send(new GetFunctionConfigurationCommand({ FunctionName: ARN, Qualifier: "$LATEST" })));
    expect(new URL(request.url).pathname).toBe(`/2015-03-31/functions/${ENCODED_ARN}/configuration`);
    expect(new URL(request.url).search).toBe("?Qualifier=%24LATEST");
    await expect(verify(request, sdkNow())).resolves.toEqual({ accessKeyId: AKID, region: "us-east-1" });
  });

  it("ListFunctions with Marker and MaxItems", async () => {
    const request = await sdkRequest((c) => c.send(new ListFunctionsCommand({ Marker: "a b+c/=", MaxItems: 5 })));
    await expect(verify(request, sdkNow())).resolves.toBeDefined();
  });

  it("Invoke with a JSON payload, and refuses it with the payload changed", async () => {
    const payload = new TextEncoder().encode(JSON.stringify({ hello: "wörld" }));
    const request = await sdkRequest((c) => c.send(new InvokeCommand({ FunctionName: "my-fn", Payload: payload })));
    await expect(verify(request.clone(), sdkNow())).resolves.toBeDefined();
    await expectFailure(tamper(request, { body: '{"hello":"world"}' }), 403, "InvalidSignatureException", sdkNow());
  });
});

describe("verifySigV4 accepts what botocore (the AWS CLI's signer) sends", () => {
  // Captured from botocore 1.43.11 (`create_client("lambda", endpoint_url=...)`, before-send hook)
  // with the AKID/SECRET above; botocore signs only host and x-amz-date.
  const AT = "20261123T174832Z";
  const at = new Date(Date.UTC(2026, 10, 23, 17, 48, 32) + 30_000);
  const auth = (signature: string) =>
    `AWS4-HMAC-SHA256 Credential=${AKID}/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`;
  const VECTORS: Array<[string, string, string, string, string?]> = [
    [
      "get-function-configuration with a full ARN and --qualifier '$LATEST'",
      "GET",
      `/2015-03-31/functions/${ENCODED_ARN}/configuration?Qualifier=%24LATEST`,
      "8553d8af1e6f1d6d6e3f1df3518656583c642058813485c55de3f78b82028faf",
    ],
    [
      "list-functions with Marker and MaxItems",
      "GET",
      "/2015-03-31/functions?Marker=a%20b%2Bc%2F%3D&MaxItems=5",
      "c258fc6e03c2e996d1772a62bb19b03a5d5a3853ffbf704715450ba8fa808658",
    ],
    [
      "invoke with a payload",
      "POST",
      "/2015-03-31/functions/my-fn/invocations",
      "50d0ca2a86b75f6d12e0324808e9adf66d5557e6b1bc43fc68aee0ab66e2f22c",
      '{"hello":"wörld"}',
    ],
  ];
  for (const [name, method, pathAndQuery, signature, body] of VECTORS) {
    const request = () =>
      new Request(`https://${HOST}${pathAndQuery}`, {
        method,
        headers: { host: HOST, "x-amz-date": AT, authorization: auth(signature) },
        body: body ?? null,
      });
    it(name, async () => {
      await expect(verify(request(), at)).resolves.toEqual({ accessKeyId: AKID, region: "us-east-1" });
    });
    it(`${name}, with one signature digit changed`, async () => {
      const changed = signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      const tampered = await tamper(request(), { headers: { authorization: auth(changed) } });
      await expectFailure(tampered, 403, "InvalidSignatureException", at);
    });
  }
});

describe("verifySigV4 refuses", () => {
  const post: SignInput = {
    method: "POST",
    path: "/2015-03-31/functions/my-fn/invocations",
    headers: { "content-type": "application/json" },
    body: '{"a":1}',
  };
  const list: SignInput = { method: "GET", path: "/2015-03-31/functions/", query: { Marker: "m", MaxItems: "10" } };

  it("a wrong secret", async () => {
    const message = await expectFailure(smithySigned({ ...post, secret: "not-the-secret" }), 403, "InvalidSignatureException");
    expect(message).toBe(SIGNATURE_MISMATCH);
    await expectFailure(aws4fetchSigned({ ...post, secret: "not-the-secret" }), 403, "InvalidSignatureException");
  });

  it("a tampered body, with and without x-amz-content-sha256", async () => {
    const smithy = await smithySigned(post);
    expect(smithy.headers.get("x-amz-content-sha256")).not.toBeNull();
    await expectFailure(tamper(smithy, { body: '{"a":2}' }), 403, "InvalidSignatureException");
    const a4f = await aws4fetchSigned(post);
    expect(a4f.headers.get("x-amz-content-sha256")).toBeNull();
    await expectFailure(tamper(a4f, { body: '{"a":2}' }), 403, "InvalidSignatureException");
  });

  it("an x-amz-content-sha256 of UNSIGNED-PAYLOAD", async () => {
    const request = await smithySigned({ ...post, headers: { ...post.headers, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    await expectFailure(request, 403, "InvalidSignatureException");
  });

  it("a tampered query", async () => {
    const signed = await smithySigned(list);
    const url = `https://${HOST}/2015-03-31/functions/?Marker=m&MaxItems=11`;
    await expectFailure(tamper(signed, { url }), 403, "InvalidSignatureException");
    await expectFailure(tamper(signed, { url: `${signed.url}&Extra=1` }), 403, "InvalidSignatureException");
  });

  it("a tampered path", async () => {
    const signed = await smithySigned({ method: "GET", path: `/2015-03-31/functions/${ENCODED_ARN}/configuration` });
    const url = signed.url.replace("function%3Af", "function%3Ag");
    await expectFailure(tamper(signed, { url }), 403, "InvalidSignatureException");
  });

  it("a tampered signed header", async () => {
    const signed = await smithySigned(post);
    await expectFailure(tamper(signed, { headers: { "content-type": "text/plain" } }), 403, "InvalidSignatureException");
  });

  it("an unknown access key id", async () => {
    const signed = await smithySigned(post);
    const auth = (signed.headers.get("authorization") ?? "").replace(AKID, "AKIAUNKNOWN000000000");
    const message = await expectFailure(tamper(signed, { headers: { authorization: auth } }), 403, "UnrecognizedClientException");
    expect(message).toBe("The security token included in the request is invalid.");
  });

  it("a signature 16 minutes old", async () => {
    const request = await smithySigned({ ...list, signingDate: new Date(NOW.getTime() - 16 * 60_000) });
    const message = await expectFailure(request, 403, "InvalidSignatureException");
    expect(message).toBe("Signature expired: 20261123T114430Z is now earlier than 20261123T114530Z (20261123T120030Z - 15 min.)");
  });

  it("a signature dated 16 minutes in the future", async () => {
    const request = await smithySigned({ ...list, signingDate: new Date(NOW.getTime() + 16 * 60_000) });
    const message = await expectFailure(request, 403, "InvalidSignatureException");
    expect(message).toBe("Signature not yet current: 20261123T121630Z is still later than 20261123T121530Z (20261123T120030Z + 15 min.)");
  });

  it("a credential date that differs from X-Amz-Date", async () => {
    const signed = await smithySigned(list);
    const auth = (signed.headers.get("authorization") ?? "").replace("/20261123/", "/20261122/");
    const message = await expectFailure(tamper(signed, { headers: { authorization: auth } }), 403, "InvalidSignatureException");
    expect(message).toBe(
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T120000Z'.",
    );
  });

  it("a malformed Authorization header", async () => {
    const signed = await smithySigned(list);
    const auth = signed.headers.get("authorization") ?? "";
    const noSignature = auth.replace(/, Signature=[0-9a-f]+/, "");
    let message = await expectFailure(tamper(signed, { headers: { authorization: noSignature } }), 403, "IncompleteSignatureException");
    expect(message).toBe(`Authorization header requires 'Signature' parameter. Authorization=${noSignature}`);
    const noEquals = auth.replace("SignedHeaders=", "SignedHeaders ");
    message = await expectFailure(tamper(signed, { headers: { authorization: noEquals } }), 403, "IncompleteSignatureException");
    expect(message).toMatch(/^'SignedHeaders .*' not a valid key=value pair \(missing equal-sign\) in Authorization header: /);
    const fourParts = auth.replace("/aws4_request", "");
    message = await expectFailure(tamper(signed, { headers: { authorization: fourParts } }), 403, "IncompleteSignatureException");
    expect(message).toMatch(/^Credential must have exactly 5 slash-delimited elements/);
    const otherAlgorithm = auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1");
    await expectFailure(tamper(signed, { headers: { authorization: otherAlgorithm } }), 403, "IncompleteSignatureException");
  });

  it("a missing or malformed X-Amz-Date", async () => {
    const signed = await smithySigned(list);
    const headers = new Headers(signed.headers);
    headers.delete("x-amz-date");
    const message = await expectFailure(new Request(signed.url, { headers }), 403, "IncompleteSignatureException");
    expect(message).toMatch(/^Authorization header requires existence of a 'X-Amz-Date' header\. Authorization=AWS4-HMAC-SHA256 /);
    const bad = tamper(signed, { headers: { "x-amz-date": "2026-11-23T12:00:00Z" } });
    expect(await expectFailure(bad, 403, "IncompleteSignatureException")).toMatch(/^Date must be in ISO-8601 'basic format'/);
    await expectFailure(tamper(signed, { headers: { "x-amz-date": "20261323T120000Z" } }), 403, "IncompleteSignatureException");
  });

  it("a credential scoped to another service", async () => {
    const message = await expectFailure(smithySigned({ ...list, service: "execute-api" }), 403, "InvalidSignatureException");
    expect(message).toBe("Credential should be scoped to correct service: 'lambda'.");
  });

  it("a wrong terminator", async () => {
    const signed = await smithySigned(list);
    const auth = (signed.headers.get("authorization") ?? "").replace("/aws4_request", "/aws5_request");
    const message = await expectFailure(tamper(signed, { headers: { authorization: auth } }), 403, "InvalidSignatureException");
    expect(message).toBe("Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.");
  });

  it("a signature that does not cover Host or X-Amz-Date", async () => {
    const signed = await smithySigned(list);
    const auth = signed.headers.get("authorization") ?? "";
    const withoutHost = auth.replace("host;", "");
    const message = await expectFailure(tamper(signed, { headers: { authorization: withoutHost } }), 403, "InvalidSignatureException");
    expect(message).toBe("'Host' must be a 'SignedHeader' in the AWS Authorization.");
    const withoutDate = auth.replace(";x-amz-date", "");
    await expectFailure(tamper(signed, { headers: { authorization: withoutDate } }), 403, "InvalidSignatureException");
  });

  it("an unsorted or upper-case SignedHeaders list", async () => {
    const signed = await smithySigned(list);
    const auth = signed.headers.get("authorization") ?? "";
    const upper = auth.replace("SignedHeaders=host", "SignedHeaders=Host");
    await expectFailure(tamper(signed, { headers: { authorization: upper } }), 403, "InvalidSignatureException");
    const reordered = auth.replace(/SignedHeaders=([^,]+)/, (_, list: string) => `SignedHeaders=${list.split(";").reverse().join(";")}`);
    await expectFailure(tamper(signed, { headers: { authorization: reordered } }), 403, "InvalidSignatureException");
  });
});

describe("hasSigV4", () => {
  it("recognises only AWS4-HMAC-SHA256 Authorization headers", () => {
    const withAuth = (value?: string) =>
      new Request(`https://${HOST}/`, value === undefined ? {} : { headers: { authorization: value } });
    expect(hasSigV4(withAuth("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00"))).toBe(true);
    expect(hasSigV4(withAuth("Bearer abc"))).toBe(false);
    expect(hasSigV4(withAuth())).toBe(false);
  });
});
