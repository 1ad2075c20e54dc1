/**
 * Function URL management: `/2021-10-31/functions/{FunctionName}/url[?Qualifier=<alias>]`
 * (POST Create 201, GET, PUT Update, DELETE 204) and `/urls` (List).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import type { FunctionRef } from "../lambda/function-name";
import { parseJsonBody } from "../lambda/validation";
import { functionNameOf, listQuery, qualifiedRef } from "../routes/context";
import type { UrlContext } from "./config";
import { checkUrlQualifier, createUrlSchema, updateUrlSchema } from "./config";
import { createUrl, deleteUrl, getUrl, listUrls, updateUrl } from "./service";

export const functionUrlRoutes = new Hono<AppEnv>({ strict: false })
  .post("/:FunctionName/url", requireFullScope, async (c) => {
    const ref = urlRef(c);
    const input = parseJsonBody(createUrlSchema, await c.req.text());
    return c.json(await createUrl(c.var.scope, urlContext(c), ref, input), 201);
  })
  .get("/:FunctionName/url", async (c) => c.json(await getUrl(c.var.scope, urlContext(c), urlRef(c))))
  .put("/:FunctionName/url", requireFullScope, async (c) => {
    const ref = urlRef(c);
    const input = parseJsonBody(updateUrlSchema, await c.req.text());
    return c.json(await updateUrl(c.var.scope, urlContext(c), ref, input));
  })
  .delete("/:FunctionName/url", requireFullScope, async (c) => {
    await deleteUrl(c.var.scope, urlRef(c));
    return c.body(null, 204);
  })
  .get("/:FunctionName/urls", async (c) => {
    const name = functionNameOf(c);
    const { marker, maxItems } = listQuery(c);
    return c.json(await listUrls(c.var.scope, urlContext(c), name, marker, maxItems));
  });

/** `{FunctionName}` and `?Qualifier=`: the qualifier, however given, must be an alias name. */
function urlRef(c: Context<AppEnv>): FunctionRef {
  checkUrlQualifier(c.req.query("Qualifier"));
  const ref = qualifiedRef(c);
  checkUrlQualifier(ref.qualifier);
  return ref;
}

function urlContext(c: Context<AppEnv>): UrlContext {
  return { ...c.var.scope.names, domain: c.env.FUNCTION_URL_DOMAIN, apiUrl: new URL(c.req.url) };
}
