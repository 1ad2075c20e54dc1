/** Stream control operations: create, describe, list, delete, retention. */
import type { Principal } from "../../auth/principal";
import type { JsonServiceCall } from "../../aws-json/service";
import { TenantStore } from "../../data/tenant-store";
import { database } from "../../db/client";
import { DEFAULT_SHARD_LIMIT } from "../../lambda/quotas";
import { describeShards, streamBasics, streamDescription, streamDescriptionSummary, epochSeconds } from "../describe";
import type { StreamMode } from "../directory-object";
import { fromRefusal, invalidArgument, kinesisError, streamNotFound } from "../errors";
import { streamArn } from "../names";
import { decodePageToken, encodePageToken } from "../paging";
import type { RetentionChange } from "../retention";
import {
  CREATE_STREAM,
  type CreateStreamInput,
  DELETE_STREAM,
  DESCRIBE_STREAM,
  type DescribeStreamInput,
  LIST_SHARDS,
  LIST_STREAMS,
  type ListShardsInput,
  type ListStreamsInput,
  RETENTION,
  type RetentionInput,
  STREAM_ONLY,
  type StreamRefInput,
} from "../shapes";
import { directoryOf, findStream, streamTarget } from "../streams";
import { parseInput } from "../validation";

/** AWS gives an on-demand stream 4 shards to start with. */
export const ON_DEMAND_SHARD_COUNT = 4;
const DEFAULT_DESCRIBE_SHARDS = 100;
const DEFAULT_LIST_STREAMS = 100;
const DEFAULT_LIST_SHARDS = 1000;

/** Keys of scope `invoke` read and write records but do not change streams. */
export function requireFullScope(principal: Principal, region: string, action: string, streamName: string): void {
  if (principal.scope === "full") return;
  throw kinesisError(
    "AccessDeniedException",
    `User: ${principal.accessKeyId} is not authorized to perform: kinesis:${action} on resource: ${streamArn(region, principal.accountId, streamName)}`,
  );
}

export async function createStream(body: Record<string, unknown>, { env, principal }: JsonServiceCall): Promise<void> {
  const input = parseInput<CreateStreamInput>(body, CREATE_STREAM);
  requireFullScope(principal, env.REGION, "CreateStream", input.StreamName);
  const mode: StreamMode = input.StreamModeDetails?.StreamMode ?? (input.ShardCount === undefined ? "ON_DEMAND" : "PROVISIONED");
  if (mode === "PROVISIONED" && input.ShardCount === undefined) {
    throw invalidArgument("ShardCount is required for a stream in PROVISIONED mode.");
  }
  if (mode === "ON_DEMAND" && input.ShardCount !== undefined) {
    throw invalidArgument("ShardCount cannot be specified for a stream in ON_DEMAND mode.");
  }
  // The tenant's shard quota, read at each create so an operator's change applies at once.
  const quotas = await new TenantStore(database(env.DB)).quotas(principal.tenantId);
  const result = await directoryOf(env, principal.tenantId).create({
    shardLimit: quotas?.shardLimit ?? DEFAULT_SHARD_LIMIT,
    tenantId: principal.tenantId,
    accountId: principal.accountId,
    region: env.REGION,
    name: input.StreamName,
    mode,
    shardCount: input.ShardCount ?? ON_DEMAND_SHARD_COUNT,
    tags: input.Tags ?? {},
  });
  if (!result.ok) throw fromRefusal(result);
}

export async function describeStream(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<DescribeStreamInput>(body, DESCRIBE_STREAM);
  const info = await findStream(env, principal, input);
  const after = input.ExclusiveStartShardId;
  const all = info.status === "CREATING" ? [] : describeShards(info).filter((s) => after === undefined || s.ShardId > after);
  const limit = input.Limit ?? DEFAULT_DESCRIBE_SHARDS;
  return { StreamDescription: streamDescription(info, env.REGION, principal.accountId, all.slice(0, limit), all.length > limit) };
}

export async function describeStreamSummary(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<StreamRefInput>(body, STREAM_ONLY);
  const info = await findStream(env, principal, input);
  return { StreamDescriptionSummary: streamDescriptionSummary(info, env.REGION, principal.accountId) };
}

export async function listStreams(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<ListStreamsInput>(body, LIST_STREAMS);
  if (input.NextToken !== undefined && input.ExclusiveStartStreamName !== undefined) {
    throw invalidArgument("NextToken and ExclusiveStartStreamName cannot be provided together.");
  }
  const after = input.NextToken !== undefined ? decodePageToken(input.NextToken).after : input.ExclusiveStartStreamName;
  const streams = (await directoryOf(env, principal.tenantId).list()).filter((s) => after === undefined || s.name > after);
  const limit = input.Limit ?? DEFAULT_LIST_STREAMS;
  const page = streams.slice(0, limit);
  const hasMore = streams.length > limit;
  const last = page.at(-1);
  return {
    StreamNames: page.map((s) => s.name),
    HasMoreStreams: hasMore,
    ...(hasMore && last ? { NextToken: encodePageToken({ after: last.name }) } : {}),
    StreamSummaries: page.map((s) => ({ ...streamBasics(s, env.REGION, principal.accountId), StreamCreationTimestamp: epochSeconds(s.createdMs) })),
  };
}

export async function listShards(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<ListShardsInput>(body, LIST_SHARDS);
  let ref: StreamRefInput = input;
  let after = input.ExclusiveStartShardId;
  let tokenStreamId: string | undefined;
  if (input.NextToken !== undefined) {
    if (input.StreamName !== undefined || input.StreamARN !== undefined) {
      throw invalidArgument("NextToken and StreamName cannot be provided together.");
    }
    const token = decodePageToken(input.NextToken);
    if (token.stream === undefined) throw invalidArgument(`Invalid NextToken: ${input.NextToken}`);
    ref = { StreamName: token.stream };
    after = token.after;
    tokenStreamId = token.streamId;
  } else if (input.StreamName === undefined && input.StreamARN === undefined) {
    throw invalidArgument("Either NextToken or StreamName should be provided.");
  }
  const info = await findStream(env, principal, ref);
  if (tokenStreamId !== undefined && tokenStreamId !== info.streamId) throw streamNotFound(info.name, principal.accountId);
  if (input.ShardFilter?.Type === "AFTER_SHARD_ID") {
    if (input.ShardFilter.ShardId === undefined) throw invalidArgument("ShardId must be specified for ShardFilter type AFTER_SHARD_ID.");
    after = input.ShardFilter.ShardId;
  }
  // Every shard is open and has been since the stream was created, so the
  // other filter types (trim horizon, latest, timestamps) all select every shard.
  const shards = describeShards(info).filter((s) => after === undefined || s.ShardId > after);
  const limit = input.MaxResults ?? DEFAULT_LIST_SHARDS;
  const page = shards.slice(0, limit);
  const last = page.at(-1);
  return {
    Shards: page,
    ...(shards.length > limit && last ? { NextToken: encodePageToken({ stream: info.name, streamId: info.streamId, after: last.ShardId }) } : {}),
  };
}

export async function deleteStream(body: Record<string, unknown>, { env, principal }: JsonServiceCall): Promise<void> {
  const input = parseInput<StreamRefInput>(body, DELETE_STREAM);
  const target = streamTarget(env, principal, input);
  requireFullScope(principal, env.REGION, "DeleteStream", target.name);
  const deleted = target.reachable && (await directoryOf(env, principal.tenantId).delete(principal.tenantId, target.name));
  if (!deleted) throw streamNotFound(target.name, principal.accountId);
}

function retentionOperation(direction: RetentionChange["direction"], action: string) {
  return async (body: Record<string, unknown>, { env, principal }: JsonServiceCall): Promise<void> => {
    const input = parseInput<RetentionInput>(body, RETENTION);
    const target = streamTarget(env, principal, input);
    requireFullScope(principal, env.REGION, action, target.name);
    if (!target.reachable) throw streamNotFound(target.name, principal.accountId);
    const change: RetentionChange = { direction, hours: input.RetentionPeriodHours, accountId: principal.accountId };
    const result = await directoryOf(env, principal.tenantId).setRetention(principal.tenantId, target.name, change);
    if (!result.ok) throw result.type === "ResourceNotFoundException" ? streamNotFound(target.name, principal.accountId) : fromRefusal(result);
  };
}

export const increaseStreamRetentionPeriod = retentionOperation("increase", "IncreaseStreamRetentionPeriod");
export const decreaseStreamRetentionPeriod = retentionOperation("decrease", "DecreaseStreamRetentionPeriod");
