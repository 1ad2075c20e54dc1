/** A mapping as its poller object stores it, and its EventSourceMappingConfiguration view. Pure. */
import { functionArn } from "../lambda/function-name";
import type { NameContext } from "../lambda/function-name";
import type { MappingSettings } from "./settings";

export type MappingState = "Creating" | "Enabling" | "Enabled" | "Disabling" | "Disabled" | "Updating" | "Deleting";

export interface MappingRecord {
  uuid: string;
  tenantId: string;
  functionName: string;
  qualifier?: string;
  queueName: string;
  queueArn: string;
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

export function mappingConfiguration(record: MappingRecord, names: NameContext): Record<string, unknown> {
  const s = record.settings;
  return {
    UUID: record.uuid,
    BatchSize: s.batchSize,
    MaximumBatchingWindowInSeconds: s.maximumBatchingWindowInSeconds,
    EventSourceArn: record.queueArn,
    ...(s.filters.length > 0 ? { FilterCriteria: { Filters: s.filters } } : {}),
    FunctionArn: functionArn(names, record.functionName, record.qualifier),
    LastModified: Math.floor(record.lastModified / 1000),
    LastProcessingResult: record.lastProcessingResult,
    State: record.state,
    StateTransitionReason: record.stateTransitionReason,
    FunctionResponseTypes: s.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
    ...(s.maximumConcurrency === undefined ? {} : { ScalingConfig: { MaximumConcurrency: s.maximumConcurrency } }),
    EventSourceMappingArn: mappingArn(names, record.uuid),
  };
}
