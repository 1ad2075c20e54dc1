/**
 * One batch of an SQS mapping: gather up to BatchSize messages (long poll,
 * then within the batching window), delete the ones its filters drop, invoke
 * the function with Lambda's SQS event through the loopback runner, and
 * delete what the result says succeeded. Failed messages are left alone:
 * they reappear after their visibility timeout, and the queue's redrive
 * policy moves repeat failures to its dead-letter queue.
 */
import { exports } from "cloudflare:workers";
import type { TenantQueues } from "../sqs/queues";
import type { ReceivedMessage } from "../sqs/types";
import { interpretResult } from "./batch-result";
import type { MappingRecord } from "./mapping";
import { compileFilters } from "./filter";
import type { SqsRecord } from "./sqs-event";
import { recordsWithin, sqsRecord } from "./sqs-event";
import { SYNC_PAYLOAD_LIMIT_BYTES } from "../invoke/routes";

/** Messages one ReceiveMessage returns at most. */
const RECEIVE_MAX = 10;
/** ReceiveMessage's longest wait. */
const LONG_POLL_MAX_S = 20;

export type BatchOutcome =
  | { kind: "empty" }
  | { kind: "done"; processed: number; result: string }
  | { kind: "throttled" }
  | { kind: "refused"; reason: string };

export async function pollBatch(queues: TenantQueues, record: MappingRecord, queueName: string, region: string, waitSeconds: number): Promise<BatchOutcome> {
  const messages = await gather(queues, record, queueName, waitSeconds);
  if (messages.length === 0) return { kind: "empty" };

  const matches = compileFilters(record.settings.filters.map((f) => f.Pattern));
  const kept: ReceivedMessage[] = [];
  const records: SqsRecord[] = [];
  const dropped: ReceivedMessage[] = [];
  for (const message of messages) {
    const sqs = sqsRecord(message, record.eventSourceArn, region);
    if (matches(sqs)) {
      kept.push(message);
      records.push(sqs);
    } else {
      dropped.push(message);
    }
  }
  // Lambda deletes the messages its filters drop.
  await deleteMessages(queues, queueName, dropped);
  if (kept.length === 0) return { kind: "done", processed: 0, result: "OK" };

  const fits = recordsWithin(records, SYNC_PAYLOAD_LIMIT_BYTES);
  if (fits < kept.length) {
    // Over the payload limit: the rest go back to the queue at once for the next batch.
    await releaseMessages(queues, queueName, kept.splice(fits));
    records.splice(fits);
  }
  const event = { Records: records };
  const result = await exports.SqsBatchRunner.run({
    tenantId: record.tenantId,
    functionName: record.functionName,
    ...(record.qualifier === undefined ? {} : { qualifier: record.qualifier }),
    payload: JSON.stringify(event),
  });
  // Throttled or refused: nothing ran; the messages reappear after their visibility timeout.
  if (result.kind !== "ran") return result;

  const verdict = interpretResult(kept.map((m) => m.MessageId), result, record.settings.reportBatchItemFailures);
  if (verdict.kind === "fail") return { kind: "done", processed: kept.length, result: "PROBLEM: Function call failed" };
  const deleteIds = new Set(verdict.deleteIds);
  await deleteMessages(queues, queueName, kept.filter((m) => deleteIds.has(m.MessageId)));
  return { kind: "done", processed: kept.length, result: "OK" };
}

/** Up to BatchSize messages: one receive with window 0, else receives until the batch is full or the window closes. */
async function gather(queues: TenantQueues, record: MappingRecord, queueName: string, waitSeconds: number): Promise<ReceivedMessage[]> {
  const { batchSize, maximumBatchingWindowInSeconds: windowS } = record.settings;
  const messages: ReceivedMessage[] = [];
  const windowEnds = Date.now() + windowS * 1000;
  let wait = waitSeconds;
  for (;;) {
    const got = await queues.receive(queueName, {
      maxMessages: Math.min(RECEIVE_MAX, batchSize - messages.length),
      waitSeconds: wait,
      systemAttributeNames: ["All"],
      messageAttributeNames: ["All"],
    });
    messages.push(...got);
    const left = windowEnds - Date.now();
    if (messages.length >= batchSize || windowS === 0 || left <= 0) return messages;
    if (messages.length === 0 && got.length === 0) return messages;
    wait = Math.min(LONG_POLL_MAX_S, Math.ceil(left / 1000));
  }
}

async function deleteMessages(queues: TenantQueues, queueName: string, messages: ReceivedMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += RECEIVE_MAX) {
    const entries = messages.slice(i, i + RECEIVE_MAX).map((m, j) => ({ id: String(j), receiptHandle: m.ReceiptHandle }));
    await queues.deleteMessages(queueName, entries, true);
  }
}

async function releaseMessages(queues: TenantQueues, queueName: string, messages: ReceivedMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += RECEIVE_MAX) {
    const entries = messages.slice(i, i + RECEIVE_MAX).map((m, j) => ({ id: String(j), receiptHandle: m.ReceiptHandle, visibilityTimeout: 0 }));
    await queues.changeVisibility(queueName, entries, true);
  }
}
