import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { database } from "../db/client";
import { LambdaError } from "../errors";
import { lookupKey } from "./key-cache";
import { deriveSecret, parseBearerToken, sha256Hex, timingSafeEqualText } from "./keys";
import type { Principal } from "./principal";
import { hasSigV4, verifySigV4 } from "./sigv4";

const missingToken = () => new LambdaError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
const unrecognized = () =>
  new LambdaError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");

/**
 * Authenticates a tenant: SigV4 with an access key (AWS CLI and SDKs; the
 * credential scope must name `service`) or `Authorization: Bearer <token>`
 * (curl). `readBody` gives the raw body (Hono's cached reader, so the route
 * can read it again). Throws LambdaError (the caller maps it to its service's shape).
 */
export async function authenticate(
  env: Env,
  request: Request,
  readBody: () => Promise<ArrayBuffer>,
  service = "lambda",
): Promise<Principal> {
  const db = database(env.DB);
  const authorization = request.headers.get("authorization") ?? "";
  let accessKeyId: string;

  if (hasSigV4(request)) {
    const body = await readBody();
    const result = await verifySigV4(
      request,
      body,
      async (id) => {
        const found = await lookupKey(db, id);
        return found ? deriveSecret(env.KEY_DERIVATION_SECRET, id, found.key.secretSalt) : null;
      },
      new Date(),
      service,
    );
    accessKeyId = result.accessKeyId;
  } else if (authorization.startsWith("Bearer ")) {
    const parsed = parseBearerToken(authorization.slice("Bearer ".length).trim());
    if (!parsed) throw unrecognized();
    const found = await lookupKey(db, parsed.accessKeyId);
    if (!found || !timingSafeEqualText(await sha256Hex(parsed.secret), found.key.secretHash)) throw unrecognized();
    accessKeyId = parsed.accessKeyId;
  } else {
    throw missingToken();
  }

  const found = await lookupKey(db, accessKeyId);
  if (!found) throw unrecognized();
  return {
    tenantId: found.tenant.id,
    accountId: found.tenant.accountId,
    accessKeyId,
    scope: found.key.scope,
    concurrencyLimit: found.tenant.concurrencyLimit,
    cell: found.tenant.cell,
  };
}

/** Lambda API routes: authenticates the tenant and sets `principal`. Keys of scope "invoke" may read and invoke, not change anything. */
export const authenticateTenant = createMiddleware<AppEnv>(async (c, next) => {
  c.set("principal", await authenticate(c.env, c.req.raw, () => c.req.arrayBuffer()));
  await next();
});

/** Put on every control-plane write route: an invoke-only key is refused with AccessDeniedException. */
export const requireFullScope = createMiddleware<AppEnv>(async (c, next) => {
  const { scope, accessKeyId } = c.get("principal");
  if (scope !== "full") {
    throw new LambdaError(
      403,
      "AccessDeniedException",
      `Access key ${accessKeyId} has scope "invoke": it can invoke functions and read their configuration, not change them. Use a key with scope "full".`,
    );
  }
  await next();
});
