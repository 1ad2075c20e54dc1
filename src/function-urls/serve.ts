/**
 * The function URL front door: a request whose Host names a URL
 * (`<url-id>.lambda-url.<region>.<domain>`, host.ts) becomes a payload 2.0
 * event (event.ts), runs through the same invoke path as Invoke
 * (prepareInvoke → invokeSync, in the owner's scope and concurrency), and
 * the result becomes the HTTP response (response.ts, or stream.ts for
 * RESPONSE_STREAM). CORS preflights are answered here without invoking
 * (cors.ts); access follows the URL's AuthType and the function's policy (access.ts).
 */
import type { Context, Next } from "hono";
import type { AppEnv } from "../app-env";
import { authenticate } from "../auth/authenticate";
import { hasSigV4 } from "../auth/sigv4";
import { LambdaError, requestEntityTooLarge, serviceException, urlBadGateway, urlForbidden, urlUnknown } from "../errors";
import { handOver } from "../invoke/door";
import { SYNC_PAYLOAD_LIMIT_BYTES } from "../invoke/routes";
import { prepareInvoke } from "../invoke/target";
import { takeInvokeRequest } from "../invoke/rate-quota";
import { tenantScope } from "../services/scope";
import { allowsUrlInvoke } from "./access";
import type { Cors } from "./config";
import { addResponseCors, isPreflight, preflightHeaders } from "./cors";
import type { IamCaller } from "./event";
import { urlEvent } from "./event";
import { matchHost } from "./host";
import type { ServedUrl } from "./lookup";
import { lookupUrl } from "./lookup";
import { interpretResult, MALFORMED } from "./response";
import type { UrlRun } from "./run";
import { runInvocation } from "./run";
import { streamResponse } from "./stream";

/** Where the client's address comes from: Cloudflare's edge header, else loopback (wrangler dev, tests). */
const LOCAL_SOURCE_IP = "127.0.0.1";
/** HTTP statuses whose responses carry no body. */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/** Runs before every route: a function URL host is answered here, anything else goes on to the Lambda API. */
export async function functionUrlFrontDoor(c: Context<AppEnv>, next: Next): Promise<Response | void> {
  // The Host header as received (a proxy may rewrite request.url), else the URL's host (a Request built in-process has no Host header).
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  const match = matchHost(host, c.env.REGION, c.env.FUNCTION_URL_DOMAIN);
  if (match.kind === "api") return next();
  const requestId = crypto.randomUUID();
  try {
    if (match.kind === "malformed") throw urlUnknown();
    const served = await lookupUrl(c.env, match.urlId);
    if (!served) throw urlUnknown();
    const response = await serve(c, served, match.domainName, requestId);
    response.headers.set("x-amzn-RequestId", requestId);
    return response;
  } catch (err) {
    return urlErrorResponse(err, requestId);
  }
}

async function serve(c: Context<AppEnv>, served: ServedUrl, domainName: string, requestId: string): Promise<Response> {
  const request = c.req.raw;
  const cors = served.row.cors as Cors | null;
  if (isPreflight(request.method, request.headers, cors)) return new Response(null, { status: 200, headers: preflightHeaders(cors, request.headers) });

  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > SYNC_PAYLOAD_LIMIT_BYTES) throw tooLarge();
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.byteLength > SYNC_PAYLOAD_LIMIT_BYTES) throw tooLarge();

  const caller = await callerOf(c, served, body);
  const payload = JSON.stringify(
    urlEvent({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body,
      urlId: served.row.urlId,
      domainName,
      sourceIp: request.headers.get("cf-connecting-ip") ?? LOCAL_SOURCE_IP,
      requestId,
      now: new Date(),
      ...(caller ? { caller } : {}),
    }),
  );
  // The event (base64 makes a binary body a third larger) must fit Lambda's invoke payload.
  if (new TextEncoder().encode(payload).byteLength > SYNC_PAYLOAD_LIMIT_BYTES) throw tooLarge();

  const scope = tenantScope(c.env, served.owner);
  const ref = served.row.qualifier === "" ? { name: served.row.functionName } : { name: served.row.functionName, qualifier: served.row.qualifier };
  const target = await prepareInvoke(scope, ref, undefined);
  takeInvokeRequest(scope, target, requestId, (p) => c.executionCtx.waitUntil(p));
  const admission = handOver(request, `${served.owner.tenantId}\u0000url:${served.row.urlId}`);
  const control = { waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p), signal: request.signal, ...(admission ? { admission } : {}) };
  const run = { scope, target, requestId, payload, control };
  const response = served.row.invokeMode === "RESPONSE_STREAM" ? await streamResponse(run) : await bufferedResponse(run);
  addResponseCors(cors, request.headers, response.headers);
  if (request.method === "HEAD") return new Response(null, response);
  return response;
}

async function bufferedResponse(run: UrlRun): Promise<Response> {
  const outcome = await runInvocation(run);
  if (outcome.functionError) throw urlBadGateway();
  if (new TextEncoder().encode(outcome.payload).byteLength > SYNC_PAYLOAD_LIMIT_BYTES) throw urlBadGateway();
  const answer = interpretResult(outcome.payload);
  if (answer === MALFORMED) throw urlBadGateway();
  return new Response(NULL_BODY_STATUS.has(answer.status) ? null : answer.body, { status: answer.status, headers: answer.headers });
}

/**
 * Who is calling, as the URL's AuthType decides: NONE URLs are anonymous and
 * need the public statement (else AWS's 403 Forbidden); AWS_IAM URLs need a
 * SigV4 signature (service `lambda`) by one of the owner's keys, or by
 * another tenant's key that the policy allows. An AWS_IAM URL is its owner's
 * resource: to any other caller (unsigned, badly signed, or another tenant's
 * key without a grant) it answers exactly as a URL that does not exist, so a
 * URL id tells nobody but its owner that it is there.
 */
async function callerOf(c: Context<AppEnv>, served: ServedUrl, body: Uint8Array): Promise<IamCaller | undefined> {
  const { authType } = served.row;
  if (authType === "NONE") {
    if (!allowsUrlInvoke(served.statements, "NONE", { kind: "anonymous" })) throw urlForbidden();
    return undefined;
  }
  if (!hasSigV4(c.req.raw)) throw urlUnknown();
  const principal = await authenticate(c.env, c.req.raw, () => Promise.resolve(body.slice().buffer), "lambda").catch((err: unknown) => {
    // A refused signature is a caller we cannot name; a platform failure and the failed-authentication throttle stay what they are.
    throw err instanceof LambdaError && err.status < 500 && err.status !== 429 ? urlUnknown() : err;
  });
  const own = principal.tenantId === served.owner.tenantId;
  if (!own && !allowsUrlInvoke(served.statements, "AWS_IAM", { kind: "account", accountId: principal.accountId })) throw urlUnknown();
  return {
    accessKey: principal.accessKeyId,
    accountId: principal.accountId,
    callerId: principal.accessKeyId,
    userArn: `arn:aws:iam::${principal.accountId}:root`,
    userId: principal.accountId,
  };
}

const tooLarge = () => requestEntityTooLarge(`Request must be smaller than ${SYNC_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`);

/**
 * The URL's error answers: `{"Message": ...}` with x-amzn-ErrorType, as the
 * URL endpoint sends them (`null` for a URL that does not exist), and the
 * text `Internal Server Error` for 502s.
 */
export function urlErrorResponse(err: unknown, requestId: string): Response {
  let error: LambdaError;
  if (err instanceof LambdaError) error = err;
  else {
    console.error("function url: unhandled error", err);
    error = serviceException("An internal error occurred. Retry the request.");
  }
  const headers = new Headers({ "content-type": "application/json", "x-amzn-ErrorType": error.type, "x-amzn-RequestId": requestId });
  if (error.extra.retryAfterSeconds !== undefined) headers.set("Retry-After", String(error.extra.retryAfterSeconds));
  const body = error.status === 502 ? error.message : JSON.stringify({ Message: error.message === "" ? null : error.message });
  return new Response(body, { status: error.status, headers });
}
