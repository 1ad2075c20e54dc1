import { z } from "zod";

/**
 * What travels on the async queues. Payloads whose JSON string form (escapes
 * included: that is what the message carries) fits INLINE_PAYLOAD_BYTES ride
 * in the message; larger ones (async accepts up to 1 MB, a queue message
 * holds 128 KB) are stored in R2 under `payloadKey` and deleted once the
 * event is settled.
 */
export const INLINE_PAYLOAD_BYTES = 96 * 1024;

/** Whether a payload rides in its queue message (see INLINE_PAYLOAD_BYTES). */
export function fitsInline(payload: string): boolean {
  return new TextEncoder().encode(JSON.stringify(payload)).byteLength <= INLINE_PAYLOAD_BYTES;
}

export const asyncEventSchema = z.object({
  kind: z.literal("event"),
  /** The request id answered with 202; the event's identity across retries. */
  requestId: z.string(),
  tenantId: z.string(),
  functionName: z.string(),
  /** Qualifier as invoked (version or alias); absent for unqualified. */
  qualifier: z.string().optional(),
  payload: z.string().optional(),
  payloadKey: z.string().optional(),
  /** X-Amz-Tenant-Id for PER_TENANT functions. */
  isolationTenantId: z.string().optional(),
  /** Epoch ms when the event was accepted (MaximumEventAgeInSeconds counts from here). */
  acceptedAt: z.number(),
  /**
   * Epoch ms from which this message was due to run: its send time plus its
   * delay (a retry's or a throttle backoff's); absent on a first message (due
   * at `acceptedAt`). Backlog mode judges the wait on a queue from it.
   */
  dueAt: z.number().optional(),
  /** Function-error retries spent so far (Lambda's retry budget: 0..MaximumRetryAttempts). */
  retriesSpent: z.number().int().min(0),
  /** Throttle / platform-error redeliveries so far (backoff grows with it; does not spend the budget). */
  backoffs: z.number().int().min(0),
  /** Which message of the event this is: 0 when accepted, +1 for each retry, backoff or move (async_events.attempt). */
  attempt: z.number().int().min(0).default(0),
  /** The chain of invocations that caused the event: function hash → count (src/invoke/recursion.ts). */
  lineage: z.record(z.string().regex(/^[0-9a-f]{8}$/), z.int().min(0)).default({}),
  /** The queue the event was routed to, so the poller can report depths. */
  queue: z.string(),
});
export type AsyncEventMessage = z.infer<typeof asyncEventSchema>;

export const destinationDeliverySchema = z.object({
  kind: z.literal("destination"),
  tenantId: z.string(),
  functionName: z.string(),
  requestId: z.string(),
  /** https URL (http only with ALLOW_PRIVATE_EGRESS=true) receiving the record. */
  url: z.string(),
  record: z.record(z.string(), z.unknown()),
  attempt: z.number().int().min(0),
  /** Messages from before the outbox only: the queue it was sent to. */
  queue: z.string().optional(),
  /**
   * The delivery's id, one per source event and outcome: its key in the
   * tenant's outbox (src/async/url-outbox.ts). On a message from before the
   * outbox, local development's async_events row that kept it.
   */
  deliveryId: z.string().optional(),
});
export type DestinationDelivery = z.infer<typeof destinationDeliverySchema>;

export const queueMessageSchema = z.discriminatedUnion("kind", [asyncEventSchema, destinationDeliverySchema]);
export type QueueMessage = z.infer<typeof queueMessageSchema>;
