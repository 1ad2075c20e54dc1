/**
 * A stream mapping's side in its mapping object (SqsPoller, the object every
 * mapping has): it hands the mapping's settings to one StreamPoller per shard
 * and gathers what they report. The shard pollers do the polling.
 */
import { functionArn } from "../lambda/function-name";
import { parseStreamArn, shardIdOf } from "../kinesis/names";
import type { MappingRecord } from "./mapping";
import type { ShardConfig, ShardStatus } from "./stream-poller-object";
import { StreamPoller } from "./stream-poller-object";

/** How often a stream mapping's object refreshes its shards' settings and LastProcessingResult. */
export const SHARD_SYNC_INTERVAL_MS = 2_000;

export interface StreamSummary {
  /** The mapping's LastProcessingResult: a shard's problem if any has one, OK once a shard has processed records. */
  lastProcessingResult?: string;
  /** The highest iterator age among the shards (Lambda's IteratorAge metric for the mapping). */
  iteratorAgeMs: number;
  shards: ShardStatus[];
}

function shardConfigs(record: MappingRecord, region: string): ShardConfig[] {
  const source = record.source;
  const stream = record.settings.stream;
  if (source.kind !== "kinesis" || stream === undefined) return [];
  const arn = parseStreamArn(record.eventSourceArn);
  const names = { accountId: arn?.accountId ?? "", region };
  return Array.from({ length: source.shardCount }, (_, shardIndex) => ({
    assignment: {
      tenantId: record.tenantId,
      uuid: record.uuid,
      functionName: record.functionName,
      ...(record.qualifier === undefined ? {} : { qualifier: record.qualifier }),
      functionArn: functionArn(names, record.functionName, record.qualifier),
      streamName: source.streamName,
      streamId: source.streamId,
      streamArn: record.eventSourceArn,
      shardIndex,
      shardId: shardIdOf(shardIndex),
      region,
    },
    settings: { ...record.settings, stream },
    enabled: record.state === "Enabled",
  }));
}

/** Gives every shard poller the mapping's settings (starting or pausing them) and sums up their state. */
export async function syncShards(env: Env, record: MappingRecord): Promise<StreamSummary> {
  const configs = shardConfigs(record, env.REGION);
  const shards = await Promise.all(configs.map((c) => StreamPoller.of(env, record.tenantId, record.uuid, c.assignment.shardIndex).sync(c)));
  const problem = shards.find((s) => s.lastProcessingResult?.startsWith("PROBLEM"));
  const ok = shards.some((s) => s.lastProcessingResult === "OK");
  const lastProcessingResult = problem?.lastProcessingResult ?? (ok ? "OK" : undefined);
  return {
    ...(lastProcessingResult === undefined ? {} : { lastProcessingResult }),
    iteratorAgeMs: Math.max(0, ...shards.map((s) => s.iteratorAgeMs)),
    shards,
  };
}

export async function shardStatuses(env: Env, record: MappingRecord): Promise<ShardStatus[]> {
  if (record.source.kind !== "kinesis") return [];
  const count = record.source.shardCount;
  return Promise.all(Array.from({ length: count }, (_, i) => StreamPoller.of(env, record.tenantId, record.uuid, i).status()));
}

/** The mapping is deleted: every shard poller forgets its checkpoint. */
export async function stopShards(env: Env, record: MappingRecord): Promise<void> {
  if (record.source.kind !== "kinesis") return;
  const count = record.source.shardCount;
  await Promise.all(Array.from({ length: count }, (_, i) => StreamPoller.of(env, record.tenantId, record.uuid, i).stop()));
}
