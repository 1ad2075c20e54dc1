/**
 * Who a request at the door claims to be, and which service answers it
 * (issues 18 and 19): the naming rule of src/invoke/door.ts, for every
 * authenticated API request, so that one tenant's flood of any kind
 * (CreateFunction, SendMessage, PutRecord, PutLogEvents, Invoke) is counted
 * against that tenant's share of the isolate, not only its invokes.
 *
 * Named (through the door): the Lambda API (every `/YYYY-MM-DD/...` path,
 * the durable data plane and cellfn's `/cellfn/v1` extensions among them),
 * the JSON services at `POST /` by `X-Amz-Target` (SQS, Kinesis, CloudWatch
 * Logs, CloudWatch), CloudWatch's CBOR path, function URLs and the console's
 * test invoke. Not named (today's behaviour, no gate): health, the operator
 * API, the console's pages and assets, presigned code downloads, and paths
 * or targets no service serves (they are answered at once without I/O).
 *
 * The caller is named from the request as it arrives, unverified: the tenant
 * of an access key this isolate has found before (`tenant:`; kept past the
 * key cache's TTL, so a tenant keeps one name), else the access key id
 * (`key:`), else `anonymous`; a function URL by its url id, the console as
 * `console`. A forged name can only spend the named caller's share while
 * authentication refuses the forgery; only a key in the cache now (`fresh`)
 * makes the caller `authenticated`, which may borrow past the bound.
 * PURE: the key cache is passed in (`tenantOfKey`).
 */
import { claimedAccessKeyId } from "../auth/failure-limit";
import { JSON_SERVICES } from "../aws-json/registry";
import type { JsonService } from "../aws-json/service";
import { matchHost } from "../function-urls/host";
import { CBOR_SERVICE_PATH } from "../metrics/cbor-routes";

const LAMBDA_PATH = /^\/(?:\d{4}-\d{2}-\d{2}|cellfn\/v1)(?:\/|$)/;
const INVOKE_PATH = /^\/(?:2015-03-31\/functions\/[^/]+\/invocations|2021-11-15\/functions\/[^/]+\/response-streaming-invocations)\/?$/;
const CONSOLE_INVOKE_PATH = /^\/console\/functions\/[^/]+\/invoke\/?$/;
const SYNC_INVOKE_PREFIX = "/2015-03-31/functions/";
/**
 * Operations that may wait on purpose (an SQS long poll waits up to 20 s):
 * admitted by the bound and the share at arrival, then their slot is given
 * back at once, or a few pollers would hold the isolate's whole bound.
 */
const WAITING_OPERATIONS = new Set(["AmazonSQS.ReceiveMessage"]);

/** How a refusal is answered: Lambda's 429, a function URL's, a JSON service's throttle, CloudWatch's in CBOR. */
export type Answer = { kind: "lambda" } | { kind: "url" } | { kind: "json"; service: JsonService } | { kind: "cbor" };

export interface Caller {
  /** `tenant:<id>`, `key:<access key id>`, `anonymous`, `url:<url id>` or `console`. */
  name: string;
  answer: Answer;
  /** An invoke request (Invoke, InvokeWithResponseStream, a function URL, the console's test invoke): an invocation may take its ticket over. */
  invoke: boolean;
  /** A sync Invoke of the Lambda API (src/index.ts routes it straight to its handler). */
  api?: true;
  /** Named after the tenant of a key authenticated before (cached): the only name a request cannot forge. */
  authenticated?: true;
  /** Holds its slot until it is answered; false: a long poll, whose slot is given back once admitted. */
  holds: boolean;
}

/** The caller `request` claims to be, or undefined for a request the door lets through ungated. */
export function requestCaller(
  request: Request,
  settings: { REGION: string; FUNCTION_URL_DOMAIN: string },
  tenantOfKey: (accessKeyId: string) => { tenant: string; fresh: boolean } | undefined,
): Caller | undefined {
  const url = new URL(request.url);
  const match = matchHost(request.headers.get("host") ?? url.host, settings.REGION, settings.FUNCTION_URL_DOMAIN);
  if (match.kind === "url") return { name: `url:${match.urlId}`, answer: { kind: "url" }, invoke: true, holds: true };
  if (match.kind === "malformed") return undefined;
  const path = url.pathname;
  const post = request.method === "POST";
  if (post && CONSOLE_INVOKE_PATH.test(path)) return { name: "console", answer: { kind: "lambda" }, invoke: true, holds: true };
  let answer: Answer;
  let holds = true;
  if (LAMBDA_PATH.test(path)) answer = { kind: "lambda" };
  else if (post && path.startsWith(`${CBOR_SERVICE_PATH}/`)) answer = { kind: "cbor" };
  else if (post && path === "/") {
    const target = request.headers.get("x-amz-target") ?? "";
    const service = JSON_SERVICES.find((s) => s.targetPrefix === target.slice(0, target.lastIndexOf(".")));
    if (!service) return undefined;
    answer = { kind: "json", service };
    holds = !WAITING_OPERATIONS.has(target);
  } else return undefined;
  const invoke = post && answer.kind === "lambda" && INVOKE_PATH.test(path);
  const api = invoke && path.startsWith(SYNC_INVOKE_PREFIX) ? { api: true as const } : {};
  const named = { answer, invoke, holds, ...api };
  const key = claimedAccessKeyId(request.headers.get("authorization") ?? "");
  if (key === null) return { name: "anonymous", ...named };
  const known = tenantOfKey(key);
  if (known === undefined) return { name: `key:${key}`, ...named };
  return known.fresh ? { name: `tenant:${known.tenant}`, authenticated: true, ...named } : { name: `tenant:${known.tenant}`, ...named };
}
