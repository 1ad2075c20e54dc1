/**
 * What a function's SQS dead-letter queue receives for a discarded async
 * event (lambda-api-notes.md §4, "Dead-letter queue"): the event itself as
 * the body, and three message attributes:
 * - `RequestID` (String): the invocation's request id;
 * - `ErrorCode` (Number): the HTTP status of the last attempt, 200 for a
 *   function error; where nothing ran, cellfn's choice: 429 for a throttled
 *   event (ZeroReservedConcurrency, EventAgeExceeded), 404 when the function
 *   is gone, 400 for a refused invoke, 500 for a platform error;
 * - `ErrorMessage` (String): the first 1 KB of the function's `errorMessage`,
 *   or of its response when it is not an error object, or the condition
 *   where nothing ran.
 * PURE; unit-tested in test/unit/dead-letter.
 */
import type { MessageAttribute } from "../sqs/md5";
import { hasInvalidCharacters } from "../sqs/messages";
import type { FailedEventCondition } from "./outcome";
import type { RecordResponse } from "./record";

/** Lambda keeps the first 1 KB of the error message. */
export const ERROR_MESSAGE_MAX_BYTES = 1024;

const STATUS_WHEN_NOTHING_RAN: Partial<Record<FailedEventCondition, number>> = {
  ZeroReservedConcurrency: 429,
  EventAgeExceeded: 429,
  FunctionNotFound: 404,
  InvocationRejected: 400,
};
const PLATFORM_ERROR_STATUS = 500;

export interface DeadLetterInput {
  requestId: string;
  condition: FailedEventCondition;
  /** The event as accepted (JSON text; "" is the empty event). */
  payload: string;
  /** The last attempt's response, when the handler ran. */
  response: RecordResponse | undefined;
}

export interface DeadLetterMessage {
  body: string;
  attributes: Record<string, MessageAttribute>;
}

export function deadLetterMessage(input: DeadLetterInput): DeadLetterMessage {
  const status = input.response?.statusCode ?? STATUS_WHEN_NOTHING_RAN[input.condition] ?? PLATFORM_ERROR_STATUS;
  return {
    // The handler saw "" as {}; SQS refuses an empty body.
    body: input.payload.trim() === "" ? "{}" : input.payload,
    attributes: {
      RequestID: { DataType: "String", StringValue: input.requestId },
      ErrorCode: { DataType: "Number", StringValue: String(status) },
      ErrorMessage: { DataType: "String", StringValue: errorMessage(input) },
    },
  };
}

function errorMessage(input: DeadLetterInput): string {
  const text = input.response ? responseMessage(input.response.payload) : "";
  const cleaned = sqsSafe(truncateUtf8(text, ERROR_MESSAGE_MAX_BYTES));
  return cleaned.trim() === "" ? input.condition : cleaned;
}

/** `errorMessage` of Lambda's error object, else the response text itself. */
function responseMessage(payload: string): string {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (typeof parsed === "object" && parsed !== null && "errorMessage" in parsed && typeof parsed.errorMessage === "string") {
      return parsed.errorMessage;
    }
  } catch {
    // not JSON: kept as text
  }
  return payload;
}

/** At most `maxBytes` of UTF-8, cut between characters. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let bytes = 0;
  let out = "";
  for (const ch of text) {
    const size = encoder.encode(ch).length;
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += ch;
  }
  return out;
}

/** Characters SQS refuses in attribute values become U+FFFD, so the message is never refused for them. */
function sqsSafe(text: string): string {
  if (!hasInvalidCharacters(text)) return text;
  let out = "";
  for (const ch of text) out += hasInvalidCharacters(ch) ? "\uFFFD" : ch;
  return out;
}
