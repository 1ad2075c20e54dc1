import { invalidAttributeName, invalidAttributeValue, invalidParameterValue } from "./errors";
import type { RedrivePolicy } from "./redrive";
import { parseRedriveAllowPolicy, parseRedrivePolicy } from "./redrive";

/** SQS's limits on the settable queue attributes (AWS's ranges, seconds and bytes). */
export const VISIBILITY_TIMEOUT_MAX_S = 43_200;
export const DELAY_SECONDS_MAX_S = 900;
export const RETENTION_MIN_S = 60;
export const RETENTION_MAX_S = 1_209_600;
export const WAIT_TIME_MAX_S = 20;
export const MESSAGE_SIZE_MIN_BYTES = 1_024;
/** AWS raised the largest message to 1 MiB (August 2025); new queues default to it. */
export const MESSAGE_SIZE_MAX_BYTES = 1_048_576;

/** The settable attributes a queue keeps, as SQS reports them (strings). */
export interface QueueSettings {
  VisibilityTimeout: string;
  MessageRetentionPeriod: string;
  DelaySeconds: string;
  ReceiveMessageWaitTimeSeconds: string;
  MaximumMessageSize: string;
  RedrivePolicy?: string;
  RedriveAllowPolicy?: string;
  FifoQueue?: string;
  ContentBasedDeduplication?: string;
  DeduplicationScope?: string;
  FifoThroughputLimit?: string;
  SqsManagedSseEnabled: string;
  Policy?: string;
}

export const DEFAULT_SETTINGS: QueueSettings = {
  VisibilityTimeout: "30",
  MessageRetentionPeriod: "345600",
  DelaySeconds: "0",
  ReceiveMessageWaitTimeSeconds: "0",
  MaximumMessageSize: String(MESSAGE_SIZE_MAX_BYTES),
  SqsManagedSseEnabled: "true",
};

const RANGES: Record<string, [number, number]> = {
  VisibilityTimeout: [0, VISIBILITY_TIMEOUT_MAX_S],
  MessageRetentionPeriod: [RETENTION_MIN_S, RETENTION_MAX_S],
  DelaySeconds: [0, DELAY_SECONDS_MAX_S],
  ReceiveMessageWaitTimeSeconds: [0, WAIT_TIME_MAX_S],
  MaximumMessageSize: [MESSAGE_SIZE_MIN_BYTES, MESSAGE_SIZE_MAX_BYTES],
};
const BOOLEANS = new Set(["SqsManagedSseEnabled"]);
const FIFO_ONLY = new Set(["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"]);
/** Accepted and echoed, without effect here (no KMS, no resource policies). */
const PASSIVE = new Set(["Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"]);

/** Read-only attributes GetQueueAttributes computes. */
export const COMPUTED_ATTRIBUTES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
] as const;

export const ALL_ATTRIBUTE_NAMES = new Set<string>([
  ...Object.keys(RANGES),
  ...BOOLEANS,
  ...FIFO_ONLY,
  ...PASSIVE,
  "RedrivePolicy",
  "RedriveAllowPolicy",
  "FifoQueue",
  ...COMPUTED_ATTRIBUTES,
]);

export interface QueueRules {
  fifo: boolean;
  redrive?: RedrivePolicy;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;

/** A queue name as CreateQueue accepts it; FIFO queues must end in `.fifo`. */
export function validateQueueName(name: string, fifo: boolean): void {
  if (fifo) {
    if (!FIFO_QUEUE_NAME.test(name)) {
      throw invalidParameterValue(
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
      );
    }
  } else if (!QUEUE_NAME.test(name)) {
    throw invalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
}

/**
 * Checks attributes given to CreateQueue (`creating`) or SetQueueAttributes
 * against the queue type and AWS's ranges, and returns them normalized.
 * Throws before anything is stored.
 */
export function validateSettableAttributes(attributes: Record<string, unknown>, fifo: boolean, creating: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    if (typeof raw !== "string") throw invalidAttributeValue(`Invalid value for the parameter ${name}.`);
    if (!ALL_ATTRIBUTE_NAMES.has(name) || (COMPUTED_ATTRIBUTES as readonly string[]).includes(name)) throw invalidAttributeName(name);
    const value = raw.trim();
    if (name === "FifoQueue") {
      // FifoQueue is fixed at creation; a standard queue may say "false".
      if (!creating || (value === "true") !== fifo || (value !== "true" && value !== "false")) throw invalidAttributeName(name);
      if (fifo) out[name] = "true";
      continue;
    }
    if (FIFO_ONLY.has(name) && !fifo) throw invalidAttributeName(name);
    const range = RANGES[name];
    if (range) {
      const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isInteger(n) || n < range[0] || n > range[1]) throw invalidAttributeValue(`Invalid value for the parameter ${name}.`);
      out[name] = String(n);
    } else if (BOOLEANS.has(name) || name === "ContentBasedDeduplication") {
      if (value !== "true" && value !== "false") throw invalidAttributeValue(`Invalid value for the parameter ${name}.`);
      out[name] = value;
    } else if (name === "DeduplicationScope") {
      if (value !== "messageGroup" && value !== "queue") throw invalidAttributeValue(`Invalid value for the parameter ${name}.`);
      out[name] = value;
    } else if (name === "FifoThroughputLimit") {
      if (value !== "perQueue" && value !== "perMessageGroupId") throw invalidAttributeValue(`Invalid value for the parameter ${name}.`);
      out[name] = value;
    } else if (name === "RedrivePolicy") {
      // Stored and answered as AWS does: maxReceiveCount as a number.
      out[name] = value === "" ? "" : JSON.stringify(parseRedrivePolicy(value));
    } else if (name === "RedriveAllowPolicy") {
      if (value !== "") parseRedriveAllowPolicy(value);
      out[name] = value;
    } else {
      out[name] = raw;
    }
  }
  return out;
}

/** Settings of a new queue: AWS's defaults under the given attributes. */
export function initialSettings(given: Record<string, string>, fifo: boolean): QueueSettings {
  const settings: QueueSettings = { ...DEFAULT_SETTINGS, ...given };
  if (fifo) {
    settings.FifoQueue = "true";
    settings.ContentBasedDeduplication ??= "false";
    settings.DeduplicationScope ??= "queue";
    settings.FifoThroughputLimit ??= "perQueue";
  }
  return settings;
}

/** The attribute names whose values differ (CreateQueue of an existing name must match). */
export function differingAttributes(existing: QueueSettings, wanted: QueueSettings): string[] {
  const names = new Set([...Object.keys(existing), ...Object.keys(wanted)]);
  const get = (s: QueueSettings, n: string) => (s as unknown as Record<string, string | undefined>)[n] ?? "";
  return [...names].filter((n) => get(existing, n) !== get(wanted, n)).sort();
}

/** Applies SetQueueAttributes; an empty RedrivePolicy / RedriveAllowPolicy removes it, as on AWS. */
export function applySettings(current: QueueSettings, changes: Record<string, string>): QueueSettings {
  const next = { ...current, ...changes } as QueueSettings & Record<string, string | undefined>;
  for (const name of ["RedrivePolicy", "RedriveAllowPolicy", "Policy"]) if (next[name] === "") delete next[name];
  return next;
}

export function rulesOf(settings: QueueSettings): QueueRules {
  return {
    fifo: settings.FifoQueue === "true",
    ...(settings.RedrivePolicy ? { redrive: parseRedrivePolicy(settings.RedrivePolicy) } : {}),
  };
}
