/**
 * Lambda's SQS event (docs/reference/lambda-api-notes.md §5): one record per
 * received message, camel-cased, attributes as strings, message attributes
 * with Lambda's `stringValue`/`binaryValue`/list/`dataType` members. Pure.
 */
import type { MessageAttribute } from "../sqs/md5";
import type { ReceivedMessage } from "../sqs/types";

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, LambdaMessageAttribute>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: "aws:sqs";
  eventSourceARN: string;
  awsRegion: string;
}

export interface LambdaMessageAttribute {
  stringValue?: string;
  binaryValue?: string;
  stringListValues: string[];
  binaryListValues: string[];
  dataType: string;
}

export function sqsRecord(message: ReceivedMessage, queueArn: string, region: string): SqsRecord {
  const messageAttributes: Record<string, LambdaMessageAttribute> = {};
  for (const [name, attribute] of Object.entries(message.MessageAttributes ?? {})) messageAttributes[name] = lambdaAttribute(attribute);
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes: { ...(message.Attributes ?? {}) },
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function lambdaAttribute(attribute: MessageAttribute): LambdaMessageAttribute {
  return {
    ...(attribute.StringValue === undefined ? {} : { stringValue: attribute.StringValue }),
    ...(attribute.BinaryValue === undefined ? {} : { binaryValue: attribute.BinaryValue }),
    stringListValues: [],
    binaryListValues: [],
    dataType: attribute.DataType,
  };
}

const encoder = new TextEncoder();
/** Bytes of `{"Records":[` and `]}` around the records. */
const ENVELOPE_BYTES = encoder.encode('{"Records":[]}').length;

/**
 * How many of the records, from the first, make an event within `limitBytes`
 * (the sync invoke payload limit): Lambda caps a batch at 6 MB whatever its
 * BatchSize. At least one, since one message always fits.
 */
export function recordsWithin(records: SqsRecord[], limitBytes: number): number {
  let bytes = ENVELOPE_BYTES;
  for (let i = 0; i < records.length; i++) {
    bytes += encoder.encode(JSON.stringify(records[i])).length + (i > 0 ? 1 : 0);
    if (bytes > limitBytes) return Math.max(1, i);
  }
  return records.length;
}
