/**
 * A checkpoint whose write committed but whose answer never reached the SDK
 * (the object reset after the commit, the connection dropped): the SDK's
 * client retries the same request with the same token, which the commit
 * already consumed. Refusing it ("Invalid Checkpoint Token") ends an
 * invocation whose work is safely stored, and the execution then stalls
 * until the invocation is presumed lost. Instead the object remembers the
 * last committed checkpoint (its token, a hash of its updates and the token
 * it issued) and answers an identical retry with the same token, applying
 * nothing again, as long as the issued token has not been used since.
 * Anything else presenting a used token is still refused. Pure, except the
 * hash.
 */
import { timingSafeEqualText } from "../auth/keys";
import { sha256, toHex } from "../util/bytes";

export interface LastCheckpoint {
  /** The token the committed checkpoint presented. */
  token: string;
  /** SHA-256 of its Updates as sent. */
  updatesHash: string;
  /** The token it issued. */
  nextToken: string;
  /** The change counter value its answer listed changes after. */
  seenBefore: number;
}

/** The hash a retry's Updates must match (the SDK resends the same body). */
export async function updatesHash(rawUpdates: unknown): Promise<string> {
  return toHex(await sha256(JSON.stringify(rawUpdates ?? null)));
}

/**
 * Whether a checkpoint presenting `token` with updates hashing to `hash` is
 * a retry of `last`: the same token and updates, and the token `last`
 * issued is still the current one (no checkpoint and no new invocation since).
 */
export function isRetryOfLast(last: LastCheckpoint | undefined, currentToken: string | null, token: string, hash: string): last is LastCheckpoint {
  if (!last || currentToken === null) return false;
  return timingSafeEqualText(currentToken, last.nextToken) && timingSafeEqualText(token, last.token) && hash === last.updatesHash;
}
