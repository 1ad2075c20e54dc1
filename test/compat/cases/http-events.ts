/**
 * HTTP events as API Gateway (REST, v1), API Gateway HTTP API (v2) and
 * function URLs deliver them (Lambda developer guide, "Using Lambda with API
 * Gateway" and "Lambda function URLs": payload formats 1.0 and 2.0), and the
 * helpers the HTTP framework cases share.
 */
import type { Outcome } from "../case";

export interface HttpRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string | Uint8Array;
}

const REQUEST_TIME_EPOCH = 1_704_067_200_000;

function bodyFields(body: HttpRequest["body"]) {
  if (body === undefined) return { body: null, isBase64Encoded: false };
  if (typeof body === "string") return { body, isBase64Encoded: false };
  return { body: Buffer.from(body).toString("base64"), isBase64Encoded: true };
}

/** Payload format 1.0 (REST API, `{proxy+}` resource). */
export function apiGatewayV1(r: HttpRequest) {
  const headers = { host: "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "curl/8.5.0", ...r.headers, ...(r.cookies ? { cookie: r.cookies.join("; ") } : {}) };
  const query = r.query ?? null;
  return {
    resource: "/{proxy+}",
    path: r.path,
    httpMethod: r.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: { proxy: r.path.slice(1) },
    stageVariables: null,
    requestContext: {
      resourcePath: "/{proxy+}", httpMethod: r.method, path: `/prod${r.path}`, stage: "prod", protocol: "HTTP/1.1",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", requestTimeEpoch: REQUEST_TIME_EPOCH,
      accountId: "123456789012", apiId: "abc123", identity: { sourceIp: "203.0.113.7", userAgent: "curl/8.5.0" },
    },
    ...bodyFields(r.body),
  };
}

/** Payload format 2.0 (HTTP API); a function URL sends the same shape with its own domain. */
export function apiGatewayV2(r: HttpRequest, domainName = "abc123.execute-api.us-east-1.amazonaws.com") {
  const query = r.query ?? {};
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: r.path,
    rawQueryString: new URLSearchParams(query).toString(),
    ...(r.cookies ? { cookies: r.cookies } : {}),
    headers: { host: domainName, "user-agent": "curl/8.5.0", ...r.headers },
    ...(r.query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "123456789012", apiId: domainName.split(".")[0], domainName, domainPrefix: domainName.split(".")[0],
      http: { method: r.method, path: r.path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "curl/8.5.0" },
      requestId: "JKJaXmPLvHcESHA=", routeKey: "$default", stage: "$default", time: "01/Jan/2024:00:00:00 +0000", timeEpoch: REQUEST_TIME_EPOCH,
    },
    ...bodyFields(r.body),
  };
}

export const functionUrl = (r: HttpRequest) => apiGatewayV2(r, "abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws");

/** The same requests in the three formats: the event of a case whose index.js runs them in turn. */
export function allFormats(requests: HttpRequest[]) {
  return [...requests.map(apiGatewayV1), ...requests.map((r) => apiGatewayV2(r)), ...requests.map(functionUrl)];
}

/**
 * index.js of an HTTP case: the adapter's handler (exported by app.js exactly
 * as a user writes it) called once per event of the array it receives.
 */
export const RUN_EACH = [
  "const app = require('./app');",
  "exports.handler = async (events, context) => {",
  "  const out = [];",
  "  for (const event of events) out.push(await app.handler(event, context));",
  "  return out;",
  "};",
].join("\n");
export const RUN_EACH_ESM = RUN_EACH.replace("const app = require('./app');", "import * as app from './app.mjs';").replace("exports.handler =", "export const handler =");

/** Responses equal to Node's, but for the `date` header (the time of the response). */
export function sameAsNode(cellfn: Outcome, node: Outcome | undefined): string | undefined {
  if (node === undefined) return "no Node answer to compare with";
  const a = JSON.stringify(withoutDates(cellfn.value));
  const b = JSON.stringify(withoutDates(node.value));
  if (cellfn.functionError !== node.functionError) return `functionError ${cellfn.functionError} ≠ ${node.functionError}: ${a.slice(0, 300)}`;
  if (a === b) return undefined;
  let at = 0;
  while (a[at] === b[at]) at++;
  return `differs at ${at}: cellfn …${a.slice(Math.max(0, at - 80), at + 160)} ≠ node …${b.slice(Math.max(0, at - 80), at + 160)}`;
}

function withoutDates(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDates);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key.toLowerCase() !== "date").map(([k, v]) => [k, withoutDates(v)]));
}
