/**
 * The error of a JSON-protocol service: `{"__type", "message"}` with the
 * HTTP status the service model gives the exception. `queryError` is SQS's
 * `x-amzn-query-error` header (`AWS.SimpleQueueService.NonExistentQueue;Sender`),
 * which the SDKs read to keep the codes of the older query protocol.
 */
export class AwsJsonError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 429 | 500 | 503,
    readonly type: string,
    message: string,
    readonly queryError?: string,
  ) {
    super(message);
    this.name = type;
  }

  toResponse(errorTypePrefix: string, contentType: string, requestId: string): Response {
    const headers = new Headers({ "content-type": contentType, "x-amzn-RequestId": requestId });
    if (this.queryError) headers.set("x-amzn-query-error", this.queryError);
    return new Response(JSON.stringify({ __type: `${errorTypePrefix}${this.type}`, message: this.message }), {
      status: this.status,
      headers,
    });
  }
}

/**
 * An authentication refusal (a LambdaError from src/auth/) as a JSON service
 * answers it: the codes kept, 403 for a missing token or denied access, 400
 * otherwise; the failed-authentication throttle as AWS's common
 * `ThrottlingException` (400, "Rate exceeded").
 */
export function jsonAuthError(error: { status: number; type: string; message: string }): AwsJsonError {
  if (error.status === 429) return throttlingException();
  const status = error.type === "MissingAuthenticationTokenException" || error.type === "AccessDeniedException" ? 403 : 400;
  return new AwsJsonError(status, error.type, error.message);
}

/** AWS's common throttle of the JSON services (CloudWatch Logs among them): 400 `ThrottlingException`, "Rate exceeded". */
export const throttlingException = () => new AwsJsonError(400, "ThrottlingException", "Rate exceeded");

/** CloudWatch's throttle (an awsQueryCompatible service): the query code `Throttling`, 400, "Rate exceeded". */
export const queryThrottling = () => new AwsJsonError(400, "Throttling", "Rate exceeded", "Throttling;Sender");
