/**
 * Log lines for platform events that happen outside any execution
 * environment (a request refused with 429 before code ran): written to the
 * function's log group in one stream per day, `YYYY/MM/DD/[<version>]platform`,
 * so `aws logs tail` and filter patterns (`Throttled`) find them beside the
 * function's own lines. Pure.
 */

export function platformStreamName(version: string, at: Date): string {
  return `${at.toISOString().slice(0, 10).replaceAll("-", "/")}/[${version}]platform`;
}

/** `<ISO ts> <requestId> Throttled: Rate Exceeded. Reason: <reason>` (spaces, like Lambda's timeout line). */
export function throttleLine(at: Date, requestId: string, reason: string): string {
  return `${at.toISOString()} ${requestId} Throttled: Rate Exceeded. Reason: ${reason}`;
}
