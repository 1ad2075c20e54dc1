/**
 * CloudWatch Logs' limits and validity rules, as pure values and functions.
 */

/** Lambda (and CloudWatch Logs for an event) keep at most 256 KB of one line; the rest is cut. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** PutLogEvents: at most 10,000 events and 1 MB (messages + 26 bytes each) per call, spanning at most 24 h. */
export const PUT_MAX_EVENTS = 10_000;
export const PUT_MAX_BATCH_BYTES = 1_048_576;
export const PUT_EVENT_OVERHEAD_BYTES = 26;
export const PUT_MAX_SPAN_MS = 24 * 3_600_000;
/** PutLogEvents refuses events more than 2 h ahead or 14 days behind the clock. */
export const PUT_MAX_FUTURE_MS = 2 * 3_600_000;
export const PUT_MAX_AGE_MS = 14 * 86_400_000;
/** GetLogEvents / FilterLogEvents answer at most 10,000 events or 1 MB. */
export const READ_MAX_EVENTS = 10_000;
export const READ_MAX_BYTES = 1_048_576;
/** Events one FilterLogEvents call examines before it answers with a nextToken (bounds its CPU time). */
export const FILTER_MAX_SCANNED = 50_000;
/** DescribeLogGroups / DescribeLogStreams pages. */
export const DESCRIBE_DEFAULT_LIMIT = 50;
export const DAY_MS = 86_400_000;

/** PutRetentionPolicy's accepted values (the model's enum). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
export const LOG_STREAM_NAME = /^[^:*]{1,512}$/;

/** Cuts a message to MAX_EVENT_BYTES of UTF-8 without splitting a character. */
export function truncateMessage(message: string): string {
  // Most lines are short: a UTF-16 length under a third of the limit cannot exceed it in UTF-8.
  if (message.length * 3 <= MAX_EVENT_BYTES) return message;
  const bytes = new TextEncoder().encode(message);
  if (bytes.length <= MAX_EVENT_BYTES) return message;
  let end = MAX_EVENT_BYTES;
  // UTF-8 continuation bytes are 0b10xxxxxx: back up to the start of the character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The default log group of a Lambda function. */
export function functionLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}
