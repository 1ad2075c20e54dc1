import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { tagResourceSchema } from "../lambda/schemas";
import { parseJsonBody } from "../lambda/validation";
import { listTags, tagResource, untagResource } from "../services/tags";

/** TagResource / UntagResource / ListTags: `/2017-03-31/tags/{Resource ARN}`. */
export const tagRoutes = new Hono<AppEnv>({ strict: false })
  .get("/:Resource{.+}", async (c) => c.json(await listTags(c.var.scope, c.req.param("Resource"))))
  .post("/:Resource{.+}", requireFullScope, async (c) => {
    const input = parseJsonBody(tagResourceSchema, await c.req.text());
    await tagResource(c.var.scope, c.req.param("Resource"), input.Tags);
    return c.body(null, 204);
  })
  .delete("/:Resource{.+}", requireFullScope, async (c) => {
    await untagResource(c.var.scope, c.req.param("Resource"), c.req.queries("tagKeys"));
    return c.body(null, 204);
  });
