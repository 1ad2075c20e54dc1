/** Stream ARNs and shard ids, as Kinesis spells them. */

export function streamArn(region: string, accountId: string, streamName: string): string {
  return `arn:aws:kinesis:${region}:${accountId}:stream/${streamName}`;
}

export interface ParsedStreamArn {
  region: string;
  accountId: string;
  streamName: string;
}

/** The parts of a stream ARN (the model's pattern `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`), or null. */
export function parseStreamArn(arn: string): ParsedStreamArn | null {
  const match = /^arn:aws[^:]*:kinesis:([^:]*):(\d{12}):stream\/(\S+)$/.exec(arn);
  if (!match) return null;
  const [, region = "", accountId = "", streamName = ""] = match;
  return { region, accountId, streamName };
}

/** `shardId-000000000003`. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, "0")}`;
}

/** The index of a shard id, or null when it is not one this platform issues. */
export function shardIndexOf(shardId: string): number | null {
  const match = /^shardId-(\d{12})$/.exec(shardId);
  if (!match?.[1]) return null;
  const index = Number(match[1]);
  return Number.isSafeInteger(index) ? index : null;
}

/** The index of `shardId` when it is one of a stream of `shardCount` shards, else null. */
export function shardIndexIn(shardId: string, shardCount: number): number | null {
  const index = shardIndexOf(shardId);
  return index !== null && index < shardCount ? index : null;
}

const STREAM_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A new StreamId (`[a-z0-9]{20}-[a-z0-9]{3}`), also the incarnation that names the stream's shard objects. */
export function newStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(23));
  const chars = Array.from(bytes, (b) => STREAM_ID_ALPHABET[b % STREAM_ID_ALPHABET.length]).join("");
  return `${chars.slice(0, 20)}-${chars.slice(20)}`;
}
