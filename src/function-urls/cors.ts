/**
 * CORS of a function URL, answered by the platform from the URL's `Cors`
 * config as Lambda does: a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered without invoking the function;
 * other requests from an allowed origin get the allow/expose headers added
 * beside the function's own. Pure: headers in, headers out.
 */
import type { Cors } from "./config";

/** Whether the request is a CORS preflight the platform answers (only when the URL has a Cors config). */
export function isPreflight(method: string, headers: Headers, cors: Cors | null): cors is Cors {
  return cors !== null && method === "OPTIONS" && headers.has("origin") && headers.has("access-control-request-method");
}

/** The Access-Control-Allow-Origin value for `origin`, or undefined when the config does not allow it. */
export function allowedOrigin(cors: Cors, origin: string | null): string | undefined {
  if (origin === null) return undefined;
  const origins = cors.AllowOrigins ?? [];
  if (origins.some((o) => o.toLowerCase() === origin.toLowerCase())) return origin;
  if (!origins.includes("*")) return undefined;
  // A credentialed response may not say `*` (browsers refuse it): the origin itself is echoed.
  return cors.AllowCredentials ? origin : "*";
}

/** The headers of a preflight's answer (an empty set when the origin is not allowed: the browser then refuses). */
export function preflightHeaders(cors: Cors, requestHeaders: Headers): Headers {
  const out = new Headers();
  const origin = allowedOrigin(cors, requestHeaders.get("origin"));
  if (origin === undefined) return out;
  out.set("access-control-allow-origin", origin);
  if (cors.AllowMethods?.length) out.set("access-control-allow-methods", cors.AllowMethods.join(","));
  if (cors.AllowHeaders?.length) out.set("access-control-allow-headers", cors.AllowHeaders.join(","));
  if (cors.AllowCredentials) out.set("access-control-allow-credentials", "true");
  if (cors.MaxAge !== undefined && cors.MaxAge > 0) out.set("access-control-max-age", String(cors.MaxAge));
  out.set("vary", "Origin");
  return out;
}

/** Adds the CORS headers of a normal (non-preflight) response to `headers`, in place. */
export function addResponseCors(cors: Cors | null, requestHeaders: Headers, headers: Headers): void {
  if (cors === null) return;
  const origin = allowedOrigin(cors, requestHeaders.get("origin"));
  if (origin === undefined) return;
  headers.set("access-control-allow-origin", origin);
  if (cors.ExposeHeaders?.length) headers.set("access-control-expose-headers", cors.ExposeHeaders.join(","));
  if (cors.AllowCredentials) headers.set("access-control-allow-credentials", "true");
  headers.append("vary", "Origin");
}
