/**
 * Settings of stream (Kinesis) sources: Lambda's defaults (BatchSize 100,
 * retries until the records expire, no age limit, no bisection, one batch per
 * shard) and its rules for them (InvalidParameterValueException). Pure.
 */
import { invalidParameter } from "../errors";
import { parseQueueArn } from "../sqs/queue-ref";
import type { CreateInput, MappingSettings, StreamSettings, UpdateInput } from "./settings";
import type { StreamRules } from "./stream-rules";
import { commonSettings, unsupportedParameter } from "./settings";

export const STREAM_BATCH_SIZE_DEFAULT = 100;
/** MaximumRecordAgeInSeconds is -1 or at least this (the model's minimum is -1). */
export const RECORD_AGE_MIN_S = 60;
export const RECORD_AGE_MAX_S = 604_800;

export const startingPositionMissing = () =>
  invalidParameter("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.");
export const timestampMissing = () => invalidParameter("StartingPositionTimestamp must be specified when StartingPosition is AT_TIMESTAMP.");
export const timestampWithoutAtTimestamp = () => invalidParameter("StartingPositionTimestamp is only valid when StartingPosition is AT_TIMESTAMP.");
export const timestampInFuture = () => invalidParameter("StartingPositionTimestamp cannot be in the future.");
export const recordAgeOutOfRange = () =>
  invalidParameter(`MaximumRecordAgeInSeconds must be -1 or between ${RECORD_AGE_MIN_S} and ${RECORD_AGE_MAX_S}.`);
/**
 * A tumbling window keeps one state per shard, so a shard's batches cannot
 * run concurrently: Lambda refuses the pair. AWS's exact wording is not
 * published; this message names both fields.
 */
export const tumblingWindowWithParallelization = () =>
  invalidParameter("TumblingWindowInSeconds is not supported with a ParallelizationFactor greater than 1.");

/**
 * Lambda's answers when the execution role cannot deliver to an SNS topic or
 * an S3 bucket (as CreateEventSourceMapping words them). cellfn serves no SNS
 * or S3 API, so nothing can be delivered there: the same answer, always.
 */
export const snsDestinationNotAllowed = () => invalidParameter("The provided execution role does not have permissions to call Publish on SNS");
export const s3DestinationNotAllowed = () => invalidParameter("The function execution role does not have permissions to call PutObject on S3");

/** Lambda's answer for a destination it cannot deliver to. */
export function invalidDestinationConfig(onSuccess: string | undefined, onFailure: string | undefined) {
  const success = onSuccess === undefined ? "null" : `OnSuccess(destination=${onSuccess})`;
  const failure = onFailure === undefined ? "null" : `OnFailure(destination=${onFailure})`;
  return invalidParameter(`The provided destination config DestinationConfig(onSuccess=${success}, onFailure=${failure}) is invalid.`);
}

/**
 * The settings of a stream source after applying `input` over `base` (Create
 * passes no base and must name a StartingPosition), checked as a whole.
 * `accountId` is the caller's: an OnFailure queue must be one of its own.
 */
export function applyStreamSettings(
  input: Omit<UpdateInput, "FunctionName"> & Pick<CreateInput, "StartingPosition" | "StartingPositionTimestamp">,
  base: MappingSettings | undefined,
  accountId: string,
  nowMs: number,
): MappingSettings {
  if (input.ScalingConfig !== undefined) throw unsupportedParameter("ScalingConfig");
  const previous = base?.stream;
  const startingPosition = input.StartingPosition ?? previous?.startingPosition;
  if (startingPosition === undefined) throw startingPositionMissing();
  const timestamp = input.StartingPositionTimestamp ?? previous?.startingPositionTimestamp;
  if (startingPosition === "AT_TIMESTAMP" && timestamp === undefined) throw timestampMissing();
  if (startingPosition !== "AT_TIMESTAMP" && timestamp !== undefined) throw timestampWithoutAtTimestamp();
  if (timestamp !== undefined && timestamp * 1000 > nowMs) throw timestampInFuture();

  const recordAge = input.MaximumRecordAgeInSeconds ?? previous?.maximumRecordAgeInSeconds ?? -1;
  if (recordAge !== -1 && recordAge < RECORD_AGE_MIN_S) throw recordAgeOutOfRange();
  const tumbling = input.TumblingWindowInSeconds ?? previous?.tumblingWindowInSeconds ?? 0;
  const parallelization = input.ParallelizationFactor ?? previous?.parallelizationFactor ?? 1;
  if (tumbling > 0 && parallelization > 1) throw tumblingWindowWithParallelization();

  const onFailure = onFailureDestination(input.DestinationConfig, previous?.onFailure, accountId);
  const stream: StreamSettings = {
    startingPosition,
    ...(timestamp === undefined ? {} : { startingPositionTimestamp: timestamp }),
    maximumRetryAttempts: input.MaximumRetryAttempts ?? previous?.maximumRetryAttempts ?? -1,
    maximumRecordAgeInSeconds: recordAge,
    bisectBatchOnFunctionError: input.BisectBatchOnFunctionError ?? previous?.bisectBatchOnFunctionError ?? false,
    parallelizationFactor: parallelization,
    tumblingWindowInSeconds: tumbling,
    ...(onFailure === undefined ? {} : { onFailure }),
  };
  return { ...commonSettings(input, base, STREAM_BATCH_SIZE_DEFAULT, "kinesis"), stream };
}

/**
 * DestinationConfig.OnFailure: an SQS queue ARN of the caller's account (the
 * queue must exist; the service checks that). An empty Destination removes
 * it; OnSuccess is refused (Lambda has none for stream sources). Lambda also
 * takes SNS topics and S3 buckets for Kinesis sources; cellfn has neither
 * service, so those are refused as Lambda refuses a destination its role
 * cannot deliver to.
 */
function onFailureDestination(config: UpdateInput["DestinationConfig"], previous: string | undefined, accountId: string): string | undefined {
  if (config === undefined) return previous;
  const onSuccess = config.OnSuccess?.Destination;
  const onFailure = config.OnFailure?.Destination;
  if (onSuccess !== undefined && onSuccess !== "") throw invalidDestinationConfig(onSuccess, onFailure);
  if (onFailure === undefined || onFailure === "") return undefined;
  if (/^arn:aws[a-z-]*:sns:/.test(onFailure)) throw snsDestinationNotAllowed();
  if (/^arn:aws[a-z-]*:s3:/.test(onFailure)) throw s3DestinationNotAllowed();
  const queue = parseQueueArn(onFailure);
  if (!queue || queue.accountId !== accountId) throw invalidDestinationConfig(undefined, onFailure);
  return onFailure;
}

/** What the shard pollers' rules (stream-rules.ts) need of a stream mapping's settings. */
export function rulesOf(settings: MappingSettings & { stream: StreamSettings }): StreamRules {
  return {
    batchSize: settings.batchSize,
    parallelizationFactor: settings.stream.parallelizationFactor,
    maximumRetryAttempts: settings.stream.maximumRetryAttempts,
    maximumRecordAgeInSeconds: settings.stream.maximumRecordAgeInSeconds,
    bisectBatchOnFunctionError: settings.stream.bisectBatchOnFunctionError,
  };
}
