import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The one error type of the Lambda API surface. `app.onError` (src/app.ts)
 * turns it into the AWS shape: status, `x-amzn-ErrorType` header and a JSON
 * body `{"Type","message"|"Message"}` whose casing follows the exception's
 * member in the service model (lambda-api-notes.md §0).
 */
export class LambdaError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: string,
    message: string,
    readonly extra: { reason?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = type;
  }

  /** Exceptions whose model member is `Message` (capital M). */
  static readonly CAPITALISED = new Set([
    "ResourceNotFoundException",
    "ServiceException",
    "AccessDeniedException",
    "DurableExecutionAlreadyStartedException",
    "CallbackTimeoutException",
  ]);

  toBody(): Record<string, string> {
    const messageKey = LambdaError.CAPITALISED.has(this.type) ? "Message" : "message";
    const body: Record<string, string> = {};
    if (this.type !== "ValidationException") body.Type = this.status >= 500 ? "Service" : "User";
    body[messageKey] = this.message;
    if (this.extra.reason) body.Reason = this.extra.reason;
    return body;
  }

  toResponse(requestId: string): Response {
    const headers = new Headers({
      "content-type": "application/json",
      "x-amzn-ErrorType": this.type,
      "x-amzn-RequestId": requestId,
    });
    if (this.extra.retryAfterSeconds !== undefined) {
      headers.set("Retry-After", String(this.extra.retryAfterSeconds));
    }
    return new Response(JSON.stringify(this.toBody()), { status: this.status, headers });
  }
}

export const invalidParameter = (message: string) =>
  new LambdaError(400, "InvalidParameterValueException", message);

export const validationError = (message: string) =>
  new LambdaError(400, "ValidationException", message);

export const notFound = (message: string) => new LambdaError(404, "ResourceNotFoundException", message);

export const conflict = (message: string) => new LambdaError(409, "ResourceConflictException", message);

export const accessDenied = (message = "") => new LambdaError(403, "AccessDeniedException", message);

export const preconditionFailed = () =>
  new LambdaError(
    412,
    "PreconditionFailedException",
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
  );

/** The modeled 413 (the SDKs map it to a typed exception). */
export const requestTooLarge = (message: string) =>
  new LambdaError(413, "RequestTooLargeException", message);
