/**
 * Receipt handles: opaque to clients, they name the queue incarnation (a
 * random id minted by CreateQueue, so a handle never works on another queue,
 * nor on a queue deleted and created again under the same name), the message,
 * and the receive that produced it. No tenant or queue name inside.
 */
export interface ReceiptHandle {
  queueId: string;
  messageId: string;
  receiveId: string;
}

const VERSION = "1";
const PART = /^[A-Za-z0-9-]{1,64}$/;

export function encodeReceiptHandle(handle: ReceiptHandle): string {
  const text = [VERSION, handle.queueId, handle.messageId, handle.receiveId].join(":");
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The handle's parts, or null when it is not a handle this service issued. */
export function decodeReceiptHandle(text: string): ReceiptHandle | null {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(text)) return null;
  let decoded: string;
  try {
    decoded = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const parts = decoded.split(":");
  if (parts.length !== 4 || parts[0] !== VERSION) return null;
  const [, queueId, messageId, receiveId] = parts as [string, string, string, string];
  if (![queueId, messageId, receiveId].every((p) => PART.test(p))) return null;
  return { queueId, messageId, receiveId };
}
