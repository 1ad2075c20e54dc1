import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { SqsError } from "./errors";
import type { MessageAttribute } from "./md5";
import { validateBody, validateMessageAttributes } from "./messages";
import { parseQueueArn } from "./queue-ref";
import { TenantQueues } from "./queues";
import type { SentMessage } from "./types";

/**
 * Platform-side sends to a tenant's own queue named by ARN: Lambda's
 * destinations (OnSuccess / OnFailure), a function's dead-letter queue and
 * the on-failure destinations of stream mappings. The message goes through
 * the queue's Durable Object exactly as SendMessage does (same checks, same
 * MD5s, wakes long polls).
 *
 * FIFO queues are refused, as Lambda refuses them: Lambda's destinations and
 * dead-letter queues take standard queues only, and a record for a FIFO
 * queue fails delivery (AWS counts it in DestinationDeliveryFailures) rather
 * than being sent with an invented MessageGroupId.
 */

/**
 * A send that can never succeed as asked (not a queue ARN, another account's
 * or a missing queue, a FIFO queue, a body SQS refuses). Callers record the
 * message as undeliverable; any other error is transient and worth a retry.
 */
export class QueueSendRefused extends Error {
  override readonly name = "QueueSendRefused";
}

/** Sends `body` as one message to the tenant's standard queue `queueArn`; throws QueueSendRefused when it cannot be sent. */
export async function sendMessageToQueueArn(env: Env, tenantId: string, queueArn: string, body: string): Promise<void> {
  await sendToQueueArn(env, tenantId, queueArn, body);
}

/** As sendMessageToQueueArn, with user message attributes (a dead-letter message's RequestID / ErrorCode / ErrorMessage). */
export async function sendToQueueArn(
  env: Env,
  tenantId: string,
  queueArn: string,
  body: string,
  messageAttributes: Record<string, MessageAttribute> = {},
): Promise<SentMessage> {
  const ref = parseQueueArn(queueArn);
  if (!ref) throw new QueueSendRefused(`${queueArn} is not an Amazon SQS queue ARN.`);
  const queues = new TenantQueues(env, tenantId);
  const queue = await queues.describe(ref.name);
  if (!queue || queue.arn !== queueArn) throw await notOwnQueue(env, tenantId, queueArn, ref.accountId);
  if (queue.settings.FifoQueue === "true") {
    throw new QueueSendRefused(`Queue ${queueArn} is a FIFO queue: Lambda delivers to standard SQS queues only.`);
  }
  try {
    validateBody(body);
    const { attributes, bytes } = validateMessageAttributes(messageAttributes);
    const outcome = await queues.send(ref.name, [{ id: "0", body, attributes, attributeBytes: bytes, systemAttributes: {}, senderId: queue.accountId }], false);
    const sent = outcome.successful[0];
    if (!sent) throw new Error(`queue ${queueArn} answered neither a message nor an error`);
    return sent;
  } catch (error) {
    // SQS refusing the message (size, characters) or the queue deleted since describe: permanent.
    if (error instanceof SqsError) throw new QueueSendRefused(`Queue ${queueArn} refused the message: ${error.message}`);
    throw error;
  }
}

/** Why a queue ARN is not one of the tenant's queues; another tenant's queue is never looked at. */
async function notOwnQueue(env: Env, tenantId: string, queueArn: string, arnAccountId: string): Promise<QueueSendRefused> {
  const tenant = await new TenantStore(database(env.DB)).getTenant(tenantId);
  if (tenant && tenant.accountId !== arnAccountId) {
    return new QueueSendRefused(`Queue ${queueArn} belongs to another account: cellfn delivers only to the account's own queues.`);
  }
  return new QueueSendRefused(`Queue ${queueArn} does not exist.`);
}
