/** Retention bounds and the words Kinesis uses when a change is refused. */

export const MIN_RETENTION_HOURS = 24;
/** 365 days. */
export const MAX_RETENTION_HOURS = 8760;

export interface RetentionChange {
  direction: "increase" | "decrease";
  hours: number;
  accountId: string;
}

/** Why the change is refused (InvalidArgumentException's message), or null when it is allowed. */
export function checkRetention(change: RetentionChange, streamName: string, currentHours: number): string | null {
  const { hours } = change;
  if (hours < MIN_RETENTION_HOURS) {
    return `Minimum allowed retention period is ${MIN_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is too short.`;
  }
  if (hours > MAX_RETENTION_HOURS) {
    return `Maximum allowed retention period is ${MAX_RETENTION_HOURS} hours. Requested retention period (${hours} hours) is too long.`;
  }
  if (change.direction === "increase" && hours < currentHours) {
    return `Requested retention period (${hours} hours) for stream ${streamName} can not be shorter than existing retention period (${currentHours} hours). Use DecreaseRetentionPeriod API.`;
  }
  if (change.direction === "decrease" && hours > currentHours) {
    return `Requested retention period (${hours} hours) for stream ${streamName} can not be longer than existing retention period (${currentHours} hours). Use IncreaseRetentionPeriod API.`;
  }
  return null;
}
