/**
 * Lambda's Kinesis event and its stream on-failure record
 * (docs/reference/lambda-api-notes.md §5). Pure.
 */
import { toBase64 } from "../util/bytes";
import type { FailureCondition } from "./stream-rules";

export interface KinesisRecord {
  kinesis: {
    kinesisSchemaVersion: "1.0";
    partitionKey: string;
    sequenceNumber: string;
    /** Base64 of the record's bytes. */
    data: string;
    /** Epoch seconds with milliseconds. */
    approximateArrivalTimestamp: number;
  };
  eventSource: "aws:kinesis";
  eventVersion: "1.0";
  eventID: string;
  eventName: "aws:kinesis:record";
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

export interface ShardRecordIn {
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  arrivalMs: number;
}

export interface EventContext {
  shardId: string;
  streamArn: string;
  region: string;
  /** The function's execution role (invokeIdentityArn). */
  roleArn: string;
}

export function kinesisRecord(record: ShardRecordIn, ctx: EventContext): KinesisRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: toBase64(record.data),
      approximateArrivalTimestamp: record.arrivalMs / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${ctx.shardId}:${record.sequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: ctx.roleArn,
    awsRegion: ctx.region,
    eventSourceARN: ctx.streamArn,
  };
}

const encoder = new TextEncoder();

/** A record's bytes in the event's JSON. */
export function eventBytes(record: KinesisRecord): number {
  return encoder.encode(JSON.stringify(record)).length;
}

export interface FailedBatchInfo {
  requestId: string;
  functionArn: string;
  condition: FailureCondition;
  approximateInvokeCount: number;
  /** The last invocation's outcome, when one ran (absent when the records aged out before any did). */
  response?: { statusCode: number; executedVersion: string; functionError?: string };
  shardId: string;
  streamArn: string;
  /** The discarded records, in order (at least one). */
  records: { sequenceNumber: string; arrivalMs: number }[];
  nowMs: number;
}

/** The record Lambda sends an OnFailure destination: metadata about the batch, never its data. */
export function onFailureRecord(info: FailedBatchInfo): Record<string, unknown> {
  const first = info.records[0];
  const last = info.records[info.records.length - 1];
  return {
    requestContext: {
      requestId: info.requestId,
      functionArn: info.functionArn,
      condition: info.condition,
      approximateInvokeCount: info.approximateInvokeCount,
    },
    responseContext: {
      statusCode: info.response?.statusCode ?? 0,
      executedVersion: info.response?.executedVersion ?? "",
      functionError: info.response?.functionError ?? "",
    },
    version: "1.0",
    timestamp: new Date(info.nowMs).toISOString(),
    KinesisBatchInfo: {
      shardId: info.shardId,
      startSequenceNumber: first?.sequenceNumber ?? "",
      endSequenceNumber: last?.sequenceNumber ?? "",
      approximateArrivalOfFirstRecord: new Date(first?.arrivalMs ?? info.nowMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last?.arrivalMs ?? info.nowMs).toISOString(),
      batchSize: info.records.length,
      streamArn: info.streamArn,
    },
  };
}
