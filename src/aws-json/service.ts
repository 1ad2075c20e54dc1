import type { Principal } from "../auth/principal";
import type { AwsJsonError } from "./errors";

/**
 * The AWS services cellfn serves besides Lambda speak the JSON protocols
 * (awsJson1_0 / awsJson1_1): every operation is `POST /` with
 * `X-Amz-Target: <TargetPrefix>.<Operation>`, a JSON body, and errors as
 * `{"__type", "message"}`. Each service is one `JsonService`, listed in
 * ./registry.ts; ./routes.ts authenticates, parses and dispatches.
 */
export interface JsonServiceCall {
  env: Env;
  principal: Principal;
  requestId: string;
  /** `http(s)://host[:port]` the client called: queue URLs and similar are built on it. */
  endpoint: string;
  /** Keeps work running after the response (ExecutionContext.waitUntil). */
  waitUntil(promise: Promise<unknown>): void;
  /** The client disconnected (long polls stop waiting). */
  signal: AbortSignal;
  /** The request's `X-Amzn-Trace-Id` (SQS keeps it as a message's AWSTraceHeader; it carries a function's lineage). */
  traceHeader: string | undefined;
}

/** Answers the output structure as JSON, or (for a streaming operation) a whole Response. */
export type JsonOperation = (input: Record<string, unknown>, call: JsonServiceCall) => Promise<unknown>;

export interface JsonService {
  /** `AmazonSQS`, `Kinesis_20131202`, `Logs_20140328`. */
  targetPrefix: string;
  /** The SigV4 signing name the credential scope must carry: `sqs`, `kinesis`, `logs`. */
  signingName: string;
  /** `application/x-amz-json-1.0` or `application/x-amz-json-1.1`. */
  contentType: string;
  /** Prefix of `__type` in error bodies (`com.amazonaws.sqs#` for SQS, "" for most). */
  errorTypePrefix: string;
  /**
   * The service's own throttling error, for a request the door refuses
   * (src/invoke/door.ts): a code the SDKs classify as throttling and retry
   * with backoff (THROTTLING_ERROR_CODES of @smithy/service-error-classification).
   */
  throttled: () => AwsJsonError;
  operations: Record<string, JsonOperation>;
}
