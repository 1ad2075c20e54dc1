import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The one error type of the Lambda API surface. `app.onError` (src/app.ts)
 * turns it into the AWS shape: status, `x-amzn-ErrorType` header and a JSON
 * body `{"Type","message"|"Message"}` whose casing follows the exception's
 * member in the service model (docs/reference/lambda-api-notes.md §0).
 */
export class LambdaError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: string,
    message: string,
    readonly extra: { reason?: string; retryAfterSeconds?: number; untyped?: boolean } = {},
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
    // A few answers carry no Type (AWS's recordings; see the catalogue entries with `untyped`).
    if (this.type !== "ValidationException" && this.extra.untyped !== true) body.Type = this.status >= 500 ? "Service" : "User";
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

/** The modeled 413 (the SDKs map it to a typed exception): code packages over the direct-upload limit. */
export const requestTooLarge = (message: string) =>
  new LambdaError(413, "RequestTooLargeException", message);

/** What Lambda sends on the wire for an invoke payload over its limit (docs/reference/lambda-api-notes.md §3). */
export const requestEntityTooLarge = (message: string) => new LambdaError(413, "RequestEntityTooLargeException", message);

// ---- The catalogue: every error the Lambda API surface sends is built here.

export const serviceException = (message: string) => new LambdaError(500, "ServiceException", message);

export const invalidRequestContent = (detail: string) =>
  new LambdaError(400, "InvalidRequestContentException", `Could not parse request body into json: ${detail}`);

/** Model constraint violations, counted and listed as AWS words them. */
export const validationErrors = (messages: string[]) =>
  validationError(`${messages.length} validation error${messages.length === 1 ? "" : "s"} detected: ${messages.join("; ")}`);

export const unknownOperation = (method: string, path: string) =>
  new LambdaError(404, "UnknownOperationException", `No route for ${method} ${path}`);

/** 429 before any user code ran; `reason` as Lambda's `Reason` member. */
export const tooManyRequests = (reason: string) =>
  new LambdaError(429, "TooManyRequestsException", "Rate Exceeded.", { reason, retryAfterSeconds: 1 });

/** Lambda's control-plane request rate (src/routes/api-rate.ts), worded as Lambda answers it (not the invoke throttle's "Rate Exceeded."). */
export const apiRateExceeded = () =>
  new LambdaError(429, "TooManyRequestsException", "Rate exceeded", { reason: "CallerRateLimitExceeded", retryAfterSeconds: 1 });
/** Shed by admission control (src/invoke/admission.ts): Lambda's throttle, which the SDKs back off from. */
export const overloaded = () => tooManyRequests("FunctionInvocationRateLimitExceeded");
/** Shed by admission control because the caller holds its share of a nearly full isolate (a flood is refused first). */
export const callerOverloaded = () => tooManyRequests("CallerRateLimitExceeded");
/** The client went away before the function started; nobody reads this answer. */
export const requestAbandoned = () => serviceException("The client closed the request before the function started.");

export const functionAlreadyExists = (name: string) => conflict(`Function already exist: ${name}`);

// Tenant quotas (src/lambda/quotas.ts). Lambda's wording for the 75 GB code storage quota.
export const codeStorageExceeded = () => new LambdaError(400, "CodeStorageExceededException", "Code storage limit exceeded.");

// Authentication.
export const missingAuthenticationToken = () => new LambdaError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
export const unrecognizedClient = () =>
  new LambdaError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
export const expiredToken = () => new LambdaError(403, "ExpiredTokenException", "The security token included in the request is expired");
// REST-JSON services (Lambda, Glacier) answer signature failures with 403.
export const incompleteSignature = (message: string) => new LambdaError(403, "IncompleteSignatureException", message);
export const invalidSignature = (message: string) => new LambdaError(403, "InvalidSignatureException", message);
/**
 * Too many failed authentications from this source or for this access key id
 * (src/auth/failure-limit.ts): Lambda's throttle with its `CallerRateLimitExceeded` reason.
 */
export const callerThrottled = (retryAfterSeconds: number) =>
  new LambdaError(429, "TooManyRequestsException", "Rate Exceeded.", { reason: "CallerRateLimitExceeded", retryAfterSeconds });
export const invokeOnlyKey = (accessKeyId: string) =>
  accessDenied(
    `Access key ${accessKeyId} has scope "invoke": it can invoke functions and read their configuration, not change them. Use a key with scope "full".`,
  );

// The operator API.
export const adminUnauthorized = () => new LambdaError(401, "UnauthorizedException", "The admin API needs Authorization: Bearer <ADMIN_TOKEN>.");
export const tenantNotFound = (id: string) => notFound(`Tenant not found: ${id}`);
export const keyNotFound = (accessKeyId: string) => notFound(`Key not found: ${accessKeyId}`);
export const cellNotFound = (raw: string, count: number) => notFound(`Cell not found: ${raw} (cells are 0..${count - 1})`);

// Invoke.
export const isolationTenantMissing = () =>
  invalidParameter(
    "The function uses tenant isolation mode (TenancyConfig PER_TENANT): pass a tenant id in the X-Amz-Tenant-Id header (CLI --tenant-id, SDK TenantId).",
  );
export const isolationTenantUnexpected = () =>
  invalidParameter(
    'The function does not use tenant isolation mode: remove the X-Amz-Tenant-Id header, or create the function with TenancyConfig {"TenantIsolationMode":"PER_TENANT"}.',
  );
export const environmentsFailing = () => serviceException("The function's execution environments kept failing. Retry the request.");
export const functionCouldNotStart = () => serviceException("The function could not be started. Retry the request.");

// Function states (src/lambda/function-state.ts); AWS's wording, from its recorded answers.
export const updateInProgress = (functionArn: string) =>
  conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn}`);
export const functionNotReady = (state: string) =>
  conflict(`The operation cannot be performed at this time. The function is currently in the following state: ${state}`);
export const aliasDeletionUnsupported = () => invalidParameter("Deletion of aliases is not currently supported.");

// Resource-based policies (src/lambda/policy.ts); AWS's wording from LocalStack's AWS-validated snapshots.
export const policyTooLarge = (size: number, limit: number) =>
  new LambdaError(400, "PolicyLengthExceededException", `The final policy size (${size}) is bigger than the limit (${limit}).`);
export const policyNotFound = () => notFound("The resource you requested does not exist.");
export const noPolicyFor = (arn: string) => notFound(`No policy found for: ${arn}`);
export const noPolicy = () => notFound("No policy is associated with the given resource.");
export const statementNotFound = (sid: string) => notFound(`Statement ${sid} is not found in resource policy.`);
export const statementExists = (sid: string) =>
  conflict(`The statement id (${sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`);
export const latestPolicyUnsupported = () => invalidParameter("We currently do not support adding policies for $LATEST.");
export const aliasNotFound = (aliasArn: string) => notFound(`Cannot find alias arn: ${aliasArn}`);
/** An alias on $LATEST with weights: AWS answers this one without `Type` (its recording, test_notfound_and_invalid_routingconfigs). */
export const latestAliasWeighted = () =>
  new LambdaError(400, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version", { untyped: true });
/** Operations on the function itself refuse a version or alias (AWS's recording, test_function_concurrency_exceptions). */
export const unqualifiedFunctionOnly = () =>
  invalidParameter(
    "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.",
  );
/** UpdateAlias words a missing alias differently from GetAlias (AWS's recording, test_non_existent_alias_update). */
export const aliasNotFoundForUpdate = (aliasArn: string) => notFound(`Alias not found: ${aliasArn}`);

// Recursive loop detection (src/invoke/recursion.ts). Status 400, as the Lambda model gives it.
export const recursiveInvocation = () =>
  new LambdaError(
    400,
    "RecursiveInvocationException",
    "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped your function's invocation.",
  );

// Provisioned concurrency (src/services/provisioned-concurrency.ts); AWS's wording from LocalStack's AWS-validated provider.
export const provisionedOnUnpublished = () => invalidParameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
export const provisionedNeedsPublished = () => invalidParameter("The function resource provided must be an alias or a published version.");
export const provisionedConfigNotFound = () =>
  new LambdaError(404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function");
export const provisionedAliasOnProvisionedVersion = () =>
  conflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
export const provisionedVersionUnderAlias = () => conflict("Version is pointed by a Provisioned Concurrency alias");
/** AWS (and the CDK docs) list provisioned concurrency as incompatible with tenant isolation mode; its wording is not recorded. */
export const provisionedWithTenantIsolation = () =>
  invalidParameter("Provisioned Concurrency Configs cannot be applied to functions with tenant isolation mode (TenancyConfig PER_TENANT).");
export const missingQualifier = () =>
  validationErrors(["Value null at 'qualifier' failed to satisfy constraint: Member must not be null"]);
// Function URLs (src/function-urls/); AWS's wording from its recorded answers
// (LocalStack's AWS-validated test_lambda_api TestLambdaUrl and test_lambda TestLambdaURL snapshots).
export const urlConfigExists = (functionArn: string) =>
  conflict(`Failed to create function url config for [functionArn = ${functionArn}]. Error message:  FunctionUrlConfig exists for this Lambda function`);
export const urlFunctionMissing = () => notFound("Function does not exist");
export const urlConfigNotFound = () => notFound("The resource you requested does not exist.");
export const urlIsolationUnsupported = () =>
  invalidParameter("Function URLs are not supported for functions that use tenant isolation mode (TenancyConfig PER_TENANT).");
/** The URL front door's answers ({"Message": ...}; src/function-urls/serve.ts renders them). */
export const urlForbidden = () =>
  new LambdaError(403, "AccessDeniedException", "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html");
/** No URL under this host: AWS answers 403 with `{"Message":null}`, not 404 (test_lambda_url_non_existing_url). */
export const urlUnknown = () => new LambdaError(403, "AccessDeniedException", "");
/** A function error, a timeout or an unreadable result: 502 with the text body `Internal Server Error`. */
export const urlBadGateway = () => new LambdaError(502, "InternalServerError", "Internal Server Error");
// Layers (src/lambda/layers.ts); AWS's wording from LocalStack's AWS-validated provider and moto.
export const layerMissingContent = () => invalidParameter("Missing Content");
export const layerVersionNotFound = () => notFound("The resource you requested does not exist.");
/** The policy operations name the version that is missing. */
export const layerVersionPolicyTargetMissing = (arn: string) => notFound(`Layer version ${arn} does not exist.`);
/** A function's Layers naming a version of the caller's own that does not exist. */
export const functionLayerMissing = (arn: string) => invalidParameter(`Layer version ${arn} does not exist.`);
/** Another account's layer version that no statement grants to the caller: AWS's 403, whether or not it exists. */
export const layerAccessDenied = (callerAccountId: string, arn: string, action = "lambda:GetLayerVersion") =>
  accessDenied(
    `User: arn:aws:iam::${callerAccountId}:root is not authorized to perform: ${action} on resource: ${arn} because no resource-based policy allows the ${action} action`,
  );
export const layerPolicyRevisionMismatch = () =>
  new LambdaError(
    412,
    "PreconditionFailedException",
    "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id",
  );
// Durable functions (src/durable/); AWS's wording where docs/reference/lambda-api-notes.md §8 records it.
export const durableUnqualifiedInvoke = () => invalidParameter("You cannot invoke a durable function using an unqualified ARN.");
export const durableExecutionAlreadyStarted = (message: string) => new LambdaError(409, "DurableExecutionAlreadyStartedException", message);
export const callbackTimedOut = (message: string) => new LambdaError(400, "CallbackTimeoutException", message);
export const durableExecutionNotFound = (arn: string) => notFound(`Durable execution not found: ${arn}`);
export const callbackNotFound = (callbackId: string) => notFound(`Callback not found: ${callbackId}`);
export const durableExecutionEnded = (message: string) => conflict(message);
export const invalidDurableExecutionName = (value: string) =>
  validationErrors([`Value '${value}' at 'durableExecutionName' failed to satisfy constraint: Member must have length between 1 and 64 and satisfy regular expression pattern: [a-zA-Z0-9-_]+`]);
export const invalidDurableExecutionArn = (value: string) =>
  validationErrors([`Value '${value}' at 'durableExecutionArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\\d{12}):function:([a-zA-Z0-9_-]+):(\\$LATEST(?:\\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)`]);
