/**
 * Console sign-in. A tenant signs in with an access key id and secret (or
 * its bearer token `AKIA….<secret>`), the operator with the admin token.
 * The session is a signed cookie (HttpOnly, SameSite=Strict, Path=/console):
 * nothing is kept in the browser's storage, and the cookie carries no
 * secret, only the key id, an expiry and the form token every POST must
 * echo (CSRF). Each request looks the key up again, so revoking the key ends
 * its sessions within the key cache's TTL.
 */
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import { lookupKey } from "../auth/key-cache";
import { parseBearerToken, sameSecret, sha256Hex, timingSafeEqualText } from "../auth/keys";
import type { Principal } from "../auth/principal";
import { database } from "../db/client";
import type { TenantScope } from "../services/scope";
import { tenantScope } from "../services/scope";
import { hmacSha256, toHex } from "../util/bytes";
import { openToken, signToken } from "../util/signed-token";
import type { ConsoleEnv } from "./console-env";

export const SESSION_COOKIE = "cellfn_console";
export const SESSION_TTL_MS = 8 * 3600_000;

export type ConsoleSession =
  | { kind: "tenant"; accessKeyId: string; csrf: string; principal: Principal; scope: TenantScope }
  | { kind: "operator"; csrf: string };

type SessionBody = { k: "tenant" | "operator"; a?: string; x: number; c: string };

async function sessionKey(env: Env): Promise<Uint8Array> {
  return hmacSha256(env.KEY_DERIVATION_SECRET, "cellfn-console-session");
}

/** Checks sign-in credentials; the session body to sign, or null (one message for every failure). */
export async function signIn(env: Env, form: { accessKeyId: string; secret: string; adminToken: string }): Promise<SessionBody | null> {
  const csrf = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const expires = Date.now() + SESSION_TTL_MS;
  if (form.adminToken !== "") {
    const expected = env.ADMIN_TOKEN;
    return expected && (await sameSecret(form.adminToken, expected)) ? { k: "operator", x: expires, c: csrf } : null;
  }
  let { accessKeyId, secret } = form;
  if (secret === "" && accessKeyId.includes(".")) ({ accessKeyId, secret } = parseBearerToken(accessKeyId) ?? { accessKeyId, secret });
  if (accessKeyId === "" || secret === "") return null;
  const found = await lookupKey(database(env.DB), accessKeyId);
  if (!found || !timingSafeEqualText(await sha256Hex(secret), found.key.secretHash)) return null;
  return { k: "tenant", a: accessKeyId, x: expires, c: csrf };
}

export async function startSession(c: Context<ConsoleEnv>, body: SessionBody): Promise<void> {
  setCookie(c, SESSION_COOKIE, await signToken(await sessionKey(c.env), body), {
    httpOnly: true,
    sameSite: "Strict",
    path: "/console",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function endSession(c: Context<ConsoleEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/console" });
}

async function readSession(c: Context<ConsoleEnv>): Promise<ConsoleSession | null> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return null;
  const body = (await openToken(await sessionKey(c.env), cookie)) as SessionBody | null;
  if (!body || typeof body.x !== "number" || body.x < Date.now() || typeof body.c !== "string") return null;
  if (body.k === "operator") return { kind: "operator", csrf: body.c };
  if (body.k !== "tenant" || typeof body.a !== "string") return null;
  const found = await lookupKey(database(c.env.DB), body.a);
  if (!found) return null;
  const principal: Principal = {
    tenantId: found.tenant.id,
    accountId: found.tenant.accountId,
    accessKeyId: body.a,
    scope: found.key.scope,
    concurrencyLimit: found.tenant.concurrencyLimit,
    apiRequestRate: found.tenant.apiRequestRate,
    cell: found.tenant.cell,
  };
  return { kind: "tenant", accessKeyId: body.a, csrf: body.c, principal, scope: tenantScope(c.env, principal) };
}

/**
 * Sets `session` (or null). Every POST must come from this origin and carry
 * the session's form token: SameSite=Strict already keeps other sites'
 * requests cookieless, these two checks keep it so in older browsers too.
 */
export const consoleSession = createMiddleware<ConsoleEnv>(async (c, next) => {
  const session = await readSession(c);
  c.set("session", session);
  if (c.req.method === "POST") {
    if (!sameOriginPost(c)) return c.text("Cross-origin form posts are refused.", 403);
    if (session && !c.req.path.endsWith("/login")) {
      const form = await c.req.parseBody();
      const token = typeof form.csrf === "string" ? form.csrf : "";
      if (!timingSafeEqualText(token, session.csrf)) return c.text("The form token is missing or stale: reload the page.", 403);
    }
  }
  await next();
});

/**
 * Browsers say where a request comes from: `Sec-Fetch-Site` (current ones)
 * or `Origin`. Origin is compared with the Host header, not the request URL,
 * which a proxy in front (wrangler dev's among them) may have rewritten.
 */
function sameOriginPost(c: Context<ConsoleEnv>): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = c.req.header("origin");
  if (origin === undefined || origin === "null") return origin === undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host === (c.req.header("host") ?? new URL(c.req.url).host);
}
