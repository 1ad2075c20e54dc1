/**
 * Redrive of a failed async event (cellfn's extension; the API route in
 * src/routes/failed-events.ts and the console's button both call it): the
 * record's request payload is accepted again as a new async event of the
 * function and qualifier it was invoked with, at most once per failed event.
 */
import { ASYNC_PAYLOAD_LIMIT_BYTES, enqueueEvent } from "../async/enqueue";
import { asInvocationRecord, qualifierOfArn } from "../async/record";
import { FailedEventStore } from "../data/failed-event-store";
import { database } from "../db/client";
import { conflict, invalidParameter, notFound, requestEntityTooLarge, tooManyRequests } from "../errors";
import { prepareInvoke } from "../invoke/target";
import { NO_LINEAGE } from "../invoke/recursion";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";
import type { TenantScope } from "./scope";

export function failedEventStore(scope: TenantScope): FailedEventStore {
  return new FailedEventStore(database(scope.env.DB), scope.principal.tenantId);
}

/** Sends failed event `id` of `name` again under `requestId`; throws Lambda's errors (404, 409, 400, 413, 429). */
export async function redriveFailedEvent(scope: TenantScope, name: string, id: string, requestId: string): Promise<void> {
  const store = failedEventStore(scope);
  const row = await store.get(name, id);
  if (!row) throw notFound(`Failed event ${id} not found for function ${functionArn(scope.names, name)}`);

  if (row.redrivenAt !== null) throw alreadyRedriven(id, row.redrivenAt);
  const record = asInvocationRecord(row.record);
  if (record?.requestContext.condition === "Success") {
    throw invalidParameter(
      `Failed event ${id} is a Success record whose destination delivery failed: the function already ran, so it is not redriven. The record is in this listing.`,
    );
  }
  if (!record || !("requestPayload" in record)) {
    throw invalidParameter(`Failed event ${id} has no request payload to redrive (it was too large to keep in the record).`);
  }
  const qualifier = qualifierOfArn(record.requestContext.functionArn);
  const ref: FunctionRef = qualifier === undefined ? { name } : { name, qualifier };
  const isolationTenantId = record.requestContext.tenantId;
  const payload = JSON.stringify(record.requestPayload);
  const size = new TextEncoder().encode(payload).byteLength;
  if (size > ASYNC_PAYLOAD_LIMIT_BYTES) {
    throw requestEntityTooLarge(`${size} byte payload is too large for the Event invocation type (limit ${ASYNC_PAYLOAD_LIMIT_BYTES} bytes)`);
  }

  // The same checks as an Event invoke: never accept what cannot run.
  const target = await prepareInvoke(scope, ref, isolationTenantId);
  if (target.fn.reservedConcurrency === 0) {
    throw tooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded");
  }
  // Claim the redrive first, so two at once cannot both send the event.
  const claimedAt = Date.now();
  if (!(await store.claimRedrive(name, id, claimedAt))) throw alreadyRedriven(id, (await store.get(name, id))?.redrivenAt ?? claimedAt);
  try {
    await enqueueEvent(scope, ref, payload, { requestId, isolationTenantId, lineage: NO_LINEAGE });
  } catch (err) {
    await store.unclaimRedrive(name, id, claimedAt);
    throw err;
  }
}

const alreadyRedriven = (id: string, at: number) =>
  conflict(`Failed event ${id} was already redriven at ${new Date(at).toISOString()}; if that event failed too, redrive its own failed event.`);
