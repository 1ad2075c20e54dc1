import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { createFunctionSchema, publishVersionSchema, updateFunctionCodeSchema, updateFunctionConfigurationSchema } from "../lambda/schemas";
import { parseJsonBody } from "../lambda/validation";
import {
  createFunction,
  deleteFunction,
  getFunction,
  getFunctionConfiguration,
  publishVersion,
  updateFunctionCode,
  updateFunctionConfiguration,
} from "../services/functions";
import { listFunctions, listVersions } from "../services/listing";
import { codeRequestBody, deferOf, functionNameOf, listQuery, qualifiedRef } from "./context";

/** Function CRUD, code and versions: `/2015-03-31/functions...`. */
export const functionRoutes = new Hono<AppEnv>({ strict: false })
  .post("/", requireFullScope, async (c) => {
    const input = parseJsonBody(createFunctionSchema, await codeRequestBody(c, "CreateFunction"));
    return c.json(await createFunction(c.var.scope, input, deferOf(c)), 201);
  })
  .get("/", async (c) => {
    const { marker, maxItems } = listQuery(c);
    return c.json(await listFunctions(c.var.scope, marker, maxItems, c.req.query("FunctionVersion")));
  })
  .get("/:FunctionName", async (c) => c.json(await getFunction(c.var.scope, qualifiedRef(c), new URL(c.req.url).origin)))
  .delete("/:FunctionName", requireFullScope, async (c) => {
    await deleteFunction(c.var.scope, qualifiedRef(c));
    return c.body(null, 204);
  })
  .get("/:FunctionName/configuration", async (c) => c.json(await getFunctionConfiguration(c.var.scope, qualifiedRef(c))))
  .put("/:FunctionName/configuration", requireFullScope, async (c) => {
    const name = functionNameOf(c);
    const input = parseJsonBody(updateFunctionConfigurationSchema, await c.req.text());
    return c.json(await updateFunctionConfiguration(c.var.scope, name, input, deferOf(c)));
  })
  .put("/:FunctionName/code", requireFullScope, async (c) => {
    const name = functionNameOf(c);
    const input = parseJsonBody(updateFunctionCodeSchema, await codeRequestBody(c, "UpdateFunctionCode"));
    return c.json(await updateFunctionCode(c.var.scope, name, input, deferOf(c)));
  })
  .post("/:FunctionName/versions", requireFullScope, async (c) => {
    const name = functionNameOf(c);
    const input = parseJsonBody(publishVersionSchema, await c.req.text());
    return c.json(await publishVersion(c.var.scope, name, input), 201);
  })
  .get("/:FunctionName/versions", async (c) => {
    const name = functionNameOf(c);
    const { marker, maxItems } = listQuery(c);
    return c.json(await listVersions(c.var.scope, name, marker, maxItems));
  });
