import { createHash } from "node:crypto";
import { invalidParameterValue, missingParameter } from "./errors";

/** FIFO deduplication window (AWS: 5 minutes). */
export const DEDUP_WINDOW_MS = 5 * 60 * 1000;
export const FIFO_ID_MAX_CHARS = 128;
/** MessageGroupId / MessageDeduplicationId: alphanumerics and punctuation !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~. */
const FIFO_ID = /^[\x21-\x7E]{1,128}$/;
const SEQUENCE_DIGITS = 20;

export interface FifoSendFields {
  groupId?: string;
  dedupId?: string;
}

/**
 * The FIFO fields of a send, checked against the queue type: a FIFO queue
 * needs MessageGroupId, and a dedup id unless content-based deduplication is
 * on; a standard queue refuses MessageDeduplicationId (MessageGroupId is
 * allowed on standard queues since 2024, as fair-queue tenancy).
 */
export function checkFifoFields(fields: FifoSendFields, fifo: boolean, contentBased: boolean, delaySeconds: number | undefined): void {
  for (const [name, value] of [
    ["MessageGroupId", fields.groupId],
    ["MessageDeduplicationId", fields.dedupId],
  ] as const) {
    if (value !== undefined && !FIFO_ID.test(value)) {
      throw invalidParameterValue(`Value ${value} for parameter ${name} is invalid. Reason: ${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
    }
  }
  if (fifo) {
    if (fields.groupId === undefined) throw missingParameter("MessageGroupId");
    if (fields.dedupId === undefined && !contentBased) {
      throw invalidParameterValue(
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
      );
    }
    if (delaySeconds !== undefined && delaySeconds !== 0) {
      throw invalidParameterValue(
        `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
      );
    }
  } else if (fields.dedupId !== undefined) {
    throw invalidParameterValue(
      `Value ${fields.dedupId} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  }
}

/** The id a FIFO message is deduplicated by: the given one, or the SHA-256 of the body. */
export function deduplicationId(dedupId: string | undefined, body: string): string {
  return dedupId ?? createHash("sha256").update(body).digest("hex");
}

/** FIFO SequenceNumber: a 20-digit decimal that grows with every message of the queue. */
export function formatSequenceNumber(seq: number): string {
  return String(seq).padStart(SEQUENCE_DIGITS, "0");
}

/** The dedup scope key: per queue, or per message group (DeduplicationScope=messageGroup). */
export function dedupKey(scope: string | undefined, groupId: string, id: string): string {
  return scope === "messageGroup" ? `${groupId}\u0000${id}` : id;
}
