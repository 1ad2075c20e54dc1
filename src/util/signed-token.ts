import { fromBase64Url, hmacSha256, toBase64Url } from "./bytes";

/**
 * Stateless tokens the platform hands out and later checks (invocation
 * lineage, shard iterators, ...): `base64url(JSON body) + "." +
 * base64url(HMAC-SHA256(key, first part))`, the MAC optionally cut to
 * `macBytes`. Signed, not encrypted: a holder can read the body.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function signToken(key: string | Uint8Array, body: unknown, macBytes?: number): Promise<string> {
  const payload = toBase64Url(encoder.encode(JSON.stringify(body)));
  const mac = await hmacSha256(key, payload);
  return `${payload}.${toBase64Url(macBytes === undefined ? mac : mac.slice(0, macBytes))}`;
}

/** The body of a token this key signed, or null for anything else (malformed, forged, edited). */
export async function openToken(key: string | Uint8Array, token: string, macBytes?: number): Promise<unknown> {
  const parts = token.split(".");
  if (parts.length !== 2) return null;
  const [payload = "", macText = ""] = parts;
  const presented = fromBase64Url(macText);
  if (presented === null) return null;
  const full = await hmacSha256(key, payload);
  const expected = macBytes === undefined ? full : full.slice(0, macBytes);
  if (presented.byteLength !== expected.byteLength || !crypto.subtle.timingSafeEqual(presented, expected)) return null;
  const bytes = fromBase64Url(payload);
  if (bytes === null) return null;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
}
