import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { putRuntimeManagementSchema } from "../lambda/schemas";
import { parseJsonBody } from "../lambda/validation";
import { getRuntimeManagementConfig, putRuntimeManagementConfig } from "../services/runtime-management";
import { qualifiedRef } from "./context";

/** Get/PutRuntimeManagementConfig: `/2021-07-20/functions/{FunctionName}/runtime-management-config`. */
export const runtimeManagementRoutes = new Hono<AppEnv>({ strict: false })
  .get("/:FunctionName/runtime-management-config", async (c) => c.json(await getRuntimeManagementConfig(c.var.scope, qualifiedRef(c))))
  .put("/:FunctionName/runtime-management-config", requireFullScope, async (c) => {
    const input = parseJsonBody(putRuntimeManagementSchema, await c.req.text());
    return c.json(await putRuntimeManagementConfig(c.var.scope, qualifiedRef(c), input));
  });
