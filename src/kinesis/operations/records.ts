/** PutRecord and PutRecords: partition key (or ExplicitHashKey) → hash key → shard, then the shard's object writes. */
import type { JsonServiceCall } from "../../aws-json/service";
import { invalidArgument, kinesisError, streamNotFound } from "../errors";
import { hashKeyOfPartitionKey, parseExplicitHashKey, shardHashRanges, shardIndexFor } from "../hash-keys";
import { shardIdOf } from "../names";
import { parseSequenceNumber } from "../sequence-number";
import { PUT_RECORD, PUT_RECORDS, type PutRecordInput, type PutRecordsInput } from "../shapes";
import type { PutOutcome } from "../shard-object";
import { activeStream, shardOf } from "../streams";
import { parseInput } from "../validation";

/** PutRecords carries at most 5 MiB of data and partition keys. */
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;

const encoder = new TextEncoder();

async function hashKeyOf(entry: { PartitionKey: string; ExplicitHashKey?: string }): Promise<bigint> {
  if (entry.ExplicitHashKey === undefined) return hashKeyOfPartitionKey(entry.PartitionKey);
  const explicit = parseExplicitHashKey(entry.ExplicitHashKey);
  if (explicit === null) {
    throw invalidArgument(
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${entry.ExplicitHashKey}`,
    );
  }
  return explicit;
}

function rateExceededMessage(shardIndex: number, streamName: string, accountId: string): string {
  return `Rate exceeded for shard ${shardIdOf(shardIndex)} in stream ${streamName} under account ${accountId}.`;
}

export async function putRecord(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<PutRecordInput>(body, PUT_RECORD);
  const hashKey = await hashKeyOf(input);
  const stream = await activeStream(env, principal, input);
  if (input.SequenceNumberForOrdering !== undefined && parseSequenceNumber(input.SequenceNumberForOrdering) === null) {
    throw invalidArgument(
      `ExclusiveMinimumSequenceNumber ${input.SequenceNumberForOrdering} used in PutRecord on stream ${stream.name} under account ${principal.accountId} is invalid.`,
    );
  }
  // Every record of a shard gets a larger sequence number than the ones before it, so
  // SequenceNumberForOrdering's guarantee (strictly increasing per partition key) always holds.
  const shardIndex = shardIndexFor(hashKey, shardHashRanges(stream.shardCount));
  const outcomes = await shardOf(env, principal.tenantId, stream.streamId, shardIndex).put(stream.streamId, [
    { partitionKey: input.PartitionKey, data: input.Data },
  ]);
  const outcome = outcomes?.[0];
  if (!outcome) throw streamNotFound(stream.name, principal.accountId);
  if ("throttled" in outcome) {
    throw kinesisError("ProvisionedThroughputExceededException", rateExceededMessage(shardIndex, stream.name, principal.accountId));
  }
  return { ShardId: shardIdOf(shardIndex), SequenceNumber: outcome.sequenceNumber, EncryptionType: "NONE" };
}

type EntryResult = { SequenceNumber: string; ShardId: string } | { ErrorCode: string; ErrorMessage: string };

export async function putRecords(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<PutRecordsInput>(body, PUT_RECORDS);
  const size = input.Records.reduce((sum, r) => sum + r.Data.length + encoder.encode(r.PartitionKey).length, 0);
  if (size > PUT_RECORDS_MAX_BYTES) throw invalidArgument("Records size exceeds 5 MB limit");
  const hashKeys = await Promise.all(input.Records.map(hashKeyOf));
  const stream = await activeStream(env, principal, input);
  const ranges = shardHashRanges(stream.shardCount);

  // Each shard gets its records in request order, in one call; shards are written in parallel.
  const byShard = new Map<number, number[]>();
  hashKeys.forEach((hashKey, i) => {
    const shardIndex = shardIndexFor(hashKey, ranges);
    byShard.set(shardIndex, [...(byShard.get(shardIndex) ?? []), i]);
  });
  const results: EntryResult[] = new Array<EntryResult>(input.Records.length);
  await Promise.all(
    Array.from(byShard, async ([shardIndex, indexes]) => {
      let outcomes: PutOutcome[] | null = null;
      try {
        outcomes = await shardOf(env, principal.tenantId, stream.streamId, shardIndex).put(
          stream.streamId,
          indexes.map((i) => {
            const record = input.Records[i];
            if (!record) throw new Error(`record ${i} vanished`);
            return { partitionKey: record.PartitionKey, data: record.Data };
          }),
        );
      } catch (error) {
        console.error(`kinesis: PutRecords to ${stream.name}/${shardIdOf(shardIndex)} failed`, error);
      }
      indexes.forEach((recordIndex, k) => {
        const outcome = outcomes?.[k];
        results[recordIndex] = !outcome
          ? { ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure." }
          : "throttled" in outcome
            ? { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: rateExceededMessage(shardIndex, stream.name, principal.accountId) }
            : { SequenceNumber: outcome.sequenceNumber, ShardId: shardIdOf(shardIndex) };
      });
    }),
  );
  return {
    FailedRecordCount: results.filter((r) => "ErrorCode" in r).length,
    Records: results,
    EncryptionType: "NONE",
  };
}
