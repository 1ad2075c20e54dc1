import { invalidAttributeValue } from "./errors";

export const MAX_RECEIVE_COUNT_MIN = 1;
export const MAX_RECEIVE_COUNT_MAX = 1_000;

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface RedriveAllowPolicy {
  redrivePermission: "allowAll" | "denyAll" | "byQueue";
  sourceQueueArns?: string[];
}

const invalid = (name: string, value: string, reason: string) =>
  invalidAttributeValue(`Value ${value} for parameter ${name} is invalid. Reason: ${reason}`);

/** `text` as JSON, or the attribute's "Invalid JSON." error. */
function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(name, text, "Invalid JSON.");
  }
}

/** `{"deadLetterTargetArn": "...", "maxReceiveCount": "5"}` (maxReceiveCount as number or string, as AWS accepts). */
export function parseRedrivePolicy(text: string): RedrivePolicy {
  const value = parseJson("RedrivePolicy", text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("RedrivePolicy", text, "Invalid JSON.");
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "deadLetterTargetArn" && key !== "maxReceiveCount") {
      throw invalid("RedrivePolicy", text, `Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount].`);
    }
  }
  const arn = record.deadLetterTargetArn;
  if (typeof arn !== "string" || arn === "") throw invalid("RedrivePolicy", text, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
  const count = typeof record.maxReceiveCount === "string" ? Number(record.maxReceiveCount) : record.maxReceiveCount;
  if (record.maxReceiveCount === undefined) throw invalid("RedrivePolicy", text, "Redrive policy does not contain mandatory attribute: maxReceiveCount.");
  if (typeof count !== "number" || !Number.isInteger(count) || count < MAX_RECEIVE_COUNT_MIN || count > MAX_RECEIVE_COUNT_MAX) {
    throw invalid("RedrivePolicy", text, `Invalid value for maxReceiveCount: ${String(record.maxReceiveCount)}, valid values are from 1 to 1000 both inclusive.`);
  }
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

export function parseRedriveAllowPolicy(text: string): RedriveAllowPolicy {
  const value = parseJson("RedriveAllowPolicy", text);
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const permission = record.redrivePermission;
  if (permission !== "allowAll" && permission !== "denyAll" && permission !== "byQueue") {
    throw invalid("RedriveAllowPolicy", text, "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format.");
  }
  const arns = record.sourceQueueArns;
  if (permission === "byQueue") {
    if (!Array.isArray(arns) || arns.length === 0 || arns.length > 10 || !arns.every((a) => typeof a === "string")) {
      throw invalid("RedriveAllowPolicy", text, "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format.");
    }
    return { redrivePermission: permission, sourceQueueArns: arns as string[] };
  }
  if (arns !== undefined) throw invalid("RedriveAllowPolicy", text, "Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format.");
  return { redrivePermission: permission };
}

/** Whether a dead-letter queue's allow policy lets `sourceArn` use it (no policy: everyone may). */
export function redriveAllowed(allowPolicyText: string | undefined, sourceArn: string): boolean {
  if (!allowPolicyText) return true;
  const policy = parseRedriveAllowPolicy(allowPolicyText);
  if (policy.redrivePermission === "allowAll") return true;
  if (policy.redrivePermission === "denyAll") return false;
  return policy.sourceQueueArns?.includes(sourceArn) ?? false;
}

/**
 * The redrive decision at receive time: a message already received
 * `maxReceiveCount` times moves to the dead-letter queue instead of being
 * delivered again (AWS moves it when the count would exceed the maximum).
 */
export function shouldMoveToDeadLetter(receiveCount: number, policy: RedrivePolicy | undefined): boolean {
  return policy !== undefined && receiveCount >= policy.maxReceiveCount;
}
