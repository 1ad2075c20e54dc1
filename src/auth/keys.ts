import { hmacSha256, sha256, toBase64, toHex } from "../util/bytes";
/**
 * Tenant access keys. SigV4 verification needs the secret itself (the HMAC
 * chain starts from it), so a hash alone cannot verify a signature. The
 * secret is therefore derived, never stored: secret = HMAC(KEY_DERIVATION_SECRET,
 * accessKeyId + salt). D1 keeps the salt and a SHA-256 of the secret (for the
 * bearer form); neither reveals the secret without the derivation secret.
 */

const encoder = new TextEncoder();
const ACCESS_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export interface IssuedKey {
  accessKeyId: string;
  secretAccessKey: string;
  salt: string;
  secretHash: string;
  /** Bearer form for curl: `Authorization: Bearer <token>`. */
  token: string;
}

export async function issueKey(derivationSecret: string): Promise<IssuedKey> {
  const accessKeyId = `AKIA${randomFrom(ACCESS_KEY_ALPHABET, 16)}`;
  const salt = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const secretAccessKey = await deriveSecret(derivationSecret, accessKeyId, salt);
  return { accessKeyId, secretAccessKey, salt, secretHash: await sha256Hex(secretAccessKey), token: bearerToken(accessKeyId, secretAccessKey) };
}

/** 40 characters of base64, like an AWS secret access key. */
export async function deriveSecret(derivationSecret: string, accessKeyId: string, salt: string): Promise<string> {
  return toBase64(await hmacSha256(derivationSecret, `cellfn-key:${accessKeyId}:${salt}`)).slice(0, 40);
}

export function bearerToken(accessKeyId: string, secret: string): string {
  return `${accessKeyId}.${secret}`;
}

export function parseBearerToken(token: string): { accessKeyId: string; secret: string } | null {
  const dot = token.indexOf(".");
  if (dot <= 0) return null;
  return { accessKeyId: token.slice(0, dot), secret: token.slice(dot + 1) };
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(text));
}

/** Constant-time comparison of two secrets of any lengths (compares their SHA-256, so not even the length leaks). */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  return crypto.subtle.timingSafeEqual(x, y);
}

/** Constant-time comparison of two strings of equal length. */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.byteLength !== y.byteLength) return false;
  return crypto.subtle.timingSafeEqual(x, y);
}

function randomFrom(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
