/**
 * Sequence numbers: decimal strings of 56 digits, like AWS's, that grow
 * strictly per shard. Each is a 185-bit integer laid out (high to low) as
 *
 *   1 (bit 184) | stream created, seconds (40 bits) | shard index (32 bits)
 *   | position in the shard (64 bits) | arrival, ms (48 bits)
 *
 * The position dominates the arrival time, so the numeric order is the shard's
 * order. The stream's creation time and the shard index let GetShardIterator
 * tell a number from another shard or from an earlier stream of the same name.
 * Position 0 is the shard's StartingSequenceNumber; records start at 1.
 */

const VERSION_BIT = 1n << 184n;
const CREATED_SHIFT = 144n;
const SHARD_SHIFT = 112n;
const POSITION_SHIFT = 48n;
const CREATED_MASK = (1n << 40n) - 1n;
const SHARD_MASK = (1n << 32n) - 1n;
const POSITION_MASK = (1n << 64n) - 1n;
const ARRIVAL_MASK = (1n << 48n) - 1n;

export interface SequenceParts {
  streamCreatedS: number;
  shardIndex: number;
  position: number;
  arrivalMs: number;
}

export function formatSequenceNumber(parts: SequenceParts): string {
  const value =
    VERSION_BIT |
    ((BigInt(parts.streamCreatedS) & CREATED_MASK) << CREATED_SHIFT) |
    ((BigInt(parts.shardIndex) & SHARD_MASK) << SHARD_SHIFT) |
    ((BigInt(parts.position) & POSITION_MASK) << POSITION_SHIFT) |
    (BigInt(parts.arrivalMs) & ARRIVAL_MASK);
  return value.toString();
}

/** The parts of a sequence number cellfn issued, or null for any other decimal string. */
export function parseSequenceNumber(text: string): SequenceParts | null {
  if (!/^(0|[1-9]\d{0,128})$/.test(text)) return null;
  const value = BigInt(text);
  if (value < VERSION_BIT || value >= VERSION_BIT << 1n) return null;
  const position = (value >> POSITION_SHIFT) & POSITION_MASK;
  if (position > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return {
    streamCreatedS: Number((value >> CREATED_SHIFT) & CREATED_MASK),
    shardIndex: Number((value >> SHARD_SHIFT) & SHARD_MASK),
    position: Number(position),
    arrivalMs: Number(value & ARRIVAL_MASK),
  };
}
