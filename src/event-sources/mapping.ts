/** A mapping as its poller object stores it, and its EventSourceMappingConfiguration view. Pure. */
import { functionArn } from "../lambda/function-name";
import type { NameContext } from "../lambda/function-name";
import type { MappingSettings } from "./settings";

export type MappingState = "Creating" | "Enabling" | "Enabled" | "Disabling" | "Disabled" | "Updating" | "Deleting";

/** What a mapping reads: a queue of the tenant, or a stream of the tenant (one incarnation of it). */
export type MappingSource =
  | { kind: "sqs"; queueName: string }
  | { kind: "kinesis"; streamName: string; streamId: string; shardCount: number };

export interface MappingRecord {
  uuid: string;
  tenantId: string;
  functionName: string;
  qualifier?: string;
  source: MappingSource;
  eventSourceArn: string;
  settings: MappingSettings;
  state: MappingState;
  stateTransitionReason: string;
  /** Epoch milliseconds. */
  lastModified: number;
  lastProcessingResult: string;
}

export const NO_RECORDS_PROCESSED = "No records processed";
export const USER_ACTION = "USER_INITIATED";

export const mappingArn = (names: NameContext, uuid: string) => `arn:aws:lambda:${names.region}:${names.accountId}:event-source-mapping:${uuid}`;

/** The state a transitional state settles into. */
export function settledState(record: MappingRecord): MappingState {
  if (record.state === "Deleting") return "Deleting";
  return record.settings.enabled ? "Enabled" : "Disabled";
}

/** A record stored before mappings had a `source` (SQS only then) in today's shape. */
export function upgradeRecord(stored: MappingRecord & { queueName?: string; queueArn?: string }): MappingRecord {
  if (stored.source !== undefined) return stored;
  const { queueName = "", queueArn = "", ...rest } = stored;
  return { ...rest, source: { kind: "sqs", queueName }, eventSourceArn: queueArn };
}

export function mappingConfiguration(record: MappingRecord, names: NameContext): Record<string, unknown> {
  const s = record.settings;
  const stream = s.stream;
  return {
    UUID: record.uuid,
    ...(stream === undefined
      ? {}
      : {
          StartingPosition: stream.startingPosition,
          ...(stream.startingPositionTimestamp === undefined ? {} : { StartingPositionTimestamp: stream.startingPositionTimestamp }),
          ParallelizationFactor: stream.parallelizationFactor,
        }),
    BatchSize: s.batchSize,
    MaximumBatchingWindowInSeconds: s.maximumBatchingWindowInSeconds,
    EventSourceArn: record.eventSourceArn,
    ...(s.filters.length > 0 ? { FilterCriteria: { Filters: s.filters } } : {}),
    FunctionArn: functionArn(names, record.functionName, record.qualifier),
    LastModified: Math.floor(record.lastModified / 1000),
    LastProcessingResult: record.lastProcessingResult,
    State: record.state,
    StateTransitionReason: record.stateTransitionReason,
    ...(stream === undefined
      ? {}
      : {
          DestinationConfig: { OnFailure: stream.onFailure === undefined ? {} : { Destination: stream.onFailure } },
          MaximumRecordAgeInSeconds: stream.maximumRecordAgeInSeconds,
          BisectBatchOnFunctionError: stream.bisectBatchOnFunctionError,
          MaximumRetryAttempts: stream.maximumRetryAttempts,
          TumblingWindowInSeconds: stream.tumblingWindowInSeconds,
        }),
    FunctionResponseTypes: s.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
    ...(s.maximumConcurrency === undefined ? {} : { ScalingConfig: { MaximumConcurrency: s.maximumConcurrency } }),
    EventSourceMappingArn: mappingArn(names, record.uuid),
  };
}
