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
import { mergeLineages, NO_LINEAGE } from "../invoke/recursion";
import type { LineageCounts } from "../runtime/lineage";
import { readLineage } from "../runtime/lineage";

/** Messages one ReceiveMessage returns at most. */
const RECEIVE_MAX = 10;
/** ReceiveMessage's longest wait. */
const LONG_POLL_MAX_S = 20;

/** Messages of one batch with their records and the chains that sent them, index for index. */
interface Batch {
  messages: ReceivedMessage[];
  records: SqsRecord[];
  lineages: LineageCounts[];
}

export type BatchOutcome =
  | { kind: "empty" }
  | { kind: "done"; processed: number; result: string }
  | { kind: "throttled" }
  | { kind: "refused"; reason: string };

/** How a batch tells its lane (src/event-sources/sqs-lanes.ts) what it is doing. */
export interface BatchHooks {
  /** The batch's messages are in hand (called before the invoke; not for an empty receive). */
  received(): void;
}

export async function pollBatch(queues: TenantQueues, record: MappingRecord, queueName: string, region: string, waitSeconds: number, hooks: BatchHooks): Promise<BatchOutcome> {
  const messages = await gather(queues, record, queueName, waitSeconds);
  if (messages.length === 0) return { kind: "empty" };
  hooks.received();

  const matches = compileFilters(record.settings.filters.map((f) => f.Pattern));
  const matched: Batch = { messages: [], records: [], lineages: [] };
  const dropped: ReceivedMessage[] = [];
  for (const message of messages) {
    const sqs = sqsRecord(message, record.eventSourceArn, region);
    if (matches(sqs)) {
      matched.messages.push(message);
      matched.records.push(sqs);
      matched.lineages.push(readLineage(message.Attributes?.AWSTraceHeader ?? "") ?? NO_LINEAGE);
    } else {
      dropped.push(message);
    }
  }
  // Lambda deletes the messages its filters drop.
  await deleteMessages(queues, queueName, dropped);
  const { messages: kept, records, lineages } = await withoutLoops(record, queueName, matched);
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
    lineage: mergeLineages(lineages.slice(0, kept.length)),
  });
  // Throttled or refused: nothing ran; the messages reappear after their visibility timeout.
  if (result.kind !== "ran") return result;

  const verdict = interpretResult(kept.map((m) => m.MessageId), result, record.settings.reportBatchItemFailures);
  if (verdict.kind === "fail") return { kind: "done", processed: kept.length, result: "PROBLEM: Function call failed" };
  const deleteIds = new Set(verdict.deleteIds);
  await deleteMessages(queues, queueName, kept.filter((m) => deleteIds.has(m.MessageId)));
  return { kind: "done", processed: kept.length, result: "OK" };
}

/**
 * Recursive loop detection: a message sent by a function (its AWSTraceHeader
 * carries the chain, stamped by the egress gateway) that would run this
 * function more than 16 times in one chain is taken out of the batch and
 * left in the queue, neither invoked nor deleted: it comes back after its
 * visibility timeout, is stopped again, and the queue's redrive policy moves
 * it to its dead-letter queue (without one it stays until its retention
 * ends, visible to the tenant).
 */
async function withoutLoops(record: MappingRecord, queueName: string, batch: Batch): Promise<Batch> {
  // Messages not sent from a function (the common case) cost no check.
  if (batch.lineages.every((l) => l === NO_LINEAGE)) return batch;
  const looping = new Set(
    await exports.SqsBatchRunner.looping({
      tenantId: record.tenantId,
      functionName: record.functionName,
      ...(record.qualifier === undefined ? {} : { qualifier: record.qualifier }),
      lineages: batch.lineages,
    }),
  );
  if (looping.size === 0) return batch;
  console.warn(`event source mapping ${record.uuid}: recursive loop detected, ${looping.size} message(s) of ${queueName} stopped`);
  const keep = (_: unknown, i: number) => !looping.has(i);
  return { messages: batch.messages.filter(keep), records: batch.records.filter(keep), lineages: batch.lineages.filter(keep) };
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
