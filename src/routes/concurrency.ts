import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { putConcurrencySchema } from "../lambda/schemas";
import { parseJsonBody } from "../lambda/validation";
import { deleteFunctionConcurrency, getAccountSettings, getFunctionConcurrency, putFunctionConcurrency } from "../services/function-concurrency";
import { functionItselfOf, functionNameOf } from "./context";
import { provisionedConcurrencyRoutes } from "./provisioned-concurrency";

/**
 * Reserved concurrency, account settings and provisioned concurrency
 * (./provisioned-concurrency.ts). Each operation carries its own
 * API date in the path (docs/reference/lambda-api-notes.md Appendix A), so this sub-app is
 * mounted at the root.
 */
export const concurrencyRoutes = new Hono<AppEnv>({ strict: false })
  .put("/2017-10-31/functions/:FunctionName/concurrency", requireFullScope, async (c) => {
    const name = functionItselfOf(c);
    const input = parseJsonBody(putConcurrencySchema, await c.req.text());
    return c.json(await putFunctionConcurrency(c.var.scope, name, input.ReservedConcurrentExecutions));
  })
  .delete("/2017-10-31/functions/:FunctionName/concurrency", requireFullScope, async (c) => {
    await deleteFunctionConcurrency(c.var.scope, functionNameOf(c));
    return c.body(null, 204);
  })
  .get("/2019-09-30/functions/:FunctionName/concurrency", async (c) => c.json(await getFunctionConcurrency(c.var.scope, functionNameOf(c))))
  .get("/2016-08-19/account-settings", async (c) => c.json(await getAccountSettings(c.var.scope)))
  .route("/", provisionedConcurrencyRoutes);
