import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { aliasNameSchema, createAliasSchema, updateAliasSchema } from "../lambda/schemas";
import { parseJsonBody, parseValue } from "../lambda/validation";
import { createAlias, deleteAlias, getAlias, updateAlias } from "../services/aliases";
import { listAliases } from "../services/listing";
import { functionNameOf, listQuery } from "./context";

const aliasNameOf = (c: Context<AppEnv>) => parseValue(aliasNameSchema, c.req.param("Name"));

/** Aliases: `/2015-03-31/functions/{FunctionName}/aliases...`. */
export const aliasRoutes = new Hono<AppEnv>({ strict: false })
  .post("/:FunctionName/aliases", requireFullScope, async (c) => {
    const name = functionNameOf(c);
    const input = parseJsonBody(createAliasSchema, await c.req.text());
    return c.json(await createAlias(c.var.scope, name, input.Name, input), 201);
  })
  .get("/:FunctionName/aliases", async (c) => {
    const name = functionNameOf(c);
    const { marker, maxItems } = listQuery(c);
    return c.json(await listAliases(c.var.scope, name, marker, maxItems, c.req.query("FunctionVersion")));
  })
  .get("/:FunctionName/aliases/:Name", async (c) => c.json(await getAlias(c.var.scope, functionNameOf(c), aliasNameOf(c))))
  .put("/:FunctionName/aliases/:Name", requireFullScope, async (c) => {
    const name = functionNameOf(c);
    const alias = aliasNameOf(c);
    const input = parseJsonBody(updateAliasSchema, await c.req.text());
    return c.json(await updateAlias(c.var.scope, name, alias, input));
  })
  .delete("/:FunctionName/aliases/:Name", requireFullScope, async (c) => {
    await deleteAlias(c.var.scope, functionNameOf(c), aliasNameOf(c));
    return c.body(null, 204);
  });
