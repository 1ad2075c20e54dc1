/** GetShardIterator and GetRecords. */
import type { JsonServiceCall } from "../../aws-json/service";
import { toBase64 } from "../../util/bytes";
import { epochSeconds } from "../describe";
import { invalidArgument, kinesisError, shardNotFound, streamNotFound } from "../errors";
import { shardIdOf, shardIndexIn } from "../names";
import { GET_RECORDS, GET_SHARD_ITERATOR, type GetRecordsInput, type GetShardIteratorInput } from "../shapes";
import { decodeIterator, deriveIteratorKey, encodeIterator, ITERATOR_LIFETIME_MS, iteratorExpired } from "../shard-iterator";
import { resolvePosition, type StartingPosition } from "../shard-reader";
import { activeStream, shardOf } from "../streams";
import { parseInput } from "../validation";

const GET_RECORDS_DEFAULT_LIMIT = 10000;

function startingPosition(input: GetShardIteratorInput): StartingPosition {
  const type = input.ShardIteratorType;
  const sequenceNumber = input.StartingSequenceNumber;
  const bothOrNeither = (specified: string) =>
    invalidArgument(
      "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or " +
        `(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and ${specified}.`,
    );
  switch (type) {
    case "TRIM_HORIZON":
    case "LATEST":
      if (sequenceNumber !== undefined) throw bothOrNeither("also a StartingSequenceNumber");
      return { type };
    case "AT_SEQUENCE_NUMBER":
    case "AFTER_SEQUENCE_NUMBER":
      if (sequenceNumber === undefined) throw bothOrNeither("no StartingSequenceNumber");
      return { type, sequenceNumber };
    case "AT_TIMESTAMP": {
      if (input.Timestamp === undefined) {
        throw invalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.");
      }
      const timestampMs = Math.floor(input.Timestamp * 1000);
      const now = Date.now();
      if (timestampMs > now) {
        throw invalidArgument(
          `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${timestampMs}, currentTimestampInMillis: ${now}`,
        );
      }
      return { type, timestampMs };
    }
  }
}

export async function getShardIterator(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<GetShardIteratorInput>(body, GET_SHARD_ITERATOR);
  const stream = await activeStream(env, principal, input);
  const shardIndex = shardIndexIn(input.ShardId, stream.shardCount);
  if (shardIndex === null) throw shardNotFound(input.ShardId, stream.name, principal.accountId);
  const from = startingPosition(input);
  const resolved = await resolvePosition(env, principal.tenantId, stream, shardIndex, from);
  if ("gone" in resolved) throw streamNotFound(stream.name, principal.accountId);
  if ("problem" in resolved) {
    const where = `used in GetShardIterator on shard ${input.ShardId} in stream ${stream.name} under account ${principal.accountId}`;
    const number = input.StartingSequenceNumber ?? "";
    if (resolved.problem === "other-shard" && resolved.encodedShardIndex !== undefined) {
      throw invalidArgument(
        `Invalid StartingSequenceNumber. It encodes ${shardIdOf(resolved.encodedShardIndex)}, while it was used in a call to a shard with ${input.ShardId}`,
      );
    }
    if (resolved.problem === "other-stream") throw invalidArgument(`StartingSequenceNumber ${number} ${where} is invalid because it did not come from this stream.`);
    throw invalidArgument(`StartingSequenceNumber ${number} ${where} is invalid.`);
  }
  const key = await deriveIteratorKey(env.KEY_DERIVATION_SECRET);
  const iterator = await encodeIterator(key, {
    tenantId: principal.tenantId,
    streamName: stream.name,
    streamId: stream.streamId,
    shardIndex,
    position: resolved.position,
    issuedAtMs: Date.now(),
  });
  return { ShardIterator: iterator };
}

/** `Thu Jan 22 01:22:02 UTC 2015`, the way Kinesis prints times in ExpiredIteratorException. */
function amzUtc(ms: number): string {
  const [, weekday = "", day = "", month = "", year = "", time = ""] = /^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/.exec(new Date(ms).toUTCString()) ?? [];
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}

export async function getRecords(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<GetRecordsInput>(body, GET_RECORDS);
  const key = await deriveIteratorKey(env.KEY_DERIVATION_SECRET);
  const claims = await decodeIterator(key, input.ShardIterator);
  // Another tenant's iterator is refused exactly as a forged one: it tells nothing about that tenant.
  if (!claims || claims.tenantId !== principal.tenantId) throw invalidArgument("Invalid ShardIterator.");
  const now = Date.now();
  if (iteratorExpired(claims, now)) {
    throw kinesisError(
      "ExpiredIteratorException",
      `Iterator expired. The iterator was created at time ${amzUtc(claims.issuedAtMs)} while right now it is ${amzUtc(now)} ` +
        `which is further in the future than the tolerated delay of ${ITERATOR_LIFETIME_MS} milliseconds.`,
    );
  }
  const read = await shardOf(env, principal.tenantId, claims.streamId, claims.shardIndex).read(
    claims.streamId,
    claims.position,
    input.Limit ?? GET_RECORDS_DEFAULT_LIMIT,
  );
  if (!read) throw shardNotFound(shardIdOf(claims.shardIndex), claims.streamName, principal.accountId);
  const next = await encodeIterator(key, { ...claims, position: read.nextPosition, issuedAtMs: now });
  return {
    Records: read.records.map((r) => ({
      SequenceNumber: r.sequenceNumber,
      ApproximateArrivalTimestamp: epochSeconds(r.arrivalMs),
      Data: toBase64(r.data),
      PartitionKey: r.partitionKey,
    })),
    NextShardIterator: next,
    MillisBehindLatest: read.millisBehindLatest,
  };
}
