/**
 * What a finished invocation means for the batch's messages (Lambda's SQS
 * rules): success deletes all; a function error fails all; with
 * ReportBatchItemFailures, `batchItemFailures` keeps only the named messages,
 * and an unknown or empty id or a malformed response fails the whole batch.
 * Pure.
 */

export type BatchVerdict =
  /** Delete these messages (by messageId); the others stay to reappear after their visibility timeout. */
  | { kind: "settle"; deleteIds: string[]; failedIds: string[] }
  /** Delete nothing. */
  | { kind: "fail"; reason: string };

export function interpretResult(
  messageIds: string[],
  outcome: { functionError: boolean; payload: string },
  reportBatchItemFailures: boolean,
): BatchVerdict {
  if (outcome.functionError) return { kind: "fail", reason: "Function call failed" };
  if (!reportBatchItemFailures) return { kind: "settle", deleteIds: messageIds, failedIds: [] };
  const failed = reportedFailures(outcome.payload, new Set(messageIds));
  if (failed === null) return { kind: "fail", reason: "Invalid batchItemFailures response" };
  return { kind: "settle", deleteIds: messageIds.filter((id) => !failed.has(id)), failedIds: [...failed] };
}

/** The ids named as failed; null when the response is malformed or names an id outside the batch. */
export function reportedFailures(payload: string, batch: Set<string>): Set<string> | null {
  const failed = new Set<string>();
  if (payload.trim() === "") return failed;
  let response: unknown;
  try {
    response = JSON.parse(payload);
  } catch {
    // "An invalid JSON response" is a complete failure (Lambda's batch item failure rules).
    return null;
  }
  if (response === null || typeof response !== "object" || Array.isArray(response)) return failed;
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return failed;
  if (!Array.isArray(list)) return null;
  for (const entry of list) {
    if (entry === null || typeof entry !== "object") return null;
    const id = (entry as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof id !== "string" || id === "" || !batch.has(id)) return null;
    failed.add(id);
  }
  return failed;
}
