/**
 * The admission gate at the door (issue 18): the first thing an invoke
 * request meets in this isolate, before authentication and before its body
 * is read, so that a request past the isolate's bound costs a counter check
 * and a prebuilt 429, never a D1 read, a Durable Object call or a body.
 *
 * Invoke paths: Invoke, InvokeWithResponseStream, function URLs and the
 * console's test invoke. The
 * caller is named from the request as it arrives (unverified): the tenant of
 * a cached access key, else the access key id, else the URL's id. A forged
 * name can only spend the named caller's share while the forgery is refused
 * by authentication, as quickly as any other request.
 *
 * The ticket rides with the Request: an invocation takes it over
 * (`handOver`) and gives it back when the invocation is over (a streamed
 * response outlives the fetch handler), with the function it ran as the
 * sample's key; any other answer (auth refused, a bad parameter, an Event
 * invoke) gives it back when the handler returns, without a sample.
 *
 * Every invoke request that meets the door, admitted or not, keeps one probe
 * of the event loop's lag running (a zero-delay timer; one at a time): the
 * limiter bounds the admission rate by it (src/invoke/admission.ts), so that
 * CPU-bound handlers leave the thread idle time and a refusal is not queued
 * in front of the door behind them.
 */
import { callerOverloaded, LambdaError, overloaded } from "../errors";
import { peekKeyTenant } from "../auth/key-cache";
import { matchHost } from "../function-urls/host";
import { urlErrorResponse } from "../function-urls/serve";
import type { Refusal, Ticket } from "./admission";
import { AdmissionLimiter } from "./admission";
import type { Admission } from "./run";

const INVOKE_PATH = /^\/(?:2015-03-31\/functions\/[^/]+\/invocations|2021-11-15\/functions\/[^/]+\/response-streaming-invocations|console\/functions\/[^/]+\/invoke)\/?$/;
const SIGV4_CREDENTIAL = /Credential=([^/,\s]+)\//;
const SYNC_INVOKE_PREFIX = "/2015-03-31/functions/";

/** This isolate's limiter: the isolate's own CPU (and its I/O) is the queue it guards. */
let limiter = new AdmissionLimiter();
const tickets = new WeakMap<Request, Ticket>();

/**
 * Runs `next` (the app) for `request`, or answers 429 at once when an invoke
 * request is past the bound. `next` is told when the request is a sync
 * Invoke of the Lambda API (`POST /2015-03-31/functions/{name}/invocations`
 * on the API host), which src/index.ts routes straight to its handler.
 */
export function atTheDoor(request: Request, env: Env, ctx: ExecutionContext, next: (invoke: boolean) => Response | Promise<Response>): Promise<Response> {
  const caller = invokeCaller(request, env);
  const invoke = caller?.api === true;
  if (caller === undefined || env.ADMISSION_CONTROL === "off") return Promise.resolve(next(invoke));
  probeLoop(ctx);
  // Only a tenant named from a key authenticated before may borrow past the bound (FAIR_HEADROOM).
  const verdict = limiter.admit(caller.name, Date.now(), caller.authenticated === true);
  if (typeof verdict === "string") {
    const response = refusal(verdict, caller.url);
    // bench:goodput's diagnostics (ADMISSION_CONTROL=diagnose): the limiter's figures on every refusal.
    if (env.ADMISSION_CONTROL === "diagnose") response.headers.set("x-cellfn-door", JSON.stringify(limiter.stats()));
    return Promise.resolve(response);
  }
  tickets.set(request, verdict);
  const answer = Promise.resolve(invoke)
    .then(next)
    .finally(() => {
      // Not taken over by an invocation: the request is over, and says nothing of the queue.
      if (tickets.delete(request)) limiter.complete(verdict, Date.now());
    });
  // A client that goes away cancels the handler's own promise chain; under
  // waitUntil the slot is still given back (else it would leak for good).
  ctx.waitUntil(answer.then(noop, noop));
  return answer;
}

function noop(): void {}

/** When the running lag probe was set (undefined: none running). */
let probeSince: number | undefined;
/** A probe older than this is taken as lost (its request's context torn down) and replaced. */
const PROBE_LOST_MS = 60_000;

/** Starts a probe of the event loop's lag unless one is running: how late a zero-delay timer runs. */
function probeLoop(ctx: ExecutionContext): void {
  const since = Date.now();
  if (probeSince !== undefined && since - probeSince < PROBE_LOST_MS) return;
  probeSince = since;
  ctx.waitUntil(
    new Promise<void>((resolve) => {
      setTimeout(() => {
        const now = Date.now();
        if (probeSince === since) probeSince = undefined;
        limiter.loopLag(now - since, now);
        resolve();
      }, 0);
    }),
  );
}

/**
 * The invocation of `work` (tenant and function) takes over the request's
 * ticket, to give it back when it is over; undefined when the request was
 * not admitted at the door (admission control off, or called in-process).
 */
export function handOver(request: Request, work: string): Admission | undefined {
  const ticket = tickets.get(request);
  if (!ticket) return undefined;
  tickets.delete(request);
  return { finished: (ran) => limiter.complete(ticket, Date.now(), ran ? work : undefined) };
}

/**
 * Which caller an invoke request claims to be; undefined for any other
 * request. `api`: a sync Invoke of the Lambda API (not a stream, console or URL invoke).
 * `authenticated`: named after the tenant of a key authenticated before (cached),
 * the only name a request cannot forge.
 */
export function invokeCaller(request: Request, env: Env): { name: string; url: boolean; api?: true; authenticated?: true } | undefined {
  const host = request.headers.get("host") ?? new URL(request.url).host;
  const match = matchHost(host, env.REGION, env.FUNCTION_URL_DOMAIN);
  if (match.kind === "url") return { name: `url:${match.urlId}`, url: true };
  if (match.kind === "malformed" || request.method !== "POST") return undefined;
  const path = new URL(request.url).pathname;
  if (!INVOKE_PATH.test(path)) return undefined;
  if (path.startsWith("/console/")) return { name: "console", url: false };
  const api = path.startsWith(SYNC_INVOKE_PREFIX) ? { api: true as const } : {};
  const key = accessKeyIdOf(request.headers.get("authorization") ?? "");
  if (key === undefined) return { name: "anonymous", url: false, ...api };
  const tenant = peekKeyTenant(key);
  if (tenant === undefined) return { name: `key:${key}`, url: false, ...api };
  return { name: `tenant:${tenant}`, url: false, authenticated: true, ...api };
}

function accessKeyIdOf(authorization: string): string | undefined {
  if (authorization.startsWith("Bearer ")) {
    const dot = authorization.indexOf(".", 7);
    return dot > 7 ? authorization.slice(7, dot).trim() : undefined;
  }
  return SIGV4_CREDENTIAL.exec(authorization)?.[1];
}

function refusal(why: Refusal, url: boolean): Response {
  const error: LambdaError = why === "share" ? callerOverloaded() : overloaded();
  const requestId = crypto.randomUUID();
  return url ? urlErrorResponse(error, requestId) : error.toResponse(requestId);
}

/** This isolate's limiter figures (tests, diagnostics). */
export const doorStats = () => limiter.stats();

/** Tests only: a limiter with fixed bounds, so that concurrency alone decides. */
export function replaceDoorLimiter(next: AdmissionLimiter): void {
  limiter = next;
}
