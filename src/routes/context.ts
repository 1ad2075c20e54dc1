import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { FunctionRef } from "../lambda/function-name";
import type { Defer } from "../services/deploy";
import { parseFunctionName } from "../lambda/function-name";
import { listQuerySchema } from "../lambda/schemas";
import { parseValue } from "../lambda/validation";

/** Route-level helpers shared by the Lambda API areas. */

/** `{FunctionName}` with an optional `Qualifier` query parameter (Get*, Delete, Invoke). */
export function qualifiedRef(c: Context<AppEnv>, opts: { otherAccounts?: boolean } = {}): FunctionRef {
  return parseFunctionName(c.req.param("FunctionName") ?? "", namesOf(c), {
    qualified: true,
    qualifierParam: c.req.query("Qualifier"),
    ...opts,
  });
}

/** `{FunctionName}` for operations that take no qualifier (Update*, Publish, aliases, concurrency). */
export function functionNameOf(c: Context<AppEnv>): string {
  return parseFunctionName(c.req.param("FunctionName") ?? "", namesOf(c), { qualified: false }).name;
}

export function listQuery(c: Context<AppEnv>): { marker: string | undefined; maxItems: number | undefined } {
  const q = parseValue(listQuerySchema, { Marker: c.req.query("Marker"), MaxItems: c.req.query("MaxItems") });
  return { marker: q.Marker, maxItems: q.MaxItems };
}

function namesOf(c: Context<AppEnv>) {
  return { accountId: c.get("principal").accountId, region: c.env.REGION };
}

/** Work to finish after the response (bundling after CreateFunction / Update*): ExecutionContext.waitUntil. */
export function deferOf(c: Context<AppEnv>): Defer {
  return (work) => c.executionCtx.waitUntil(work);
}
