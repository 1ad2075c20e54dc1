import { invalidParameterValue, queueDoesNotExist, SqsError } from "./errors";

/** A queue as a request names it: the owner's account id and the queue name. */
export interface QueueRef {
  accountId: string;
  name: string;
}

const ACCOUNT = /^\d{12}$/;
const NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

export const invalidAddress = (address: string) =>
  new SqsError("InvalidAddress", "InvalidAddress", `The address ${address} is not valid for this endpoint.`);

/**
 * `QueueUrl` on any host (`http(s)://host/<account>/<name>`): SQS identifies
 * the queue by path, whatever host the client kept. A path that is not
 * account/name is InvalidAddress, the same for every caller.
 */
export function parseQueueUrl(url: string): QueueRef {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw invalidAddress(url);
  }
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length !== 2) throw invalidAddress(url);
  const [accountId, name] = parts as [string, string];
  if (!ACCOUNT.test(accountId) || !NAME.test(name)) throw invalidAddress(url);
  return { accountId, name };
}

/** `arn:aws:sqs:<region>:<account>:<name>`; null when it is not an SQS queue ARN. */
export function parseQueueArn(arn: string): QueueRef | null {
  const parts = arn.split(":");
  if (parts.length !== 6 || parts[0] !== "arn" || parts[2] !== "sqs" || !parts[1]) return null;
  const accountId = parts[4] ?? "";
  const name = parts[5] ?? "";
  if (!ACCOUNT.test(accountId) || !NAME.test(name)) return null;
  return { accountId, name };
}

export const queueArn = (region: string, accountId: string, name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
export const queueUrl = (endpoint: string, accountId: string, name: string) => `${endpoint}/${accountId}/${name}`;

/**
 * The caller's own queue named by URL: another account's URL is answered
 * exactly as a queue that does not exist, so no tenant learns of another's.
 */
export function ownQueueFromUrl(url: string, accountId: string): string {
  const ref = parseQueueUrl(url);
  if (ref.accountId !== accountId) throw queueDoesNotExist();
  return ref.name;
}

/** The caller's own queue named by ARN (move tasks); null for other accounts and non-ARNs alike. */
export function ownQueueFromArn(arn: string, accountId: string): string | null {
  const ref = parseQueueArn(arn);
  return ref && ref.accountId === accountId ? ref.name : null;
}

/** Batch entry ids: alphanumerics, hyphens, underscores, at most 80 characters. */
export const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function requireQueueName(name: unknown): string {
  if (typeof name !== "string") throw invalidParameterValue("Value for parameter QueueName is invalid.");
  return name;
}
