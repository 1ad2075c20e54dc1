/**
 * Delivery of invocation records to OnSuccess / OnFailure destinations.
 *
 * - A Lambda function ARN (same tenant): the record becomes the payload of a
 *   new async event of that function (`enqueueEvent`), one level deeper in the
 *   invocation lineage.
 * - An SQS queue ARN (same tenant, standard queue): the record is sent as one
 *   message through the queue's Durable Object (src/sqs/send-to-arn.ts); a
 *   queue that is gone, FIFO or refuses the record is recorded as a failed
 *   event (condition DestinationDeliveryFailed). The function's SQS
 *   dead-letter queue gets the event itself (`sendToDeadLetterQueue`).
 * - An http(s) URL: the delivery goes to the tenant's outbox
 *   (src/async/url-outbox.ts), which POSTs the record (`deliverToUrl`), signed
 *   with the tenant's destination signing key, retries with backoff, and
 *   records a failed event (condition DestinationDeliveryFailed) when it never
 *   gets a 2xx.
 *
 * Signature: `X-Cellfn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`,
 * where key is the UTF-8 of the tenant's signing key string as
 * `GET /cellfn/v1/destination-signing-key` returns it.
 */
import { database } from "../db/client";
import { AsyncEventStore } from "../data/async-event-store";
import { FailedEventStore } from "../data/failed-event-store";
import { LambdaError } from "../errors";
import { parseDestination } from "../lambda/destination-config";
import { type DeliveryFailureMetric, recordDeliveryFailureMetric } from "../metrics/record-events";
import type { FunctionRef } from "../lambda/function-name";
import { isHttpUrl, isPrivateDestination } from "../runtime/address-policy";
import { MESSAGE_SIZE_MAX_BYTES } from "../sqs/attributes";
import { QueueSendRefused, sendToQueueArn } from "../sqs/send-to-arn";
import type { DeadLetterInput, DeadLetterMessage } from "./dead-letter";
import { deadLetterMessage } from "./dead-letter";
import { invokeTarget } from "../invoke/target";
import { prepareInvoke } from "../invoke/target";
import type { TenantScope } from "../services/scope";
import { ASYNC_PAYLOAD_LIMIT_BYTES, enqueueEvent } from "./enqueue";
import type { DestinationDelivery } from "./messages";
import { INLINE_PAYLOAD_BYTES } from "./messages";
import { UrlOutbox } from "./url-outbox";
import type { InvocationRecord } from "./record";
import { fitRecord } from "./record";
import { hmacSha256, sha256, toHex } from "../util/bytes";
import type { LineageCounts } from "../runtime/lineage";
import { lineageOfInvocation } from "../invoke/recursion";
import { functionArn } from "../lambda/function-name";

/** Attempts at an http(s) destination before the record is kept as a failed event. */
export const URL_DELIVERY_ATTEMPTS = 5;
/** How long one POST may take. */
export const URL_DELIVERY_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = "X-Cellfn-Signature";
/** Largest record a destination message carries (it travels inside a queue message of at most 128 KB). */
export const URL_RECORD_MAX_BYTES = INLINE_PAYLOAD_BYTES;
/** Largest record sent to a queue destination (SQS's largest message; a queue with a smaller MaximumMessageSize refuses bigger ones). */
export const QUEUE_RECORD_MAX_BYTES = MESSAGE_SIZE_MAX_BYTES;
/** Largest record stored as a failed event (D1 rows are at most 2 MB). */
export const STORED_RECORD_MAX_BYTES = 1_900_000;

/** Where a delivery comes from: the event whose record it is. */
export interface DeliverySource {
  tenantId: string;
  functionName: string;
  requestId: string;
  isolationTenantId?: string | undefined;
  /** The chain that caused the source event; a destination event is one invocation further along. */
  lineage: LineageCounts;
}

/** What dispatching did (`handedOver`: an http(s) delivery is in its tenant's outbox). */
export type DispatchResult =
  | { kind: "enqueued"; requestId: string }
  | { kind: "handedOver" }
  | { kind: "queued"; queueArn: string; messageId: string }
  | { kind: "failed"; reason: string };

/**
 * Sends `record` towards the destination `raw` (a stored OnSuccess/OnFailure
 * value). Permanent problems (unparseable destination, destination function
 * gone or throttled to zero) are recorded as a DestinationDeliveryFailed
 * failed event; transient ones (queue, D1) throw, so the caller retries the
 * whole message.
 */
export async function dispatchDestination(
  scope: TenantScope,
  raw: string,
  record: InvocationRecord,
  source: DeliverySource,
): Promise<DispatchResult> {
  let destination;
  try {
    destination = parseDestination(raw, scope.names);
  } catch (err) {
    return recordedFailure(scope.env, source, record, `destination ${raw} is not valid: ${(err as Error).message}`);
  }

  if (destination.kind === "queue") {
    const body = JSON.stringify(fitRecord(record, QUEUE_RECORD_MAX_BYTES));
    return sendToOwnQueue(scope.env, source, destination.arn, { body, attributes: {} }, record);
  }

  if (destination.kind === "url") {
    const deliveryId = await destinationRequestId(source.requestId, `${record.requestContext.condition}:url`);
    const message: DestinationDelivery = {
      kind: "destination",
      tenantId: source.tenantId,
      functionName: source.functionName,
      requestId: source.requestId,
      url: destination.url.toString(),
      record: fitRecord(record, URL_RECORD_MAX_BYTES) as unknown as Record<string, unknown>,
      attempt: 0,
      deliveryId,
    };
    // The tenant's outbox POSTs it (src/async/url-outbox.ts); one delivery per event and outcome however often the settle runs.
    await UrlOutbox.of(scope.env, source.tenantId).take(deliveryId, message);
    return { kind: "handedOver" };
  }

  const ref: FunctionRef = destination.qualifier === undefined ? { name: destination.name } : { name: destination.name, qualifier: destination.qualifier };
  let isolationTenantId: string | undefined;
  try {
    const target = await invokeTarget(scope, ref);
    // A tenant-isolated destination runs for the same tenant as the source event.
    isolationTenantId = target.version.config.TenancyConfig?.TenantIsolationMode === "PER_TENANT" ? source.isolationTenantId : undefined;
    const checked = await prepareInvoke(scope, ref, isolationTenantId);
    if (checked.fn.reservedConcurrency === 0) {
      return recordedFailure(scope.env, source, record, `destination function ${raw} has reserved concurrency 0`);
    }
  } catch (err) {
    if (isClientError(err)) return recordedFailure(scope.env, source, record, `destination function ${raw}: ${(err as Error).message}`);
    throw err;
  }
  // One destination event per source event and outcome: a settle that is
  // retried after this (the queue redelivers the message) finds it accepted.
  const requestId = await destinationRequestId(source.requestId, record.requestContext.condition);
  if (await new AsyncEventStore(database(scope.env.DB), source.tenantId).exists(requestId)) return { kind: "enqueued", requestId };
  const payload = JSON.stringify(fitRecord(record, ASYNC_PAYLOAD_LIMIT_BYTES));
  await enqueueEvent(scope, ref, payload, { requestId, isolationTenantId, lineage: lineageOfInvocation(source.lineage, functionArn(scope.names, source.functionName)) });
  return { kind: "enqueued", requestId };
}

/**
 * The function's SQS dead-letter queue (DeadLetterConfig.TargetArn): the
 * event itself with RequestID / ErrorCode / ErrorMessage attributes. A queue
 * that refuses it (gone, FIFO, too large), or an event whose payload is
 * missing, leaves the record as a failed event; transient errors throw, so
 * the caller retries.
 */
export async function sendToDeadLetterQueue(
  env: Env,
  source: DeliverySource,
  queueArn: string,
  event: Omit<DeadLetterInput, "payload"> & { payload: string | null },
  record: InvocationRecord,
): Promise<DispatchResult> {
  if (event.payload === null) return recordedFailure(env, source, record, `dead-letter queue ${queueArn}: the event's payload is missing`, "DeadLetterErrors");
  return sendToOwnQueue(env, source, queueArn, deadLetterMessage({ ...event, payload: event.payload }), record, "DeadLetterErrors");
}

async function sendToOwnQueue(
  env: Env,
  source: DeliverySource,
  queueArn: string,
  message: DeadLetterMessage,
  record: InvocationRecord,
  metric: DeliveryFailureMetric = "DestinationDeliveryFailures",
): Promise<DispatchResult> {
  try {
    const sent = await sendToQueueArn(env, source.tenantId, queueArn, message.body, message.attributes);
    return { kind: "queued", queueArn, messageId: sent.messageId };
  } catch (err) {
    if (err instanceof QueueSendRefused) return recordedFailure(env, source, record, `queue ${queueArn}: ${err.message}`, metric);
    throw err;
  }
}

/** A UUID-shaped request id derived from the source event's request id and the record's condition. */
export async function destinationRequestId(sourceRequestId: string, condition: string): Promise<string> {
  const hex = toHex(await sha256(`cellfn-destination-event:${sourceRequestId}:${condition}`));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16] ?? "0", 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export type UrlDeliveryOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "retry"; delaySeconds: number; reason: string }
  | { kind: "failed"; reason: string };

/** Delay before attempt `attempt + 1` of an http(s) destination: 1 s, 2 s, 4 s, 8 s. */
export function urlRetryDelaySeconds(attempt: number): number {
  return 2 ** Math.max(0, attempt);
}

/**
 * One POST of a destination message. Never throws: a refused target is
 * `failed` at once, a non-2xx answer or a network error is `retry` until the
 * last attempt, then `failed`.
 */
export async function deliverToUrl(env: Env, message: DestinationDelivery, fetcher: typeof fetch = fetch): Promise<UrlDeliveryOutcome> {
  let url: URL;
  try {
    url = new URL(message.url);
  } catch {
    return { kind: "failed", reason: `not a URL: ${message.url}` };
  }
  const refusal = refuseUrl(url, env.ALLOW_PRIVATE_EGRESS === "true");
  if (refusal) return { kind: "failed", reason: refusal };

  const body = JSON.stringify(message.record);
  const key = await destinationSigningKey(env.KEY_DERIVATION_SECRET, message.tenantId);
  const t = Math.floor(Date.now() / 1000);
  let reason: string;
  try {
    const response = await fetcher(url.toString(), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "cellfn-destinations/1",
        [SIGNATURE_HEADER]: await signatureHeader(key, t, body),
        "X-Cellfn-Request-Id": message.requestId,
        "X-Cellfn-Delivery-Attempt": String(message.attempt + 1),
      },
      body,
      // A redirect could lead anywhere (a private address included): it counts as a failed attempt.
      redirect: "manual",
      signal: AbortSignal.timeout(URL_DELIVERY_TIMEOUT_MS),
    });
    // The body is not needed; release the connection.
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) return { kind: "delivered", status: response.status };
    reason = `HTTP ${response.status}`;
  } catch (err) {
    reason = `network error: ${(err as Error).message}`;
  }
  if (message.attempt + 1 >= URL_DELIVERY_ATTEMPTS) return { kind: "failed", reason: `${reason} after ${URL_DELIVERY_ATTEMPTS} attempts` };
  return { kind: "retry", delaySeconds: urlRetryDelaySeconds(message.attempt), reason };
}

/** Why `url` must not be posted to, or null when it may. */
export function refuseUrl(url: URL, allowPrivateEgress: boolean): string | null {
  if (!isHttpUrl(url)) return `${url.protocol} destinations are not supported`;
  if (allowPrivateEgress) return null;
  if (url.protocol !== "https:") return `http destinations need ALLOW_PRIVATE_EGRESS=true; use https`;
  if (isPrivateDestination(url)) return `refused private or loopback destination ${url.hostname}`;
  return null;
}

/**
 * The tenant's destination signing key: HMAC-SHA256(KEY_DERIVATION_SECRET,
 * "cellfn-destination:<tenantId>") as 64 hex digits. Derived, never stored;
 * the same for every destination of the tenant.
 */
export async function destinationSigningKey(derivationSecret: string, tenantId: string): Promise<string> {
  return toHex(await hmacSha256(derivationSecret, `cellfn-destination:${tenantId}`));
}

/** `t=<t>,v1=<hex HMAC-SHA256(utf8(key), "<t>.<body>")>`. */
export async function signatureHeader(key: string, t: number, body: string): Promise<string> {
  return `t=${t},v1=${toHex(await hmacSha256(key, `${t}.${body}`))}`;
}

/** Keeps a record that could not be delivered, so that it is listed (and redrivable) as a failed event. */
export async function recordDeliveryFailure(
  env: Env,
  source: Pick<DeliverySource, "tenantId" | "functionName" | "requestId">,
  record: unknown,
  reason: string,
  metric: DeliveryFailureMetric = "DestinationDeliveryFailures",
): Promise<void> {
  console.warn(`destination delivery for ${source.tenantId}/${source.functionName} request ${source.requestId} failed: ${reason}`);
  await recordDeliveryFailureMetric(env, source, metric);
  const stored = isRecordLike(record) ? fitRecord(record, STORED_RECORD_MAX_BYTES) : record;
  await new FailedEventStore(database(env.DB), source.tenantId).insert({
    id: crypto.randomUUID(),
    functionName: source.functionName,
    requestId: source.requestId,
    condition: "DestinationDeliveryFailed",
    record: stored,
    createdAt: Date.now(),
  });
}

async function recordedFailure(env: Env, source: DeliverySource, record: InvocationRecord, reason: string, metric?: DeliveryFailureMetric): Promise<DispatchResult> {
  await recordDeliveryFailure(env, source, record, reason, metric);
  return { kind: "failed", reason };
}

function isRecordLike(value: unknown): value is InvocationRecord {
  return typeof value === "object" && value !== null && "requestContext" in value;
}

function isClientError(err: unknown): boolean {
  return err instanceof LambdaError && err.status >= 400 && err.status < 500 && err.status !== 429;
}
