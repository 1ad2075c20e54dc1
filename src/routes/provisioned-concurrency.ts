import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { missingQualifier } from "../errors";
import { parseJsonBody } from "../lambda/validation";
import {
  deleteProvisionedConcurrency,
  getProvisionedConcurrency,
  listProvisionedConcurrency,
  putProvisionedConcurrency,
} from "../services/provisioned-concurrency";
import { listQuery, qualifiedRef } from "./context";

const putProvisionedSchema = z.strictObject({ ProvisionedConcurrentExecutions: z.int().min(1) });

const PATH = "/2019-09-30/functions/:FunctionName/provisioned-concurrency";

/** `{FunctionName}` and its qualifier (from `name:qualifier` or `?Qualifier=`), which these operations require. */
function target(c: Parameters<typeof qualifiedRef>[0]): { name: string; qualifier: string } {
  const ref = qualifiedRef(c);
  if (ref.qualifier === undefined) throw missingQualifier();
  return { name: ref.name, qualifier: ref.qualifier };
}

/**
 * Provisioned concurrency (docs/reference/lambda-api-notes.md §3). Get and
 * List share one path: `List=ALL` makes it the list.
 */
export const provisionedConcurrencyRoutes = new Hono<AppEnv>({ strict: false })
  .put(PATH, requireFullScope, async (c) => {
    const { name, qualifier } = target(c);
    const input = parseJsonBody(putProvisionedSchema, await c.req.text());
    return c.json(await putProvisionedConcurrency(c.var.scope, name, qualifier, input.ProvisionedConcurrentExecutions), 202);
  })
  .get(PATH, async (c) => {
    if (c.req.query("List") === "ALL") {
      const { marker, maxItems } = listQuery(c);
      return c.json(await listProvisionedConcurrency(c.var.scope, qualifiedRef(c).name, marker, maxItems));
    }
    const { name, qualifier } = target(c);
    return c.json(await getProvisionedConcurrency(c.var.scope, name, qualifier));
  })
  .delete(PATH, requireFullScope, async (c) => {
    const { name, qualifier } = target(c);
    await deleteProvisionedConcurrency(c.var.scope, name, qualifier);
    return c.body(null, 204);
  });
