import type { MessageAttribute } from "./md5";
import { md5OfMessageAttributes } from "./md5";
import type { MessageRow } from "./message-store";
import { selectMessageAttributes } from "./messages";
import type { ReceiveRequest, ReceivedMessage } from "./types";

/** The system attributes a receive may ask for by name (or `All`). */
export const SYSTEM_ATTRIBUTE_NAMES = [
  "SenderId",
  "SentTimestamp",
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
  "SequenceNumber",
  "MessageDeduplicationId",
  "MessageGroupId",
  "AWSTraceHeader",
  "DeadLetterQueueSourceArn",
] as const;

/**
 * A stored message as ReceiveMessage answers it: the message attributes the
 * receive asked for with the MD5 of exactly those, and the system attributes
 * asked for (those that apply to the message).
 */
export function receivedView(row: MessageRow, receiptHandle: string, request: ReceiveRequest): ReceivedMessage {
  const attributes = JSON.parse(row.attributes) as Record<string, MessageAttribute>;
  const selected = selectMessageAttributes(attributes, request.messageAttributeNames);
  const md5OfAttributes = md5OfMessageAttributes(selected);
  const system = systemAttributes(row, request.systemAttributeNames);
  return {
    MessageId: row.id,
    ReceiptHandle: receiptHandle,
    MD5OfBody: row.md5_body,
    Body: row.body,
    ...(Object.keys(system).length > 0 ? { Attributes: system } : {}),
    ...(md5OfAttributes ? { MD5OfMessageAttributes: md5OfAttributes, MessageAttributes: selected } : {}),
  };
}

function systemAttributes(row: MessageRow, names: string[]): Record<string, string> {
  const all = names.includes("All");
  const trace = (JSON.parse(row.system_attributes) as Record<string, MessageAttribute>).AWSTraceHeader?.StringValue;
  const values: Record<(typeof SYSTEM_ATTRIBUTE_NAMES)[number], string | null | undefined> = {
    SenderId: row.sender_id,
    SentTimestamp: String(row.sent_at),
    ApproximateReceiveCount: String(row.receive_count),
    ApproximateFirstReceiveTimestamp: row.first_receive_at === null ? null : String(row.first_receive_at),
    SequenceNumber: row.sequence,
    MessageDeduplicationId: row.dedup_id,
    MessageGroupId: row.group_id,
    AWSTraceHeader: trace,
    DeadLetterQueueSourceArn: row.dlq_source_arn,
  };
  const out: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTE_NAMES) {
    const value = values[name];
    if ((all || names.includes(name)) && value !== null && value !== undefined) out[name] = value;
  }
  return out;
}
