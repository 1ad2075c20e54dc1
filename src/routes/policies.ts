import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { addPermissionSchema } from "../lambda/schemas";
import { parseJsonBody } from "../lambda/validation";
import { addPermission, getPolicy, removePermission } from "../services/policies";
import { qualifiedRef } from "./context";

/** AddPermission / RemovePermission / GetPolicy: `/2015-03-31/functions/{FunctionName}/policy[/{StatementId}]`. */
export const policyRoutes = new Hono<AppEnv>({ strict: false })
  .post("/:FunctionName/policy", requireFullScope, async (c) => {
    const input = parseJsonBody(addPermissionSchema, await c.req.text());
    return c.json(await addPermission(c.var.scope, qualifiedRef(c), input), 201);
  })
  .get("/:FunctionName/policy", async (c) => c.json(await getPolicy(c.var.scope, qualifiedRef(c))))
  .delete("/:FunctionName/policy/:StatementId", requireFullScope, async (c) => {
    await removePermission(c.var.scope, qualifiedRef(c), c.req.param("StatementId"), c.req.query("RevisionId"));
    return c.body(null, 204);
  });
