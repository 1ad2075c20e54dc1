/**
 * The request event of a function URL: Lambda's payload format 2.0 (the
 * shape API Gateway HTTP APIs send; docs/reference/lambda-api-notes.md §10).
 * Pure: the HTTP request's parts in, the event object out.
 */
import { toBase64 } from "../util/bytes";

/** `requestContext.authorizer.iam` of an AWS_IAM URL: who signed the request. */
export interface IamCaller {
  accessKey: string;
  accountId: string;
  callerId: string;
  userArn: string;
  userId: string;
}

export interface UrlRequest {
  method: string;
  /** The full request URL (its path and query are used as received, still percent-encoded). */
  url: string;
  headers: Headers;
  body: Uint8Array;
  urlId: string;
  /** The Host the URL was reached under. */
  domainName: string;
  sourceIp: string;
  requestId: string;
  now: Date;
  /** Set for AWS_IAM URLs; NONE URLs are called anonymously. */
  caller?: IamCaller;
}

/** Headers the event leaves out: the cookie header (its values are `cookies`) and the edge's own. */
const DROPPED_HEADER = /^(cookie|cf-[a-z-]*|x-real-ip)$/;
/** Content types whose bodies reach the function as text (when they are valid UTF-8); anything else arrives base64-encoded. */
const TEXT_TYPE = /^text\/|[/+](json|xml|javascript|yaml)\b|^application\/(json|xml|javascript|graphql)/i;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function urlEvent(req: UrlRequest): Record<string, unknown> {
  const url = new URL(req.url);
  const rawQueryString = url.search.slice(1);
  const headers: Record<string, string> = {};
  for (const [name, value] of req.headers) if (!DROPPED_HEADER.test(name)) headers[name] = value;
  // An in-process Request has no Host header; the event always names the host, as AWS's does.
  headers.host ??= url.host;
  headers["x-forwarded-for"] ??= req.sourceIp;
  headers["x-forwarded-proto"] ??= url.protocol.slice(0, -1);
  headers["x-forwarded-port"] ??= url.port || (url.protocol === "https:" ? "443" : "80");
  const cookies = cookiesOf(req.headers.get("cookie"));
  const query = queryParameters(rawQueryString);
  const body = bodyOf(req.body, req.headers.get("content-type"));

  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: req.caller?.accountId ?? "anonymous",
      apiId: req.urlId,
      ...(req.caller ? { authorizer: { iam: { ...iamFields(req.caller) } } } : {}),
      domainName: req.domainName,
      domainPrefix: req.urlId,
      http: {
        method: req.method,
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: req.sourceIp,
        userAgent: req.headers.get("user-agent") ?? "",
      },
      requestId: req.requestId,
      routeKey: "$default",
      stage: "$default",
      time: clfTime(req.now),
      timeEpoch: req.now.getTime(),
    },
    ...(body ? { body: body.text } : {}),
    pathParameters: null,
    isBase64Encoded: body?.base64 ?? false,
    stageVariables: null,
  };
}

function iamFields(caller: IamCaller) {
  return {
    accessKey: caller.accessKey,
    accountId: caller.accountId,
    callerId: caller.callerId,
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: caller.userArn,
    userId: caller.userId,
  };
}

/** `name=value` pairs of the Cookie header(s), as sent. */
export function cookiesOf(header: string | null): string[] {
  if (header === null) return [];
  return header
    .split(";")
    .map((c) => c.trim())
    .filter((c) => c !== "");
}

/** Decoded query parameters, a repeated key's values joined with commas; undefined when there is no query. */
export function queryParameters(raw: string): Record<string, string> | undefined {
  if (raw === "") return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) out[key] = key in out ? `${out[key]},${value}` : value;
  return out;
}

/** The body as the event carries it: text for textual content types, base64 for everything else; undefined when empty. */
export function bodyOf(bytes: Uint8Array, contentType: string | null): { text: string; base64: boolean } | undefined {
  if (bytes.byteLength === 0) return undefined;
  if (contentType !== null && TEXT_TYPE.test(contentType)) {
    try {
      return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes), base64: false };
    } catch {
      // not UTF-8 after all: base64 below
    }
  }
  return { text: toBase64(bytes), base64: true };
}

/** `12/Mar/2020:19:03:58 +0000`, the event's `requestContext.time`. */
export function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
