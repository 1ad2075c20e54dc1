/**
 * Lambda throttles (429 before any code ran) counted by their `Reason`, in
 * this isolate since it started: what the operator's `GET /admin/metrics`
 * exports beside the tenant's `Throttles` metric, which has no reason.
 */
const byReason = new Map<string, number>();

export function countThrottle(reason: string): void {
  byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
}

export function throttlesByReason(): Array<[string, number]> {
  return [...byReason];
}
