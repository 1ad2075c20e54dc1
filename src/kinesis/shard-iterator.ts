/**
 * Shard iterators: opaque to clients, but they carry where to read next.
 * `base64url(JSON payload) "." base64url(HMAC-SHA256(key, payload)[0..16])`;
 * the key is derived from the platform's master secret, so a client can
 * neither forge nor edit one, and the payload names the tenant, so another
 * tenant's iterator is refused exactly like a forged one. Iterators expire
 * five minutes after they are issued, as Kinesis's do.
 */
import { hmacSha256 } from "../util/bytes";
import { openToken, signToken } from "../util/signed-token";

export const ITERATOR_LIFETIME_MS = 5 * 60 * 1000;
const MAC_BYTES = 16;

export interface IteratorClaims {
  tenantId: string;
  streamName: string;
  /** The stream's incarnation: a stream deleted and created again under the same name has a new one. */
  streamId: string;
  shardIndex: number;
  /** The next position in the shard to read (a record's position, or the shard's next one). */
  position: number;
  issuedAtMs: number;
}


export async function deriveIteratorKey(masterSecret: string): Promise<Uint8Array> {
  return hmacSha256(masterSecret, "cellfn-kinesis-shard-iterator");
}

export async function encodeIterator(key: Uint8Array, claims: IteratorClaims): Promise<string> {
  const body = [claims.tenantId, claims.streamName, claims.streamId, claims.shardIndex, claims.position, claims.issuedAtMs];
  return signToken(key, body, MAC_BYTES);
}

/** The claims of an iterator this key signed, or null for anything else (malformed, forged, edited). */
export async function decodeIterator(key: Uint8Array, iterator: string): Promise<IteratorClaims | null> {
  const body = await openToken(key, iterator, MAC_BYTES);
  if (!Array.isArray(body) || body.length !== 6) return null;
  const [tenantId, streamName, streamId, shardIndex, position, issuedAtMs] = body as unknown[];
  if (typeof tenantId !== "string" || typeof streamName !== "string" || typeof streamId !== "string") return null;
  if (!Number.isSafeInteger(shardIndex) || !Number.isSafeInteger(position) || !Number.isSafeInteger(issuedAtMs)) return null;
  return {
    tenantId,
    streamName,
    streamId,
    shardIndex: shardIndex as number,
    position: position as number,
    issuedAtMs: issuedAtMs as number,
  };
}

export function iteratorExpired(claims: IteratorClaims, nowMs: number): boolean {
  return nowMs - claims.issuedAtMs > ITERATOR_LIFETIME_MS;
}
