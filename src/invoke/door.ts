/**
 * The admission gate at the door (issues 18 and 19): the first thing every
 * API request meets in this isolate, before authentication and before its
 * body is read, so that a request past the isolate's bound, or from a
 * caller holding its share of a nearly full one, costs a counter check and
 * a prebuilt refusal, never a D1 read, a Durable Object call or a body.
 *
 * Which requests, and who their caller is: ./door-caller.ts (the Lambda API,
 * the JSON services by `X-Amz-Target`, CloudWatch's CBOR path, function URLs
 * and the console's test invoke; health, the operator API, console pages and
 * code downloads pass ungated). A refusal answers in the service's own
 * throttling shape, which the SDKs retry with backoff: Lambda's 429
 * `TooManyRequestsException` (`Reason`), a function URL's 429, SQS
 * `RequestThrottled`, Kinesis `LimitExceededException`, CloudWatch Logs
 * `ThrottlingException`, CloudWatch `Throttling` (JSON or CBOR).
 *
 * One limiter for all of them: the queue they all stand in is this isolate's
 * one thread, so requests in flight and each caller's share count every
 * request, whatever its route (a tenant's CreateFunction flood takes the same
 * thread its invokes would). Only invocations give the limiter a sample of
 * the queue (their end-to-end time against the function's no-load time);
 * any other request gives its slot back when its handler returns, without a
 * sample (its time depends on its own I/O, and no per-operation no-load time
 * is kept), but keeps the lag probe running: the rate bound sees the
 * thread's lag whatever work causes it. A long poll (SQS ReceiveMessage)
 * gives its slot back once admitted.
 *
 * The ticket rides with the Request: an invocation takes it over
 * (`handOver`) and gives it back when the invocation is over (a streamed
 * response outlives the fetch handler), with the function it ran as the
 * sample's key; any other answer (auth refused, a bad parameter, an Event
 * invoke, any non-invoke operation) gives it back when the handler returns,
 * without a sample.
 *
 * Every request that meets the door, admitted or not, keeps one probe
 * of the event loop's lag running (a zero-delay timer; one at a time): the
 * limiter bounds the admission rate by it (src/invoke/admission.ts), so that
 * CPU-bound handlers leave the thread idle time and a refusal is not queued
 * in front of the door behind them.
 */
import { faultFires } from "../chaos/faults";
import { callerOverloaded, LambdaError, overloaded } from "../errors";
import { keyTenantName } from "../auth/key-cache";
import { urlErrorResponse } from "../function-urls/serve";
import { cborErrorResponse } from "../metrics/cbor-routes";
import { cloudWatchService } from "../metrics/service";
import type { Refusal, Ticket } from "./admission";
import { AdmissionLimiter } from "./admission";
import type { Caller } from "./door-caller";
import { requestCaller } from "./door-caller";
import type { Admission } from "./run";

/** This isolate's limiter: the isolate's own CPU (and its I/O) is the queue it guards. */
let limiter = new AdmissionLimiter();
const tickets = new WeakMap<Request, Ticket>();

/**
 * Runs `next` (the app) for `request`, or answers the service's throttle at
 * once when the request is past the bound or its caller over its share. `next` is told when the request is a sync
 * Invoke of the Lambda API (`POST /2015-03-31/functions/{name}/invocations`
 * on the API host), which src/index.ts routes straight to its handler.
 */
export function atTheDoor(request: Request, env: Env, ctx: ExecutionContext, next: (invoke: boolean) => Response | Promise<Response>): Promise<Response> {
  const caller = requestCaller(request, env, keyTenantName);
  const invoke = caller?.api === true;
  if (caller === undefined || env.ADMISSION_CONTROL === "off") return Promise.resolve(next(invoke));
  probeLoop(ctx);
  // Only a tenant named from a key authenticated before may borrow past the bound (FAIR_HEADROOM).
  const now = Date.now();
  // bench:refusal-cost refuses every request here (a test-only fault: src/chaos/faults.ts).
  const verdict = faultFires(env, "door-refuse") ? "capacity" : limiter.admit(caller.name, now, caller.authenticated === true);
  if (typeof verdict === "string") {
    const response = refusal(verdict, caller);
    // bench:goodput's diagnostics (ADMISSION_CONTROL=diagnose): the limiter's figures on every refusal.
    if (env.ADMISSION_CONTROL === "diagnose") response.headers.set("x-cellfn-door", JSON.stringify(limiter.stats()));
    return Promise.resolve(response);
  }
  if (!caller.holds) {
    // A long poll: admitted now, its slot back at once (it waits on purpose, not on this thread).
    limiter.complete(verdict, now);
    return Promise.resolve(next(invoke));
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
/** When the last probe was set: the next one waits PROBE_GAP_MS after it. */
let lastProbe = Number.NEGATIVE_INFINITY;
/** A probe older than this is taken as lost (its request's context torn down) and replaced. */
const PROBE_LOST_MS = 60_000;
/**
 * At most one probe per this many ms: about ten samples per limiter interval
 * (INTERVAL_MS, 100 ms) are enough for its smallest lag, and a probe per
 * request (a timer, a promise and a waitUntil) took ~4 % of the isolate's
 * profiled time per warm invoke at concurrency 16 (bench/profile-invoke.ts).
 * Under load the lag itself spaces probes further apart than this.
 */
const PROBE_GAP_MS = 10;

/** Starts a probe of the event loop's lag unless one is running or ran just now: how late a zero-delay timer runs. */
function probeLoop(ctx: ExecutionContext): void {
  const since = Date.now();
  if (probeSince !== undefined && since - probeSince < PROBE_LOST_MS) return;
  if (since - lastProbe < PROBE_GAP_MS) return;
  probeSince = since;
  lastProbe = since;
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

/** The refusal in the caller's service's own throttling shape (prebuilt errors; no I/O). */
function refusal(why: Refusal, caller: Caller): Response {
  const requestId = crypto.randomUUID();
  const { answer } = caller;
  if (answer.kind === "json") return answer.service.throttled().toResponse(answer.service.errorTypePrefix, answer.service.contentType, requestId);
  if (answer.kind === "cbor") return cborErrorResponse(cloudWatchService.throttled(), requestId);
  const error: LambdaError = why === "share" ? callerOverloaded() : overloaded();
  return answer.kind === "url" ? urlErrorResponse(error, requestId) : error.toResponse(requestId);
}

/** This isolate's limiter figures (tests, diagnostics). */
export const doorStats = () => limiter.stats();

/** Tests only: a limiter with fixed bounds, so that concurrency alone decides. */
export function replaceDoorLimiter(next: AdmissionLimiter): void {
  limiter = next;
}
