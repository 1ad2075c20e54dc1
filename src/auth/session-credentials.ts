/**
 * Credentials a function gets inside its execution environment, as Lambda
 * gives each environment its execution role's temporary credentials
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN).
 *
 * Stateless, so that verifying a request signed with them needs no D1 row
 * for the credentials themselves:
 * - the session token carries the tenant, the function, the access key id and
 *   the expiry, and an HMAC over them under a key derived from
 *   KEY_DERIVATION_SECRET (not the key tenant access keys come from);
 * - the secret access key is an HMAC of the token under another derived key,
 *   so whoever holds the token and the master secret can recompute it, and
 *   nobody else can.
 * Nothing here is stored: the credentials exist in the isolate's process.env
 * and in the signed requests it sends.
 */
import { fromBase64Url, hmacSha256, toBase64, toBase64Url } from "../util/bytes";

/** What a session token vouches for. */
export interface SessionClaims {
  /** ASIA… access key id the token was minted with (a request must sign with this one). */
  accessKeyId: string;
  tenantId: string;
  /** Name of the function whose environment holds the credentials; refused once it is deleted. */
  functionName: string;
  /** Epoch seconds after which the token is refused (ExpiredTokenException). */
  expiresAt: number;
}

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601, for AWS_CREDENTIAL_EXPIRATION (the SDK v3 env provider refreshes from process.env before it). */
  expiration: string;
}

/**
 * Lifetime of minted credentials. Lambda's role sessions last hours and the
 * runtime refreshes them; here the frontend re-mints for an environment once
 * half of this has passed (src/invoke/invocation.ts), and the shim rewrites
 * process.env before each invocation.
 */
export const SESSION_TTL_S = 6 * 60 * 60;

const TOKEN_PREFIX = "cellfn1";
const ACCESS_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `ASIA` + 16 characters derived from the environment id: one stable key id per execution environment. */
async function accessKeyIdFor(master: string, environmentId: string): Promise<string> {
  const mac = await hmacSha256(master, `cellfn-session-key-id:${environmentId}`);
  return "ASIA" + Array.from(mac.slice(0, 16), (b) => ACCESS_KEY_ALPHABET[b % ACCESS_KEY_ALPHABET.length]).join("");
}

async function secretFor(master: string, token: string): Promise<string> {
  const key = await hmacSha256(master, "cellfn-session-secret");
  return toBase64(await hmacSha256(key, token)).slice(0, 40);
}

export async function mintSessionCredentials(
  master: string,
  subject: { tenantId: string; functionName: string; environmentId: string },
  nowMs = Date.now(),
): Promise<SessionCredentials> {
  const claims: SessionClaims = {
    accessKeyId: await accessKeyIdFor(master, subject.environmentId),
    tenantId: subject.tenantId,
    functionName: subject.functionName,
    expiresAt: Math.floor(nowMs / 1000) + SESSION_TTL_S,
  };
  const body = toBase64Url(encoder.encode(JSON.stringify({ k: claims.accessKeyId, t: claims.tenantId, f: claims.functionName, e: claims.expiresAt })));
  const payload = `${TOKEN_PREFIX}.${body}`;
  const key = await hmacSha256(master, "cellfn-session-token");
  const sessionToken = `${payload}.${toBase64Url(await hmacSha256(key, payload))}`;
  return {
    accessKeyId: claims.accessKeyId,
    secretAccessKey: await secretFor(master, sessionToken),
    sessionToken,
    expiration: new Date(claims.expiresAt * 1000).toISOString(),
  };
}

export type SessionCheck = { kind: "valid"; claims: SessionClaims; secretAccessKey: string } | { kind: "expired" } | { kind: "invalid" };

/** Checks a token's MAC and expiry; on success also gives the secret access key a request must have signed with. */
export async function verifySessionToken(master: string, token: string, nowMs = Date.now()): Promise<SessionCheck> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return { kind: "invalid" };
  const [, body = "", mac = ""] = parts;
  const presented = fromBase64Url(mac);
  if (presented === null) return { kind: "invalid" };
  const key = await hmacSha256(master, "cellfn-session-token");
  const expected = await hmacSha256(key, `${TOKEN_PREFIX}.${body}`);
  if (presented.byteLength !== expected.byteLength || !crypto.subtle.timingSafeEqual(presented, expected)) return { kind: "invalid" };
  const bytes = fromBase64Url(body);
  if (bytes === null) return { kind: "invalid" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return { kind: "invalid" };
  }
  if (typeof parsed !== "object" || parsed === null) return { kind: "invalid" };
  const { k, t, f, e } = parsed as Record<string, unknown>;
  if (typeof k !== "string" || typeof t !== "string" || typeof f !== "string" || typeof e !== "number") return { kind: "invalid" };
  if (nowMs / 1000 >= e) return { kind: "expired" };
  return { kind: "valid", claims: { accessKeyId: k, tenantId: t, functionName: f, expiresAt: e }, secretAccessKey: await secretFor(master, token) };
}
