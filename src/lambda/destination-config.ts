import { z } from "zod";
import { invalidParameter } from "../errors";
import { parseQueueArn } from "../sqs/queue-ref";
import type { NameContext } from "./function-name";

/**
 * Destinations of asynchronous invocations (OnSuccess / OnFailure of an
 * event invoke config). Lambda accepts SQS, SNS, EventBridge, S3 and Lambda
 * ARNs; cellfn delivers to three kinds:
 * - a Lambda function of the caller's own account, invoked asynchronously
 *   with the invocation record (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`);
 * - a cellfn SQS queue of the caller's own account and region
 *   (`arn:aws:sqs:<region>:<account>:<queue>`), sent the record as one
 *   message. Whether the queue exists (and is a standard queue) is found out
 *   at delivery, as Lambda does: configuring a missing or FIFO queue is
 *   accepted, and its records become failed events;
 * - an http(s) URL receiving the record as a POST. Validation only checks
 *   that it is a well-formed absolute http(s) URL; delivery refuses private
 *   and loopback targets unless ALLOW_PRIVATE_EGRESS=true.
 * Pure: no I/O, so the async poller can use it on stored values.
 */

export type Destination =
  | { kind: "function"; name: string; qualifier?: string }
  | { kind: "queue"; arn: string }
  | { kind: "url"; url: URL };

/** The model's constraint on `Destination` (docs/reference/lambda-api.md): 0..350 characters. */
export const DESTINATION_MAX_LENGTH = 350;

/** The model's pattern for a destination, as Lambda prints it in a ValidationException. */
export const DESTINATION_ARN_PATTERN_TEXT =
  "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
const DESTINATION_ARN =
  /^arn:aws[a-zA-Z0-9-]*:(?<service>[a-zA-Z0-9-]+):(?<region>[a-z]{2}(?:-gov|-iso(?:b?))?-[a-z]+-\d)?:(?<account>\d{12})?:(?<resource>.*)$/;
const URL_LIKE = /^https?:\/\//i;
/** `function:<name>[:<qualifier>]`, the resource part of a Lambda function ARN. */
const FUNCTION_RESOURCE = /^function:([a-zA-Z0-9-_]{1,64})(?::(\$LATEST|[a-zA-Z0-9-_]{1,128}))?$/;

/** ARN services Lambda delivers to and cellfn does not. */
const UNSUPPORTED_SERVICES: Record<string, string> = {
  sns: "an Amazon SNS topic",
  events: "an Amazon EventBridge event bus",
  s3: "an Amazon S3 bucket",
};

type Classified =
  | Destination
  /** A well-formed queue ARN of another account or region: Lambda's execution role could not send to it. */
  | { kind: "queueNotAllowed" }
  | { kind: "unsupported"; what: string }
  /** An ARN of a service Lambda has no destinations for (iam, dynamodb, ...). */
  | { kind: "foreign" }
  | { kind: "invalid" };

function classify(raw: string, ctx: NameContext): Classified {
  if (URL_LIKE.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { kind: "invalid" };
    }
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") return { kind: "invalid" };
    return { kind: "url", url };
  }
  const arn = DESTINATION_ARN.exec(raw);
  if (!arn) return { kind: "invalid" };
  const { service = "", region, account, resource = "" } = arn.groups ?? {};
  if (service === "lambda") {
    const fn = FUNCTION_RESOURCE.exec(resource);
    // Another account or region is not a function cellfn can invoke for this tenant.
    if (!fn || account !== ctx.accountId || region !== ctx.region || fn[1] === undefined) return { kind: "invalid" };
    return fn[2] === undefined ? { kind: "function", name: fn[1] } : { kind: "function", name: fn[1], qualifier: fn[2] };
  }
  if (service === "sqs") {
    const queue = parseQueueArn(raw);
    if (!queue || region === undefined) return { kind: "invalid" };
    return queue.accountId === ctx.accountId && region === ctx.region ? { kind: "queue", arn: raw } : { kind: "queueNotAllowed" };
  }
  const what = UNSUPPORTED_SERVICES[service];
  return what === undefined ? { kind: "foreign" } : { kind: "unsupported", what };
}

export const invalidDestination = (raw: string) => invalidParameter(`The destination ARN ${raw} is invalid.`);

export const unsupportedDestination = (raw: string, what: string) =>
  invalidParameter(
    `The destination ${raw} is ${what}, which cellfn does not deliver to: cellfn delivers to Lambda function ARNs, SQS queue ARNs and http(s) URLs only.`,
  );

/**
 * Lambda's answer when the execution role may not send to a destination
 * queue; in cellfn a function may send only to its own account's queues, so
 * this is the answer for another account's (or region's) queue.
 */
export const destinationQueueNotAllowed = (raw: string) =>
  invalidParameter(`The function's execution role does not have permissions to call SendMessage on ${raw}`);

/** Lambda's answer for a DeadLetterConfig queue the execution role may not send to. */
export const deadLetterQueueNotAllowed = () => invalidParameter("The provided execution role does not have permissions to call SendMessage on SQS");

export const selfDestination = () => invalidParameter("You can't specify the function as a destination for itself.");

/**
 * Parses one destination. Throws InvalidParameterValueException:
 * `The destination ARN <x> is invalid.` for anything that is neither a Lambda
 * function ARN nor an SQS queue ARN of the caller's account and region nor an
 * absolute http(s) URL, Lambda's permissions message for another account's
 * queue, or the cellfn message for SNS/EventBridge/S3 ARNs.
 */
export function parseDestination(raw: string, ctx: NameContext): Destination {
  const found = classify(raw, ctx);
  switch (found.kind) {
    case "function":
    case "queue":
    case "url":
      return found;
    case "queueNotAllowed":
      throw destinationQueueNotAllowed(raw);
    case "unsupported":
      throw unsupportedDestination(raw, found.what);
    default:
      throw invalidDestination(raw);
  }
}

export interface DestinationPair {
  onSuccess?: string | undefined;
  onFailure?: string | undefined;
}

/**
 * Checks the destinations given in one request the way Lambda does (OnFailure
 * first, then OnSuccess): a function destination must not be `self` (any
 * qualifier of it) and must exist (`functionExists`), an ARN of a service
 * Lambda has no destinations for makes the whole config invalid. Empty
 * strings mean "no destination" and are skipped.
 */
export async function checkDestinations(
  given: DestinationPair,
  ctx: NameContext,
  self: string,
  functionExists: (name: string) => Promise<boolean>,
): Promise<void> {
  let foreign = false;
  for (const raw of [given.onFailure, given.onSuccess]) {
    if (!raw) continue;
    const found = classify(raw, ctx);
    switch (found.kind) {
      case "function":
        if (!(await functionExists(found.name))) throw invalidDestination(raw);
        if (found.name === self) throw selfDestination();
        break;
      case "queue":
      case "url":
        break;
      case "queueNotAllowed":
        throw destinationQueueNotAllowed(raw);
      case "unsupported":
        throw unsupportedDestination(raw, found.what);
      case "foreign":
        foreign = true;
        break;
      case "invalid":
        throw invalidDestination(raw);
    }
  }
  if (foreign) {
    const onSuccess = given.onSuccess ? `OnSuccess(destination=${given.onSuccess})` : "null";
    const onFailure = given.onFailure ? `OnFailure(destination=${given.onFailure})` : "null";
    throw invalidParameter(`The provided destination config DestinationConfig(onSuccess=${onSuccess}, onFailure=${onFailure}) is invalid.`);
  }
}

/**
 * A function's DeadLetterConfig.TargetArn: an SQS queue of the account (as
 * Lambda; it gets the event itself with RequestID / ErrorCode / ErrorMessage
 * attributes), or, as a cellfn extension, the targets of a destination
 * (another function of the account, or an http(s) URL, sent the record).
 * SNS topics are refused: cellfn has none.
 */
export function checkDeadLetterTarget(raw: string, ctx: NameContext, self: string): Destination {
  if (classify(raw, ctx).kind === "queueNotAllowed") throw deadLetterQueueNotAllowed();
  const target = parseDestination(raw, ctx);
  if (target.kind === "function" && target.name === self) throw selfDestination();
  return target;
}

/** Whether a stored target names an SQS queue (a dead-letter queue gets the event, not the record). */
export function isQueueArn(raw: string): boolean {
  const arn = DESTINATION_ARN.exec(raw);
  return arn?.groups?.service === "sqs";
}

/** Lambda's model check of one `Destination` member (pattern, extended by cellfn with http(s) URLs). */
export function isDestinationSyntax(raw: string): boolean {
  return raw === "" || URL_LIKE.test(raw) || DESTINATION_ARN.test(raw);
}

const destinationMember = z
  .strictObject({
    Destination: z
      .string()
      .max(DESTINATION_MAX_LENGTH)
      .refine(isDestinationSyntax, { message: `Member must satisfy regular expression pattern: ${DESTINATION_ARN_PATTERN_TEXT}` })
      .nullish(),
  })
  .nullish();

/**
 * Body of Put/UpdateFunctionEventInvokeConfig, strict like every body:
 * unknown fields are InvalidRequestContentException, model constraints
 * ValidationException. `null` counts as absent, as in Lambda's deserializer.
 */
export const eventInvokeConfigSchema = z.strictObject({
  MaximumRetryAttempts: z.int().min(0).max(2).nullish(),
  MaximumEventAgeInSeconds: z.int().min(60).max(21600).nullish(),
  DestinationConfig: z.strictObject({ OnSuccess: destinationMember, OnFailure: destinationMember }).nullish(),
});
export type EventInvokeConfigInput = z.infer<typeof eventInvokeConfigSchema>;
