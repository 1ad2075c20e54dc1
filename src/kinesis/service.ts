import type { JsonService } from "../aws-json/service";
import { rateExceeded } from "./errors";
import { getRecords, getShardIterator } from "./operations/reading";
import { putRecord, putRecords } from "./operations/records";
import {
  createStream,
  decreaseStreamRetentionPeriod,
  deleteStream,
  describeStream,
  describeStreamSummary,
  increaseStreamRetentionPeriod,
  listShards,
  listStreams,
} from "./operations/streams";
import { addTagsToStream, listTagsForStream, removeTagsFromStream } from "./operations/tags";

/**
 * Amazon Kinesis Data Streams (JSON 1.1, `X-Amz-Target: Kinesis_20131202.<Operation>`).
 * Error bodies carry the bare code in `__type` (`ResourceNotFoundException`),
 * as Kinesis answers; every client error is HTTP 400.
 */
export const kinesisService: JsonService = {
  targetPrefix: "Kinesis_20131202",
  signingName: "kinesis",
  contentType: "application/x-amz-json-1.1",
  errorTypePrefix: "",
  throttled: rateExceeded,
  operations: {
    CreateStream: createStream,
    DescribeStream: describeStream,
    DescribeStreamSummary: describeStreamSummary,
    ListStreams: listStreams,
    ListShards: listShards,
    DeleteStream: deleteStream,
    IncreaseStreamRetentionPeriod: increaseStreamRetentionPeriod,
    DecreaseStreamRetentionPeriod: decreaseStreamRetentionPeriod,
    PutRecord: putRecord,
    PutRecords: putRecords,
    GetShardIterator: getShardIterator,
    GetRecords: getRecords,
    AddTagsToStream: addTagsToStream,
    RemoveTagsFromStream: removeTagsFromStream,
    ListTagsForStream: listTagsForStream,
  },
};
