/** The request members of each Kinesis operation cellfn serves, from the service model (API 2013-12-02). */
import type { Members, Shape } from "./validation";

/** A record's data may be up to 1 MiB (Kinesis's default MaxRecordSizeInKiB, the only size cellfn offers). */
export const MAX_RECORD_DATA_BYTES = 1024 * 1024;
export const MAX_PUT_RECORDS_ENTRIES = 500;

const streamName: Shape = { type: "string", min: 1, max: 128, pattern: "[a-zA-Z0-9_.-]+" };
const streamArn: Shape = { type: "string", min: 1, max: 2048, pattern: "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+" };
const shardId: Shape = { type: "string", min: 1, max: 128, pattern: "[a-zA-Z0-9_.-]+" };
const sequenceNumber: Shape = { type: "string", pattern: "0|([1-9]\\d{0,128})" };
const hashKey: Shape = { type: "string", pattern: "0|([1-9]\\d{0,38})" };
const partitionKey: Shape = { type: "string", min: 1, max: 256 };
const data: Shape = { type: "blob", max: MAX_RECORD_DATA_BYTES };
const streamId: Shape = { type: "string", min: 1, max: 24, pattern: "[a-z0-9]{20}-[a-z0-9]{3}" };
const nextToken: Shape = { type: "string", min: 1, max: 1048576 };
const tagMap: Shape & { type: "map" } = { type: "map", value: { type: "string", max: 256 }, min: 1, max: 50, keyMin: 1, keyMax: 128 };

/** Members every stream-addressed operation has. */
const streamRef: Members = {
  StreamName: { shape: streamName },
  StreamARN: { shape: streamArn },
  StreamId: { shape: streamId },
};

export interface StreamRefInput {
  StreamName?: string;
  StreamARN?: string;
}

export const CREATE_STREAM: Members = {
  StreamName: { shape: streamName, required: true },
  ShardCount: { shape: { type: "integer", min: 1 } },
  StreamModeDetails: {
    shape: { type: "structure", members: { StreamMode: { shape: { type: "string", enum: ["PROVISIONED", "ON_DEMAND"] }, required: true } } },
  },
  Tags: { shape: tagMap },
};
export interface CreateStreamInput {
  StreamName: string;
  ShardCount?: number;
  StreamModeDetails?: { StreamMode: "PROVISIONED" | "ON_DEMAND" };
  Tags?: Record<string, string>;
}

export const DESCRIBE_STREAM: Members = {
  ...streamRef,
  Limit: { shape: { type: "integer", min: 1, max: 10000 } },
  ExclusiveStartShardId: { shape: shardId },
};
export interface DescribeStreamInput extends StreamRefInput {
  Limit?: number;
  ExclusiveStartShardId?: string;
}

export const STREAM_ONLY: Members = { ...streamRef };

export const DELETE_STREAM: Members = { ...streamRef, EnforceConsumerDeletion: { shape: { type: "boolean" } } };

export const LIST_STREAMS: Members = {
  Limit: { shape: { type: "integer", min: 1, max: 10000 } },
  ExclusiveStartStreamName: { shape: streamName },
  NextToken: { shape: nextToken },
};
export interface ListStreamsInput {
  Limit?: number;
  ExclusiveStartStreamName?: string;
  NextToken?: string;
}

export const LIST_SHARDS: Members = {
  ...streamRef,
  NextToken: { shape: nextToken },
  ExclusiveStartShardId: { shape: shardId },
  MaxResults: { shape: { type: "integer", min: 1, max: 10000 } },
  StreamCreationTimestamp: { shape: { type: "timestamp" } },
  ShardFilter: {
    shape: {
      type: "structure",
      members: {
        Type: {
          shape: { type: "string", enum: ["AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"] },
          required: true,
        },
        ShardId: { shape: shardId },
        Timestamp: { shape: { type: "timestamp" } },
      },
    },
  },
};
export interface ListShardsInput extends StreamRefInput {
  NextToken?: string;
  ExclusiveStartShardId?: string;
  MaxResults?: number;
  StreamCreationTimestamp?: number;
  ShardFilter?: { Type: string; ShardId?: string; Timestamp?: number };
}

export const RETENTION: Members = { ...streamRef, RetentionPeriodHours: { shape: { type: "integer" }, required: true } };
export interface RetentionInput extends StreamRefInput {
  RetentionPeriodHours: number;
}

export const PUT_RECORD: Members = {
  ...streamRef,
  Data: { shape: data, required: true },
  PartitionKey: { shape: partitionKey, required: true },
  ExplicitHashKey: { shape: hashKey },
  SequenceNumberForOrdering: { shape: sequenceNumber },
};
export interface PutRecordInput extends StreamRefInput {
  Data: Uint8Array;
  PartitionKey: string;
  ExplicitHashKey?: string;
  SequenceNumberForOrdering?: string;
}

export const PUT_RECORDS: Members = {
  ...streamRef,
  Records: {
    shape: {
      type: "list",
      min: 1,
      max: MAX_PUT_RECORDS_ENTRIES,
      memberLabel: "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry",
      member: {
        type: "structure",
        members: {
          Data: { shape: data, required: true },
          ExplicitHashKey: { shape: hashKey },
          PartitionKey: { shape: partitionKey, required: true },
        },
      },
    },
    required: true,
  },
};
export interface PutRecordsInput extends StreamRefInput {
  Records: { Data: Uint8Array; PartitionKey: string; ExplicitHashKey?: string }[];
}

export const GET_SHARD_ITERATOR: Members = {
  ...streamRef,
  ShardId: { shape: shardId, required: true },
  ShardIteratorType: {
    shape: { type: "string", enum: ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] },
    required: true,
  },
  StartingSequenceNumber: { shape: sequenceNumber },
  Timestamp: { shape: { type: "timestamp" } },
};
export interface GetShardIteratorInput extends StreamRefInput {
  ShardId: string;
  ShardIteratorType: "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" | "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP";
  StartingSequenceNumber?: string;
  Timestamp?: number;
}

export const GET_RECORDS: Members = {
  ShardIterator: { shape: { type: "string", min: 1, max: 512 }, required: true },
  Limit: { shape: { type: "integer", min: 1, max: 10000 } },
  StreamARN: { shape: streamArn },
  StreamId: { shape: streamId },
};
export interface GetRecordsInput {
  ShardIterator: string;
  Limit?: number;
}

/** AddTagsToStream takes at most 10 tags per call; a stream holds at most 50. */
export const ADD_TAGS: Members = { ...streamRef, Tags: { shape: { ...tagMap, max: 10 }, required: true } };
export interface AddTagsInput extends StreamRefInput {
  Tags: Record<string, string>;
}

export const REMOVE_TAGS: Members = {
  ...streamRef,
  TagKeys: { shape: { type: "list", min: 1, max: 50, member: { type: "string", min: 1, max: 128 } }, required: true },
};
export interface RemoveTagsInput extends StreamRefInput {
  TagKeys: string[];
}

export const LIST_TAGS: Members = {
  ...streamRef,
  ExclusiveStartTagKey: { shape: { type: "string", min: 1, max: 128 } },
  Limit: { shape: { type: "integer", min: 1, max: 50 } },
};
export interface ListTagsInput extends StreamRefInput {
  ExclusiveStartTagKey?: string;
  Limit?: number;
}
