import { AwsJsonError } from "../aws-json/errors";
import type { Refusal } from "./directory-object";

/** Kinesis answers every client error with HTTP 400 (`__type` carries the code). */
export function kinesisError(type: string, message: string): AwsJsonError {
  return new AwsJsonError(400, type, message);
}

/** Kinesis's throttle of its control and data plane requests: `LimitExceededException` (the SDKs retry it with backoff). */
export function rateExceeded(): AwsJsonError {
  return kinesisError("LimitExceededException", "Rate exceeded");
}

export function invalidArgument(message: string): AwsJsonError {
  return kinesisError("InvalidArgumentException", message);
}

export function streamNotFound(streamName: string, accountId: string): AwsJsonError {
  return kinesisError("ResourceNotFoundException", `Stream ${streamName} under account ${accountId} not found.`);
}

export function shardNotFound(shardId: string, streamName: string, accountId: string): AwsJsonError {
  return kinesisError("ResourceNotFoundException", `Shard ${shardId} in stream ${streamName} under account ${accountId} does not exist`);
}

export function fromRefusal(refusal: Refusal): AwsJsonError {
  return kinesisError(refusal.type, refusal.message);
}
