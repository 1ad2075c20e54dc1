/**
 * Kinesis's hash-key space: every record maps to a 128-bit integer (the MD5
 * of its partition key, or its ExplicitHashKey) and lands in the one open
 * shard whose HashKeyRange holds it. CreateStream splits 0..2^128-1 evenly,
 * as AWS does: shard i starts at i * floor(2^128 / n), the last shard ends at
 * 2^128 - 1, so the ranges cover the space with no gap and no overlap.
 */

/** 2^128: the first integer past the hash-key space. */
export const HASH_KEY_LIMIT = 1n << 128n;
export const HASH_KEY_MAX = HASH_KEY_LIMIT - 1n;

export interface HashKeyRange {
  start: bigint;
  end: bigint;
}

export function shardHashRanges(shardCount: number): HashKeyRange[] {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shard count must be a positive integer, got ${shardCount}`);
  const width = HASH_KEY_LIMIT / BigInt(shardCount);
  return Array.from({ length: shardCount }, (_, i) => ({
    start: width * BigInt(i),
    end: i === shardCount - 1 ? HASH_KEY_MAX : width * BigInt(i + 1) - 1n,
  }));
}

/** The index of the range holding `hashKey` (ranges sorted and contiguous, as shardHashRanges makes them). */
export function shardIndexFor(hashKey: bigint, ranges: readonly HashKeyRange[]): number {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const range = ranges[mid];
    if (range === undefined) break;
    if (hashKey < range.start) high = mid - 1;
    else if (hashKey > range.end) low = mid + 1;
    else return mid;
  }
  throw new RangeError(`hash key ${hashKey} is outside 0..2^128-1`);
}

/** The big-endian integer of an MD5 digest: the hash key of a partition key. */
export function hashKeyFromDigest(md5: Uint8Array): bigint {
  let value = 0n;
  for (const byte of md5) value = (value << 8n) | BigInt(byte);
  return value;
}

export async function hashKeyOfPartitionKey(partitionKey: string): Promise<bigint> {
  // Workers' WebCrypto offers MD5 for exactly this kind of non-security use.
  const digest = await crypto.subtle.digest("MD5", new TextEncoder().encode(partitionKey));
  return hashKeyFromDigest(new Uint8Array(digest));
}

/**
 * An ExplicitHashKey that passed the model's pattern (`0|([1-9]\d{0,38})`)
 * may still be 2^128 or more: null then, for the caller to refuse.
 */
export function parseExplicitHashKey(text: string): bigint | null {
  if (!/^(0|[1-9]\d{0,38})$/.test(text)) return null;
  const value = BigInt(text);
  return value <= HASH_KEY_MAX ? value : null;
}
