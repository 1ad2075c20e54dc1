import { AwsJsonError } from "../aws-json/errors";

/**
 * SQS's errors in the JSON protocol: `__type` is the model's shape name
 * (`com.amazonaws.sqs#QueueDoesNotExist`), and `x-amzn-query-error` carries
 * the code of the older query protocol (`AWS.SimpleQueueService.NonExistentQueue;Sender`),
 * which the SDKs of the awsQueryCompatible era read. Every SQS client error is a 400.
 */
export class SqsError extends AwsJsonError {
  constructor(type: string, queryCode: string, message: string) {
    super(400, type, message, `${queryCode};Sender`);
  }
}

export const queueDoesNotExist = () =>
  new SqsError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.");

export const invalidParameterValue = (message: string) => new SqsError("InvalidParameterValue", "InvalidParameterValue", message);

/** `Value x for parameter P is invalid. Reason: ...`, SQS's wording for out-of-range request parameters. */
export const invalidValueFor = (parameter: string, value: unknown, reason: string) =>
  invalidParameterValue(`Value ${String(value)} for parameter ${parameter} is invalid. Reason: ${reason}`);

export const missingParameter = (name: string) =>
  new SqsError("MissingParameter", "MissingParameter", `The request must contain the parameter ${name}.`);

export const invalidAttributeName = (name: string) =>
  new SqsError("InvalidAttributeName", "InvalidAttributeName", `Unknown Attribute ${name}.`);

export const invalidAttributeValue = (message: string) => new SqsError("InvalidAttributeValue", "InvalidAttributeValue", message);

export const queueNameExists = (message: string) => new SqsError("QueueNameExists", "QueueAlreadyExists", message);

export const receiptHandleIsInvalid = (handle: string) =>
  new SqsError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", `The input receipt handle "${handle}" is not a valid receipt handle.`);

export const messageNotInflight = () =>
  new SqsError("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "Message does not exist or is not available for visibility timeout change.");

export const invalidMessageContents = () =>
  new SqsError(
    "InvalidMessageContents",
    "InvalidMessageContents",
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
  );

export const tooManyEntries = (sent: number) =>
  new SqsError(
    "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    `Maximum number of entries per request are 10. You have sent ${sent}.`,
  );

export const emptyBatch = (entryShape: string) =>
  new SqsError("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", `There should be at least one ${entryShape} in the request.`);

export const batchIdsNotDistinct = (id: string) =>
  new SqsError("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", `Id ${id} repeated.`);

export const invalidBatchEntryId = () =>
  new SqsError(
    "InvalidBatchEntryId",
    "AWS.SimpleQueueService.InvalidBatchEntryId",
    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
  );

export const batchRequestTooLong = (limit: number, sent: number) =>
  new SqsError(
    "BatchRequestTooLong",
    "AWS.SimpleQueueService.BatchRequestTooLong",
    `Batch requests cannot be longer than ${limit} bytes. You have sent ${sent} bytes.`,
  );

export const purgeQueueInProgress = (queueArn: string) =>
  new SqsError(
    "PurgeQueueInProgress",
    "AWS.SimpleQueueService.PurgeQueueInProgress",
    `Only one PurgeQueue operation on ${queueArn} is allowed every 60 seconds.`,
  );

export const resourceNotFound = (message: string) => new SqsError("ResourceNotFoundException", "ResourceNotFoundException", message);

export const unsupportedOperation = (message: string) =>
  new SqsError("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", message);

/** SQS's throttle (the model's `RequestThrottled`, every operation lists it): a code the SDKs retry with backoff. */
export const requestThrottled = () => new SqsError("RequestThrottled", "RequestThrottled", "Rate exceeded");
