import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { authenticateTenant, requireFullScope } from "../auth/authenticate";
import { ASYNC_PAYLOAD_LIMIT_BYTES, enqueueEvent } from "../async/enqueue";
import { destinationSigningKey } from "../async/deliver";
import { asInvocationRecord, qualifierOfArn } from "../async/record";
import type { FailedEventCursor, FailedEventRow } from "../data/failed-event-store";
import { FailedEventStore } from "../data/failed-event-store";
import { database } from "../db/client";
import { conflict, invalidParameter, notFound, requestEntityTooLarge, tooManyRequests } from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { prepareInvoke } from "../invoke/target";
import { functionNameOf, listQuery } from "./context";
import { NO_LINEAGE } from "../invoke/recursion";

/** Items per page at most, whatever MaxItems asks for (as Lambda's list operations). */
export const FAILED_EVENTS_PAGE_CAP = 50;

/**
 * The cellfn extension API for async invocation (mounted at `/cellfn/v1`,
 * authenticated like the Lambda API: SigV4 or bearer token):
 *
 * - `GET  /functions/{FunctionName}/failed-events?Marker=&MaxItems=` →
 *   `{FailedEvents: [{Id, RequestId, Condition, CreatedAt, RedrivenAt?, Record}], NextMarker?}`,
 *   oldest first; Record is the Lambda invocation record the event ended with.
 * - `POST /functions/{FunctionName}/failed-events/{Id}/redrive` → 202 `{RequestId}`:
 *   the record's request payload is accepted again as a new async event (new
 *   request id) of the function and qualifier it was invoked with; the failed
 *   event gets RedrivenAt. Full-scope keys only.
 * - `GET  /destination-signing-key` → `{Key}`: the key http(s) destinations
 *   verify `X-Cellfn-Signature` with. Full-scope keys only.
 *
 * Another tenant's failed event is 404, exactly like one that does not exist.
 */
export const failedEventRoutes = new Hono<AppEnv>({ strict: false })
  .use("*", authenticateTenant)
  .get("/functions/:FunctionName/failed-events", async (c) => {
    const name = functionNameOf(c);
    const { marker, maxItems } = listQuery(c);
    const limit = Math.min(maxItems ?? FAILED_EVENTS_PAGE_CAP, FAILED_EVENTS_PAGE_CAP);
    const store = new FailedEventStore(database(c.env.DB), c.get("principal").tenantId);
    const rows = await store.list(name, marker === undefined ? undefined : failedEventCursor(decodeMarker(marker, cursorKey)), limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({
      FailedEvents: page.map(failedEventView),
      ...(rows.length > limit && last ? { NextMarker: encodeMarker({ c: last.createdAt, i: last.id }) } : {}),
    });
  })
  .post("/functions/:FunctionName/failed-events/:Id/redrive", requireFullScope, async (c) => {
    const name = functionNameOf(c);
    const id = c.req.param("Id");
    const scope = c.var.scope;
    const store = new FailedEventStore(database(c.env.DB), scope.principal.tenantId);
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
    const requestId = c.get("requestId");
    try {
      await enqueueEvent(scope, ref, payload, { requestId, isolationTenantId, lineage: NO_LINEAGE });
    } catch (err) {
      await store.unclaimRedrive(name, id, claimedAt);
      throw err;
    }
    return c.json({ RequestId: requestId }, 202);
  })
  .get("/destination-signing-key", requireFullScope, async (c) =>
    c.json({ Key: await destinationSigningKey(c.env.KEY_DERIVATION_SECRET, c.get("principal").tenantId) }),
  );

function failedEventView(row: FailedEventRow) {
  return {
    Id: row.id,
    RequestId: row.requestId,
    Condition: row.condition,
    CreatedAt: new Date(row.createdAt).toISOString(),
    ...(row.redrivenAt === null ? {} : { RedrivenAt: new Date(row.redrivenAt).toISOString() }),
    Record: row.record,
  };
}

const cursorKey = z.object({ c: z.number(), i: z.string() });

function failedEventCursor(key: z.infer<typeof cursorKey>): FailedEventCursor {
  return { createdAt: key.c, id: key.i };
}

const alreadyRedriven = (id: string, at: number) =>
  conflict(`Failed event ${id} was already redriven at ${new Date(at).toISOString()}; if that event failed too, redrive its own failed event.`);
