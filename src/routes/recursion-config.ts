import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { putRecursionConfigSchema } from "../lambda/schemas";
import { parseJsonBody } from "../lambda/validation";
import { getRecursionConfig, putRecursionConfig } from "../services/recursion-config";
import { functionNameOf } from "./context";

/** Put/GetFunctionRecursionConfig (API date 2024-08-31); unqualified function names only, as Lambda. */
export const recursionConfigRoutes = new Hono<AppEnv>({ strict: false })
  .get("/:FunctionName/recursion-config", async (c) => c.json(await getRecursionConfig(c.var.scope, functionNameOf(c))))
  .put("/:FunctionName/recursion-config", requireFullScope, async (c) => {
    const input = parseJsonBody(putRecursionConfigSchema, await c.req.text());
    return c.json(await putRecursionConfig(c.var.scope, functionNameOf(c), input.RecursiveLoop));
  });
