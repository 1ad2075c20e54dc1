/**
 * CreateEventSourceMapping / UpdateEventSourceMapping input: the model's
 * constraints (ValidationException, as Lambda words them) for every source,
 * the settings all sources share, and Lambda's own rules for SQS
 * (InvalidParameterValueException). Stream sources: stream-settings.ts. Pure.
 */
import { z } from "zod";
import { invalidParameter } from "../errors";
import { parseValue } from "../lambda/validation";
import { compileFilters } from "./filter";
import type { FilterSource } from "./filter";

export const BATCH_SIZE_DEFAULT = 10;
/** Above this BatchSize, SQS mappings need a batching window of at least one second. */
export const BATCH_SIZE_WITHOUT_WINDOW_MAX = 10;
export const BATCHING_WINDOW_MAX_S = 300;
export const FILTERS_MAX = 5;
export const FILTER_PATTERN_MAX_CHARS = 4096;
export const REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures";

const filterCriteria = z.strictObject({
  Filters: z.array(z.strictObject({ Pattern: z.string().max(FILTER_PATTERN_MAX_CHARS).optional() })).optional(),
});
const destination = z.strictObject({ Destination: z.string().max(350).optional() });
const common = {
  FunctionName: z.string().min(1).max(256),
  Enabled: z.boolean().optional(),
  BatchSize: z.int().min(1).max(10_000).optional(),
  MaximumBatchingWindowInSeconds: z.int().min(0).max(BATCHING_WINDOW_MAX_S).optional(),
  FilterCriteria: filterCriteria.optional(),
  FunctionResponseTypes: z.array(z.enum([REPORT_BATCH_ITEM_FAILURES])).max(1).optional(),
  ScalingConfig: z.strictObject({ MaximumConcurrency: z.int().min(2).max(1000).optional() }).optional(),
  // Stream sources only (stream-settings.ts); SQS sources refuse them.
  MaximumRetryAttempts: z.int().min(-1).max(10_000).optional(),
  MaximumRecordAgeInSeconds: z.int().min(-1).max(604_800).optional(),
  BisectBatchOnFunctionError: z.boolean().optional(),
  ParallelizationFactor: z.int().min(1).max(10).optional(),
  TumblingWindowInSeconds: z.int().min(0).max(900).optional(),
  DestinationConfig: z.strictObject({ OnSuccess: destination.optional(), OnFailure: destination.optional() }).optional(),
};
const createSchema = z.strictObject({
  ...common,
  EventSourceArn: z.string(),
  StartingPosition: z.enum(["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"]).optional(),
  StartingPositionTimestamp: z.number().optional(),
});
const updateSchema = z.strictObject({ ...common, FunctionName: common.FunctionName.optional() });

export type CreateInput = z.infer<typeof createSchema>;
export type UpdateInput = z.infer<typeof updateSchema>;

export type StartingPositionName = "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP";

/** A stream source's own settings, every default applied. */
export interface StreamSettings {
  startingPosition: StartingPositionName;
  /** Epoch seconds, with AT_TIMESTAMP only. */
  startingPositionTimestamp?: number;
  /** -1: until the records expire. */
  maximumRetryAttempts: number;
  /** -1: no limit. */
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  parallelizationFactor: number;
  tumblingWindowInSeconds: number;
  /** DestinationConfig.OnFailure.Destination (an SQS queue ARN of the account). */
  onFailure?: string;
}

/** What a mapping runs with, every default applied. */
export interface MappingSettings {
  enabled: boolean;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  /** The Filters as given (patterns are JSON text), empty when none. */
  filters: { Pattern: string }[];
  reportBatchItemFailures: boolean;
  maximumConcurrency?: number;
  /** Present for stream (Kinesis) sources. */
  stream?: StreamSettings;
}

/** The fields only stream sources take, as Lambda names them. */
export const STREAM_ONLY_FIELDS = [
  "MaximumRetryAttempts",
  "MaximumRecordAgeInSeconds",
  "BisectBatchOnFunctionError",
  "ParallelizationFactor",
  "TumblingWindowInSeconds",
  "DestinationConfig",
] as const;

export const unsupportedParameter = (field: string) => invalidParameter(`Unsupported ${field} parameter for given event source mapping type.`);
export const startingPositionForSqs = () => invalidParameter("StartingPosition is not valid for SQS event sources.");

export const parseCreate = (data: unknown): CreateInput => parseValue(createSchema, data);
export const parseUpdate = (data: unknown): UpdateInput => parseValue(updateSchema, data);

export const batchWindowRequired = () =>
  invalidParameter("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");

/** The settings of an SQS source after applying `input` over `base` (Create passes no base), checked as a whole. */
export function applySettings(input: Omit<UpdateInput, "FunctionName"> & { StartingPosition?: string }, base?: MappingSettings): MappingSettings {
  if (input.StartingPosition !== undefined) throw startingPositionForSqs();
  for (const field of STREAM_ONLY_FIELDS) if (input[field] !== undefined) throw unsupportedParameter(field);
  const scaling = input.ScalingConfig === undefined ? base?.maximumConcurrency : input.ScalingConfig.MaximumConcurrency;
  const settings: MappingSettings = {
    ...commonSettings(input, base, BATCH_SIZE_DEFAULT, "sqs"),
    ...(scaling === undefined ? {} : { maximumConcurrency: scaling }),
  };
  if (settings.batchSize > BATCH_SIZE_WITHOUT_WINDOW_MAX && settings.maximumBatchingWindowInSeconds < 1) throw batchWindowRequired();
  return settings;
}

/** The settings every source has, `input` over `base`; filters are compiled for the source (a bad pattern throws). */
export function commonSettings(
  input: Omit<UpdateInput, "FunctionName">,
  base: MappingSettings | undefined,
  batchSizeDefault: number,
  source: FilterSource,
): Pick<MappingSettings, "enabled" | "batchSize" | "maximumBatchingWindowInSeconds" | "filters" | "reportBatchItemFailures"> {
  const filters = input.FilterCriteria === undefined ? (base?.filters ?? []) : (input.FilterCriteria.Filters ?? []).map((f) => ({ Pattern: f.Pattern ?? "" }));
  if (filters.length > FILTERS_MAX) throw invalidParameter(`The maximum number of filters is ${FILTERS_MAX}.`);
  compileFilters(filters.map((f) => f.Pattern), source);
  return {
    enabled: input.Enabled ?? base?.enabled ?? true,
    batchSize: input.BatchSize ?? base?.batchSize ?? batchSizeDefault,
    maximumBatchingWindowInSeconds: input.MaximumBatchingWindowInSeconds ?? base?.maximumBatchingWindowInSeconds ?? 0,
    filters,
    reportBatchItemFailures:
      input.FunctionResponseTypes === undefined ? (base?.reportBatchItemFailures ?? false) : input.FunctionResponseTypes.includes(REPORT_BATCH_ITEM_FAILURES),
  };
}

export const fifoBatchingWindow = () => invalidParameter("Batching window is not supported for FIFO queues");

/** Rules that depend on the queue: FIFO sources take no batching window (so at most 10 messages a batch). */
export function checkForQueue(settings: MappingSettings, queueName: string): void {
  if (queueName.endsWith(".fifo") && settings.maximumBatchingWindowInSeconds > 0) throw fifoBatchingWindow();
}
