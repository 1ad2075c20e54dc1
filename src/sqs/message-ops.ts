import type { JsonServiceCall } from "../aws-json/service";
import { DELAY_SECONDS_MAX_S, MESSAGE_SIZE_MAX_BYTES, VISIBILITY_TIMEOUT_MAX_S, WAIT_TIME_MAX_S } from "./attributes";
import { batchRequestTooLong, invalidParameterValue, invalidValueFor, missingParameter, SqsError } from "./errors";
import { batchEntries, integerInRange, optionalInteger, optionalString, requiredString, stringList } from "./input";
import type { MessageAttribute } from "./md5";
import { byteLength, validateBody, validateMessageAttributes } from "./messages";
import { nameFromUrl, queuesOf } from "./queue-ops";
import { batchFailure } from "./receipts";
import type { BatchFailure, BatchOutcome, SendEntry, SentMessage } from "./types";

type Input = Record<string, unknown>;

export const RECEIVE_MAX_MESSAGES = 10;

/**
 * One message of SendMessage or a SendMessageBatch entry, checked as far as
 * the queue's settings are not needed. As SQS does, the request's
 * X-Amzn-Trace-Id becomes the message's AWSTraceHeader unless the entry sets
 * that system attribute itself.
 */
function sendEntry(input: Input, id: string, call: JsonServiceCall): SendEntry {
  const body = optionalString(input, "MessageBody");
  if (body === undefined) throw missingParameter("MessageBody");
  validateBody(body);
  const delaySeconds = optionalInteger(input, "DelaySeconds");
  if (delaySeconds !== undefined && (delaySeconds < 0 || delaySeconds > DELAY_SECONDS_MAX_S)) {
    throw invalidValueFor("DelaySeconds", delaySeconds, `DelaySeconds must be >= 0 and <= ${DELAY_SECONDS_MAX_S}`);
  }
  const { attributes, bytes } = validateMessageAttributes(input.MessageAttributes);
  const groupId = optionalString(input, "MessageGroupId");
  const dedupId = optionalString(input, "MessageDeduplicationId");
  return {
    id,
    body,
    attributes,
    attributeBytes: bytes,
    systemAttributes: systemAttributes(input.MessageSystemAttributes, call.traceHeader),
    senderId: call.principal.accountId,
    ...(delaySeconds !== undefined ? { delaySeconds } : {}),
    ...(groupId !== undefined ? { groupId } : {}),
    ...(dedupId !== undefined ? { dedupId } : {}),
  };
}

/** MessageSystemAttributes: only AWSTraceHeader, a String. */
function systemAttributes(input: unknown, traceHeader: string | undefined): Record<string, MessageAttribute> {
  if (input === undefined || input === null) return traceHeader ? { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } } : {};
  const out: Record<string, MessageAttribute> = {};
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    const value = (raw ?? {}) as Record<string, unknown>;
    if (name !== "AWSTraceHeader") throw invalidParameterValue(`Message system attribute name '${name}' is invalid.`);
    if (value.DataType !== "String" || typeof value.StringValue !== "string" || value.StringValue === "") {
      throw invalidParameterValue("Message system attribute 'AWSTraceHeader' must contain a non-empty value of type 'String'.");
    }
    out[name] = { DataType: "String", StringValue: value.StringValue };
  }
  return out;
}

const sentView = (m: SentMessage) => ({
  MessageId: m.messageId,
  MD5OfMessageBody: m.md5OfBody,
  ...(m.md5OfAttributes ? { MD5OfMessageAttributes: m.md5OfAttributes } : {}),
  ...(m.md5OfSystemAttributes ? { MD5OfMessageSystemAttributes: m.md5OfSystemAttributes } : {}),
  ...(m.sequenceNumber ? { SequenceNumber: m.sequenceNumber } : {}),
});

export async function sendMessage(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const entry = sendEntry(input, "0", call);
  const outcome = await queuesOf(call).send(name, [entry], false);
  const sent = outcome.successful[0];
  if (!sent) throw new Error("SendMessage: the queue answered neither a message nor an error");
  return sentView(sent);
}

export async function sendMessageBatch(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const entries = batchEntries(input, "SendMessageBatchRequestEntry");
  const total = entries.reduce((n, e) => n + (typeof e.MessageBody === "string" ? byteLength(e.MessageBody) : 0) + attributeBytesOf(e), 0);
  if (total > MESSAGE_SIZE_MAX_BYTES) throw batchRequestTooLong(MESSAGE_SIZE_MAX_BYTES, total);
  const failed: BatchFailure[] = [];
  const valid: SendEntry[] = [];
  for (const e of entries) {
    const id = e.Id as string;
    try {
      valid.push(sendEntry(e, id, call));
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      failed.push(batchFailure(id, error));
    }
  }
  const outcome: BatchOutcome<SentMessage> = valid.length > 0 ? await queuesOf(call).send(name, valid, true) : await emptyOutcomeIfQueueExists(call, name);
  return {
    Successful: outcome.successful.map((m) => ({ Id: m.id, ...sentView(m) })),
    Failed: [...failed, ...outcome.failed].map(failedView),
  };
}

/** A batch whose every entry was refused still needs a queue that exists. */
async function emptyOutcomeIfQueueExists<T>(call: JsonServiceCall, name: string): Promise<BatchOutcome<T>> {
  await queuesOf(call).attributes(name);
  return { successful: [], failed: [] };
}

function attributeBytesOf(entry: Input): number {
  try {
    return validateMessageAttributes(entry.MessageAttributes).bytes;
  } catch {
    return 0; // the entry fails on its own below
  }
}

const failedView = (f: BatchFailure) => ({ Id: f.id, SenderFault: f.senderFault, Code: f.code, Message: f.message });

export async function receiveMessage(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const maxMessages = optionalInteger(input, "MaxNumberOfMessages");
  if (maxMessages !== undefined && (maxMessages < 1 || maxMessages > RECEIVE_MAX_MESSAGES)) {
    throw invalidValueFor("MaxNumberOfMessages", maxMessages, `Must be between 1 and ${RECEIVE_MAX_MESSAGES}, if provided.`);
  }
  const visibilityTimeout = integerInRange(input, "VisibilityTimeout", 0, VISIBILITY_TIMEOUT_MAX_S);
  const waitSeconds = integerInRange(input, "WaitTimeSeconds", 0, WAIT_TIME_MAX_S);
  optionalString(input, "ReceiveRequestAttemptId");
  const messages = await queuesOf(call).receive(name, {
    maxMessages: maxMessages ?? 1,
    systemAttributeNames: [...stringList(input, "AttributeNames"), ...stringList(input, "MessageSystemAttributeNames")],
    messageAttributeNames: stringList(input, "MessageAttributeNames"),
    ...(visibilityTimeout !== undefined ? { visibilityTimeout } : {}),
    ...(waitSeconds !== undefined ? { waitSeconds } : {}),
  });
  return messages.length > 0 ? { Messages: messages } : {};
}

export async function deleteMessage(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const receiptHandle = requiredString(input, "ReceiptHandle");
  await queuesOf(call).deleteMessages(name, [{ id: "0", receiptHandle }], false);
  return {};
}

export async function deleteMessageBatch(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const entries = batchEntries(input, "DeleteMessageBatchRequestEntry").map((e) => ({
    id: e.Id as string,
    receiptHandle: requiredString(e, "ReceiptHandle"),
  }));
  const outcome = await queuesOf(call).deleteMessages(name, entries, true);
  return { Successful: outcome.successful.map((s) => ({ Id: s.id })), Failed: outcome.failed.map(failedView) };
}

function visibilityTimeoutOf(input: Input): number {
  const value = optionalInteger(input, "VisibilityTimeout");
  if (value === undefined) throw missingParameter("VisibilityTimeout");
  if (value < 0 || value > VISIBILITY_TIMEOUT_MAX_S) {
    throw invalidValueFor("VisibilityTimeout", value, `Must be between 0 and ${VISIBILITY_TIMEOUT_MAX_S}, if provided.`);
  }
  return value;
}

export async function changeMessageVisibility(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const receiptHandle = requiredString(input, "ReceiptHandle");
  const visibilityTimeout = visibilityTimeoutOf(input);
  await queuesOf(call).changeVisibility(name, [{ id: "0", receiptHandle, visibilityTimeout }], false);
  return {};
}

export async function changeMessageVisibilityBatch(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const raw = batchEntries(input, "ChangeMessageVisibilityBatchRequestEntry");
  const failed: BatchFailure[] = [];
  const entries = [];
  for (const e of raw) {
    try {
      entries.push({ id: e.Id as string, receiptHandle: requiredString(e, "ReceiptHandle"), visibilityTimeout: visibilityTimeoutOf(e) });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      failed.push(batchFailure(e.Id as string, error));
    }
  }
  const outcome: BatchOutcome<{ id: string }> =
    entries.length > 0 ? await queuesOf(call).changeVisibility(name, entries, true) : await emptyOutcomeIfQueueExists(call, name);
  return { Successful: outcome.successful.map((s) => ({ Id: s.id })), Failed: [...failed, ...outcome.failed].map(failedView) };
}
