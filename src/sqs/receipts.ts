import { invalidValueFor, messageNotInflight, receiptHandleIsInvalid, SqsError } from "./errors";
import type { MessageStore } from "./message-store";
import type { QueueDescription } from "./queue-object";
import { decodeReceiptHandle } from "./receipt-handle";
import type { BatchFailure, BatchOutcome, DeleteEntry, VisibilityChange } from "./types";

/**
 * DeleteMessage(Batch). A handle of this queue whose message is already gone
 * succeeds (AWS: deleting twice is not an error); on a standard queue an
 * older handle of the message still deletes it. A FIFO queue refuses a handle
 * whose visibility ended (the message may be in someone else's hands).
 * Another queue's handle, or garbage, is ReceiptHandleIsInvalid.
 */
export function deleteByHandles(store: MessageStore, queue: QueueDescription, entries: DeleteEntry[], now: number, batch: boolean): BatchOutcome<{ id: string }> {
  const fifo = queue.settings.FifoQueue === "true";
  return eachEntry(entries, batch, (entry) => {
    const handle = decodeReceiptHandle(entry.receiptHandle);
    if (!handle || handle.queueId !== queue.queueId) throw receiptHandleIsInvalid(entry.receiptHandle);
    const row = store.byId(handle.messageId);
    if (!row) return { id: entry.id };
    if (fifo && (row.receive_id !== handle.receiveId || row.visible_at <= now)) {
      throw invalidValueFor("ReceiptHandle", entry.receiptHandle, "The receipt handle has expired.");
    }
    store.delete(row.seq);
    return { id: entry.id };
  });
}

/** ChangeMessageVisibility(Batch): only the latest receive's handle of a message in flight. */
export function changeVisibilityByHandles(
  store: MessageStore,
  queue: QueueDescription,
  entries: VisibilityChange[],
  now: number,
  batch: boolean,
): BatchOutcome<{ id: string }> {
  return eachEntry(entries, batch, (entry) => {
    const handle = decodeReceiptHandle(entry.receiptHandle);
    if (!handle || handle.queueId !== queue.queueId) throw receiptHandleIsInvalid(entry.receiptHandle);
    const row = store.byId(handle.messageId);
    if (!row || row.receive_id !== handle.receiveId) {
      throw invalidValueFor("ReceiptHandle", entry.receiptHandle, "Message does not exist or is not available for visibility timeout change.");
    }
    if (row.visible_at <= now) throw messageNotInflight();
    store.setVisibleAt(row.seq, now + entry.visibilityTimeout * 1000);
    return { id: entry.id };
  });
}

/** Runs each entry; in a batch an entry's SQS error goes to Failed, otherwise it is the call's error. */
export function eachEntry<E extends { id: string }, R>(entries: E[], batch: boolean, apply: (entry: E) => R): BatchOutcome<R> {
  const outcome: BatchOutcome<R> = { successful: [], failed: [] };
  for (const entry of entries) {
    try {
      outcome.successful.push(apply(entry));
    } catch (error) {
      if (!(error instanceof SqsError) || !batch) throw error;
      outcome.failed.push(batchFailure(entry.id, error));
    }
  }
  return outcome;
}

export function batchFailure(id: string, error: SqsError): BatchFailure {
  return { id, code: (error.queryError ?? error.type).replace(/;Sender$/, ""), message: error.message, senderFault: true };
}
