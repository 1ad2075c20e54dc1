/** The output shapes of streams and shards, as Kinesis writes them in JSON 1.1 (timestamps in epoch seconds). */
import type { StreamInfo } from "./directory-object";
import { shardHashRanges } from "./hash-keys";
import { shardIdOf, streamArn } from "./names";
import { formatSequenceNumber } from "./sequence-number";

export interface ShardShape {
  ShardId: string;
  HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
  SequenceNumberRange: { StartingSequenceNumber: string };
}

export const epochSeconds = (ms: number) => ms / 1000;

export function describeShards(info: StreamInfo): ShardShape[] {
  return shardHashRanges(info.shardCount).map((range, shardIndex) => ({
    ShardId: shardIdOf(shardIndex),
    HashKeyRange: { StartingHashKey: range.start.toString(), EndingHashKey: range.end.toString() },
    SequenceNumberRange: {
      StartingSequenceNumber: formatSequenceNumber({
        streamCreatedS: Math.floor(info.createdMs / 1000),
        shardIndex,
        position: 0,
        arrivalMs: info.createdMs,
      }),
    },
  }));
}

export function streamBasics(info: StreamInfo, region: string, accountId: string) {
  return {
    StreamName: info.name,
    StreamARN: streamArn(region, accountId, info.name),
    StreamStatus: info.status,
    StreamModeDetails: { StreamMode: info.mode },
  };
}

export function streamDescription(info: StreamInfo, region: string, accountId: string, shards: ShardShape[], hasMoreShards: boolean) {
  return {
    ...streamBasics(info, region, accountId),
    Shards: shards,
    HasMoreShards: hasMoreShards,
    RetentionPeriodHours: info.retentionHours,
    StreamCreationTimestamp: epochSeconds(info.createdMs),
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: "NONE",
  };
}

export function streamDescriptionSummary(info: StreamInfo, region: string, accountId: string) {
  return {
    ...streamBasics(info, region, accountId),
    StreamId: info.streamId,
    RetentionPeriodHours: info.retentionHours,
    StreamCreationTimestamp: epochSeconds(info.createdMs),
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: "NONE",
    OpenShardCount: info.shardCount,
    ConsumerCount: 0,
    MaxRecordSizeInKiB: 1024,
  };
}
