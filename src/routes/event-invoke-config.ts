import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { eventInvokeConfigSchema } from "../lambda/destination-config";
import { parseJsonBody, parseValue } from "../lambda/validation";
import {
  deleteEventInvokeConfig,
  EVENT_CONFIG_PAGE_CAP,
  getEventInvokeConfig,
  listEventInvokeConfigs,
  putEventInvokeConfig,
  updateEventInvokeConfig,
} from "../services/event-invoke-config";
import { functionNameOf, qualifiedRef } from "./context";

/** Marker / MaxItems of ListFunctionEventInvokeConfigs: the model caps MaxItems at 50. */
const listQuerySchema = z.object({
  Marker: z.string().optional(),
  MaxItems: z
    .string()
    .regex(/^[0-9]+$/, "Member must be a whole number")
    .transform(Number)
    .pipe(z.int().min(1).max(EVENT_CONFIG_PAGE_CAP))
    .optional(),
});

function listQuery(c: Context<AppEnv>) {
  const q = parseValue(listQuerySchema, { Marker: c.req.query("Marker"), MaxItems: c.req.query("MaxItems") });
  return { marker: q.Marker, maxItems: q.MaxItems };
}

/**
 * Asynchronous invocation settings: `/2019-09-25/functions/{FunctionName}/event-invoke-config[?Qualifier=]`
 * (PUT replaces, POST merges, GET, DELETE) and `.../event-invoke-config/list`.
 * The qualifier comes from `Qualifier` or the name (`fn:alias`, a qualified ARN).
 */
export const eventInvokeConfigRoutes = new Hono<AppEnv>({ strict: false })
  .get("/:FunctionName/event-invoke-config/list", async (c) => {
    const name = functionNameOf(c);
    const { marker, maxItems } = listQuery(c);
    return c.json(await listEventInvokeConfigs(c.var.scope, name, marker, maxItems));
  })
  .put("/:FunctionName/event-invoke-config", requireFullScope, async (c) => {
    const ref = qualifiedRef(c);
    const input = parseJsonBody(eventInvokeConfigSchema, await c.req.text());
    return c.json(await putEventInvokeConfig(c.var.scope, ref, input));
  })
  .post("/:FunctionName/event-invoke-config", requireFullScope, async (c) => {
    const ref = qualifiedRef(c);
    const input = parseJsonBody(eventInvokeConfigSchema, await c.req.text());
    return c.json(await updateEventInvokeConfig(c.var.scope, ref, input));
  })
  .get("/:FunctionName/event-invoke-config", async (c) => c.json(await getEventInvokeConfig(c.var.scope, qualifiedRef(c))))
  .delete("/:FunctionName/event-invoke-config", requireFullScope, async (c) => {
    await deleteEventInvokeConfig(c.var.scope, qualifiedRef(c));
    return c.body(null, 204);
  });
