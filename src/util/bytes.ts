/**
 * Byte helpers over WebCrypto, shared by access keys, lineage tokens,
 * destination signatures, code download URLs and the code store. (Workers
 * have WebCrypto but no hex/base64url codecs for bytes; these are the few
 * lines that fill the gap.)
 */
const encoder = new TextEncoder();
const bytesOf = (value: string | Uint8Array) => (typeof value === "string" ? encoder.encode(value) : value);

/**
 * Imported HMAC keys of string secrets (the platform's derived keys sign on
 * every invoke; importing costs as much as signing). The resolved key is
 * kept, never the promise: a promise must not be shared across requests.
 * Byte keys are not kept.
 */
const importedKeys = new Map<string, CryptoKey>();
const MAX_IMPORTED_KEYS = 1_000;

async function hmacKey(key: string | Uint8Array): Promise<CryptoKey> {
  const cached = typeof key === "string" ? importedKeys.get(key) : undefined;
  if (cached) return cached;
  const imported = await crypto.subtle.importKey("raw", bytesOf(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  if (typeof key === "string") {
    if (importedKeys.size >= MAX_IMPORTED_KEYS) importedKeys.clear();
    importedKeys.set(key, imported);
  }
  return imported;
}

export async function hmacSha256(key: string | Uint8Array, data: string | Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(key), bytesOf(data)));
}

export async function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytesOf(data)));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Standard base64 to bytes; throws on text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url to bytes, or null when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
}
