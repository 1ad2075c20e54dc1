import type { MessageAttribute } from "./md5";

/** What the queue Durable Objects answer across RPC: a value or SQS's error, never a thrown class (RPC loses it). */
export type QueueResult<T> = { ok: true; value: T } | { ok: false; error: SqsErrorData };

export interface SqsErrorData {
  type: string;
  queryCode: string;
  message: string;
}

/** One message to store, already checked against everything that does not depend on the queue. */
export interface SendEntry {
  id: string;
  body: string;
  attributes: Record<string, MessageAttribute>;
  /** Bytes of the user attributes (name + type + value), counted with the body against MaximumMessageSize. */
  attributeBytes: number;
  systemAttributes: Record<string, MessageAttribute>;
  delaySeconds?: number;
  groupId?: string;
  dedupId?: string;
  senderId: string;
}

export interface SentMessage {
  id: string;
  messageId: string;
  md5OfBody: string;
  md5OfAttributes?: string;
  md5OfSystemAttributes?: string;
  sequenceNumber?: string;
}

export interface BatchFailure {
  id: string;
  code: string;
  message: string;
  senderFault: boolean;
}

export interface BatchOutcome<T> {
  successful: T[];
  failed: BatchFailure[];
}

export interface ReceiveRequest {
  maxMessages: number;
  /** Seconds; undefined means the queue's VisibilityTimeout. */
  visibilityTimeout?: number;
  /** Seconds; undefined means the queue's ReceiveMessageWaitTimeSeconds. */
  waitSeconds?: number;
  systemAttributeNames: string[];
  messageAttributeNames: string[];
}

export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, MessageAttribute>;
}

export interface VisibilityChange {
  id: string;
  receiptHandle: string;
  visibilityTimeout: number;
}

export interface DeleteEntry {
  id: string;
  receiptHandle: string;
}

/** A message handed from one queue to another (redrive to a DLQ, or a move task back). */
export interface MovedMessage {
  messageId: string;
  body: string;
  attributes: string;
  systemAttributes: string;
  md5OfBody: string;
  md5OfAttributes: string | null;
  senderId: string;
  sentAt: number;
  receiveCount: number;
  groupId: string | null;
  dedupId: string | null;
  deadLetterSourceArn: string | null;
}

export interface MoveTaskView {
  TaskHandle?: string;
  Status: string;
  SourceArn: string;
  DestinationArn?: string;
  MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove?: number;
  FailureReason?: string;
  StartedTimestamp: number;
}
