import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { authenticateTenant, requireFullScope } from "../auth/authenticate";
import { destinationSigningKey } from "../async/deliver";
import type { FailedEventCursor, FailedEventRow } from "../data/failed-event-store";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { failedEventStore, redriveFailedEvent } from "../services/failed-events";
import { functionNameOf, listQuery } from "./context";

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
    const store = failedEventStore(c.var.scope);
    const rows = await store.list(name, marker === undefined ? undefined : failedEventCursor(decodeMarker(marker, cursorKey)), limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({
      FailedEvents: page.map(failedEventView),
      ...(rows.length > limit && last ? { NextMarker: encodeMarker({ c: last.createdAt, i: last.id }) } : {}),
    });
  })
  .post("/functions/:FunctionName/failed-events/:Id/redrive", requireFullScope, async (c) => {
    const requestId = c.get("requestId");
    await redriveFailedEvent(c.var.scope, functionNameOf(c), c.req.param("Id"), requestId);
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
