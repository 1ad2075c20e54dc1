/**
 * Reading a shard, shared by GetShardIterator/GetRecords and by the stream
 * pollers of event source mappings (which run inside the Worker and need no
 * iterator): where a starting position falls in the shard, and a batch of
 * records from there.
 *
 *   const batch = await readShard(env, { tenantId, streamName, shardId }, { type: "TRIM_HORIZON" }, 100);
 *   // ... process batch.records, then checkpoint batch.next and read again from it
 */
import type { StreamInfo } from "./directory-object";
import { shardIdOf, shardIndexIn } from "./names";
import { formatSequenceNumber, parseSequenceNumber } from "./sequence-number";
import { directoryOf, shardOf } from "./streams";

export type StartingPosition =
  | { type: "TRIM_HORIZON" }
  | { type: "LATEST" }
  | { type: "AT_TIMESTAMP"; timestampMs: number }
  | { type: "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER"; sequenceNumber: string };

/** Why a sequence number cannot start a read of this shard. */
export type PositionProblem = "invalid" | "other-shard" | "other-stream";

export type PositionResult = { position: number } | { problem: PositionProblem; encodedShardIndex?: number } | { gone: true };

/** The shard position a starting position names (the next record to read is at or after it). */
export async function resolvePosition(env: Env, tenantId: string, stream: StreamInfo, shardIndex: number, from: StartingPosition): Promise<PositionResult> {
  const shard = shardOf(env, tenantId, stream.streamId, shardIndex);
  switch (from.type) {
    case "TRIM_HORIZON":
      return { position: 0 };
    case "LATEST": {
      const at = await shard.position(stream.streamId, { latest: true });
      return at ? { position: at.position } : { gone: true };
    }
    case "AT_TIMESTAMP": {
      const at = await shard.position(stream.streamId, { timestampMs: from.timestampMs });
      return at ? { position: at.position } : { gone: true };
    }
    case "AT_SEQUENCE_NUMBER":
    case "AFTER_SEQUENCE_NUMBER": {
      const parts = parseSequenceNumber(from.sequenceNumber);
      if (!parts) return { problem: "invalid" };
      if (parts.shardIndex !== shardIndex) return { problem: "other-shard", encodedShardIndex: parts.shardIndex };
      if (parts.streamCreatedS !== Math.floor(stream.createdMs / 1000)) return { problem: "other-stream" };
      const at = await shard.position(stream.streamId, { latest: true });
      if (!at) return { gone: true };
      // A number the shard has not issued yet (its position is beyond the next one) was made up.
      if (parts.position > at.nextPosition) return { problem: "invalid" };
      return { position: from.type === "AT_SEQUENCE_NUMBER" ? parts.position : parts.position + 1 };
    }
  }
}

/** A sequence number that names a position (for checkpoints that point past the last record read). */
export function positionSequenceNumber(stream: StreamInfo, shardIndex: number, position: number): string {
  return formatSequenceNumber({ streamCreatedS: Math.floor(stream.createdMs / 1000), shardIndex, position, arrivalMs: 0 });
}

export interface ShardRef {
  tenantId: string;
  streamName: string;
  shardId: string;
}

export interface ShardBatch {
  records: { sequenceNumber: string; partitionKey: string; data: Uint8Array; approximateArrivalTimestampMs: number }[];
  /** Where the next read starts: checkpoint this. */
  next: StartingPosition;
  millisBehindLatest: number;
}

/**
 * Up to `limit` records of a shard from `from` on, oldest first. Null when the
 * stream or shard does not exist (deleted), or `from` is a sequence number
 * that does not belong to this shard.
 */
export async function readShard(env: Env, ref: ShardRef, from: StartingPosition, limit: number): Promise<ShardBatch | null> {
  const stream = await directoryOf(env, ref.tenantId).get(ref.streamName);
  if (!stream || stream.status !== "ACTIVE") return null;
  const shardIndex = shardIndexIn(ref.shardId, stream.shardCount);
  if (shardIndex === null) return null;
  const resolved = await resolvePosition(env, ref.tenantId, stream, shardIndex, from);
  if (!("position" in resolved)) return null;
  const read = await shardOf(env, ref.tenantId, stream.streamId, shardIndex).read(stream.streamId, resolved.position, limit);
  if (!read) return null;
  return {
    records: read.records.map((r) => ({
      sequenceNumber: r.sequenceNumber,
      partitionKey: r.partitionKey,
      data: r.data,
      approximateArrivalTimestampMs: r.arrivalMs,
    })),
    next: { type: "AT_SEQUENCE_NUMBER", sequenceNumber: positionSequenceNumber(stream, shardIndex, read.nextPosition) },
    millisBehindLatest: read.millisBehindLatest,
  };
}

/** The shard ids of a stream, for a poller to start one reader per shard; null when there is no such stream. */
export async function listShardIds(env: Env, tenantId: string, streamName: string): Promise<string[] | null> {
  const stream = await directoryOf(env, tenantId).get(streamName);
  if (!stream || stream.status !== "ACTIVE") return null;
  return Array.from({ length: stream.shardCount }, (_, i) => shardIdOf(i));
}
