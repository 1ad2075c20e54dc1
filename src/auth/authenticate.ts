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
 * Authenticates a tenant on the Lambda API: SigV4 with an access key (AWS CLI
 * and SDKs) or `Authorization: Bearer <token>` (curl). Sets `principal`.
 * Keys of scope "invoke" may read and invoke, not change anything.
 */
export const authenticateTenant = createMiddleware<AppEnv>(async (c, next) => {
  const db = database(c.env.DB);
  const authorization = c.req.header("authorization") ?? "";
  let accessKeyId: string;

  if (hasSigV4(c.req.raw)) {
    const body = await c.req.arrayBuffer();
    const result = await verifySigV4(c.req.raw, body, async (id) => {
      const found = await lookupKey(db, id);
      return found ? deriveSecret(c.env.KEY_DERIVATION_SECRET, id, found.key.secretSalt) : null;
    });
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
  const principal: Principal = {
    tenantId: found.tenant.id,
    accountId: found.tenant.accountId,
    accessKeyId,
    scope: found.key.scope,
    concurrencyLimit: found.tenant.concurrencyLimit,
    cell: found.tenant.cell,
  };
  c.set("principal", principal);
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
