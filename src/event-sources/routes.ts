import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { parseValue } from "../lambda/validation";
import { parseJsonBody } from "../lambda/validation";
import { createMapping, deleteMapping, getMapping, listMappings, updateMapping } from "./service";
import { parseCreate, parseUpdate } from "./settings";

/** MaxItems as the model bounds it (1–10,000); pages hold at most LIST_PAGE_MAX whatever it asks. */
const listQuerySchema = z.object({
  Marker: z.string().optional(),
  MaxItems: z.string().regex(/^[0-9]+$/, "Member must be a whole number").transform(Number).pipe(z.int().min(1).max(10_000)).optional(),
  FunctionName: z.string().min(1).max(256).optional(),
  EventSourceArn: z.string().optional(),
});

/**
 * Event source mappings (SQS sources): `/2015-03-31/event-source-mappings[/]`
 * (POST creates, GET lists) and `/2015-03-31/event-source-mappings/{UUID}`
 * (GET, PUT updates, DELETE). Mounted at `/2015-03-31/event-source-mappings`.
 */
export const eventSourceMappingRoutes = new Hono<AppEnv>({ strict: false })
  .post("/", requireFullScope, async (c) => {
    const input = parseCreate(parseJsonBody(z.unknown(), await c.req.text()));
    return c.json(await createMapping(c.var.scope, input), 202);
  })
  .get("/", async (c) => {
    const q = parseValue(listQuerySchema, {
      Marker: c.req.query("Marker"),
      MaxItems: c.req.query("MaxItems"),
      FunctionName: c.req.query("FunctionName"),
      EventSourceArn: c.req.query("EventSourceArn"),
    });
    return c.json(
      await listMappings(c.var.scope, {
        ...(q.FunctionName === undefined ? {} : { functionName: q.FunctionName }),
        ...(q.EventSourceArn === undefined ? {} : { eventSourceArn: q.EventSourceArn }),
        ...(q.Marker === undefined ? {} : { marker: q.Marker }),
        ...(q.MaxItems === undefined ? {} : { maxItems: q.MaxItems }),
      }),
    );
  })
  .get("/:UUID", async (c) => c.json(await getMapping(c.var.scope, c.req.param("UUID"))))
  .put("/:UUID", requireFullScope, async (c) => {
    const input = parseUpdate(parseJsonBody(z.unknown(), await c.req.text()));
    return c.json(await updateMapping(c.var.scope, c.req.param("UUID"), input), 202);
  })
  .delete("/:UUID", requireFullScope, async (c) => c.json(await deleteMapping(c.var.scope, c.req.param("UUID")), 202));
