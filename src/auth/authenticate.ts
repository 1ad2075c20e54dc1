import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { database } from "../db/client";
import { callerThrottled, expiredToken, invokeOnlyKey, LambdaError, missingAuthenticationToken, unrecognizedClient } from "../errors";
import { claimedAccessKeyId, FailureLimiter, failureSubjects } from "./failure-limit";
import { lookupKey, lookupSessionTenant } from "./key-cache";
import { deriveSecret, parseBearerToken, sha256Hex, timingSafeEqualText } from "./keys";
import { tenantScope } from "../services/scope";
import type { Principal } from "./principal";
import { verifySessionToken } from "./session-credentials";
import { hasSigV4, verifySigV4 } from "./sigv4";

/** This isolate's failed-authentication counts (src/auth/failure-limit.ts). */
export const authFailures = new FailureLimiter();

/** The client's address: Cloudflare sets it on every request (a client cannot); absent in tests that do not send it. */
export function sourceIp(request: Request): string | null {
  return request.headers.get("cf-connecting-ip");
}

/** Throws Lambda's throttle when any subject is blocked for too many failed authentications. */
export function refuseIfBlocked(subjects: string[], now = Date.now()): void {
  const waitMs = Math.max(0, ...subjects.map((s) => authFailures.blockedFor(s, now)));
  if (waitMs > 0) throw callerThrottled(Math.ceil(waitMs / 1000));
}

export function recordAuthFailure(subjects: string[], now = Date.now()): void {
  for (const subject of subjects) authFailures.fail(subject, now);
}

/** A refusal of the credentials themselves (not a missing token, nor a key without the right scope). */
function isCredentialFailure(error: unknown): boolean {
  return error instanceof LambdaError && error.status === 403 && error.type !== "MissingAuthenticationTokenException" && error.type !== "AccessDeniedException";
}

/**
 * Authenticates a tenant (see verifyCredentials), refusing at once with a 429
 * a source IP or access key id that failed AUTH_FAILURE_LIMIT times within a
 * minute; their credentials are not even checked while the block lasts.
 */
export async function authenticate(
  env: Env,
  request: Request,
  readBody: () => Promise<ArrayBuffer>,
  service = "lambda",
): Promise<Principal> {
  const subjects = failureSubjects(sourceIp(request), claimedAccessKeyId(request.headers.get("authorization") ?? ""));
  refuseIfBlocked(subjects);
  try {
    return await verifyCredentials(env, request, readBody, service);
  } catch (error) {
    if (isCredentialFailure(error)) recordAuthFailure(subjects);
    throw error;
  }
}

/**
 * Authenticates a tenant: SigV4 with an access key (AWS CLI and SDKs; the
 * credential scope must name `service`) or `Authorization: Bearer <token>`
 * (curl). `readBody` gives the raw body (Hono's cached reader, so the route
 * can read it again). Throws LambdaError (the caller maps it to its service's shape).
 */
async function verifyCredentials(env: Env, request: Request, readBody: () => Promise<ArrayBuffer>, service: string): Promise<Principal> {
  const db = database(env.DB);
  const authorization = request.headers.get("authorization") ?? "";
  let accessKeyId: string;

  const sessionToken = request.headers.get("x-amz-security-token");
  if (sessionToken !== null && hasSigV4(request)) return authenticateSession(env, request, sessionToken, await readBody(), service);

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
    if (!parsed) throw unrecognizedClient();
    const found = await lookupKey(db, parsed.accessKeyId);
    if (!found || !(await bearerSecretMatches(parsed.accessKeyId, parsed.secret, found.key.secretHash))) throw unrecognizedClient();
    accessKeyId = parsed.accessKeyId;
  } else {
    throw missingAuthenticationToken();
  }

  const found = await lookupKey(db, accessKeyId);
  if (!found) throw unrecognizedClient();
  return {
    tenantId: found.tenant.id,
    accountId: found.tenant.accountId,
    accessKeyId,
    scope: found.key.scope,
    concurrencyLimit: found.tenant.concurrencyLimit,
    apiRequestRate: found.tenant.apiRequestRate,
    cell: found.tenant.cell,
  };
}

/**
 * The bearer secret last verified for each key, with the stored hash it
 * matched: a repeated request compares it in constant time instead of
 * hashing it again. A changed hash (a key replaced) is hashed afresh.
 */
const verifiedBearer = new Map<string, { secret: string; secretHash: string }>();
const MAX_VERIFIED_BEARERS = 10_000;

async function bearerSecretMatches(accessKeyId: string, secret: string, secretHash: string): Promise<boolean> {
  const known = verifiedBearer.get(accessKeyId);
  if (known?.secretHash === secretHash && timingSafeEqualText(secret, known.secret)) return true;
  if (!timingSafeEqualText(await sha256Hex(secret), secretHash)) return false;
  if (verifiedBearer.size >= MAX_VERIFIED_BEARERS) verifiedBearer.clear();
  verifiedBearer.set(accessKeyId, { secret, secretHash });
  return true;
}

/**
 * A request signed with a function's session credentials (X-Amz-Security-Token,
 * src/auth/session-credentials.ts). The token is checked before the
 * signature, as STS credentials are: an expired token is refused as such.
 * The principal is the function's tenant with scope "invoke": it may invoke
 * and read that tenant's functions and use the SQS/Kinesis/Logs APIs, as an
 * invoke-scoped key may; never change functions, never the admin API.
 */
async function authenticateSession(env: Env, request: Request, token: string, body: ArrayBuffer, service: string): Promise<Principal> {
  const checked = await verifySessionToken(env.KEY_DERIVATION_SECRET, token);
  if (checked.kind === "expired") throw expiredToken();
  if (checked.kind === "invalid") throw unrecognizedClient();
  const { claims, secretAccessKey } = checked;
  await verifySigV4(request, body, async (id) => (id === claims.accessKeyId ? secretAccessKey : null), new Date(), service);
  const tenant = await lookupSessionTenant(database(env.DB), claims.tenantId, claims.functionName);
  if (!tenant) throw unrecognizedClient();
  return {
    tenantId: tenant.id,
    accountId: tenant.accountId,
    accessKeyId: claims.accessKeyId,
    scope: "invoke",
    concurrencyLimit: tenant.concurrencyLimit,
    apiRequestRate: tenant.apiRequestRate,
    cell: tenant.cell,
  };
}

/** Lambda API routes: authenticates the tenant and sets `principal` and its `scope`. Keys of scope "invoke" may read and invoke, not change anything. */
export const authenticateTenant = createMiddleware<AppEnv>(async (c, next) => {
  const principal = await authenticate(c.env, c.req.raw, () => c.req.arrayBuffer());
  c.set("principal", principal);
  c.set("scope", tenantScope(c.env, principal));
  await next();
});

/** Put on every control-plane write route: an invoke-only key is refused with AccessDeniedException. */
export const requireFullScope = createMiddleware<AppEnv>(async (c, next) => {
  const { scope, accessKeyId } = c.get("principal");
  if (scope !== "full") {
    throw invokeOnlyKey(accessKeyId);
  }
  await next();
});
