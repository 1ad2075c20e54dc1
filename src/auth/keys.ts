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
  const key = await crypto.subtle.importKey("raw", encoder.encode(derivationSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`cellfn-key:${accessKeyId}:${salt}`));
  return btoa(String.fromCharCode(...new Uint8Array(mac))).slice(0, 40);
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
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
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

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
