import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { LambdaError } from "../errors";
import { resolveVersion } from "../services/resolve";
import { qualifiedRef, scopeOf } from "./context";

/**
 * Invoke. Checks the caller and that the function and qualifier exist, then
 * answers 501 in the Lambda error shape: execution is not built yet.
 */
export const invokeRoutes = new Hono<AppEnv>({ strict: false }).post("/:FunctionName/invocations", async (c) => {
  await resolveVersion(scopeOf(c), qualifiedRef(c));
  throw new LambdaError(501, "NotImplementedException", "Invoke is not available in this cellfn build yet.");
});
