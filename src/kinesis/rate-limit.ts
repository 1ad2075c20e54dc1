/**
 * A shard's write limit (1 MiB/s and 1,000 records/s, as Kinesis's per-shard
 * quota) as two token buckets that refill continuously. A bucket starts full,
 * so a burst of up to one second's worth is accepted at once; a record that
 * does not fit is refused without spending anything, and a later, smaller
 * record of the same request may still fit (PutRecords answers per record).
 */

export const SHARD_WRITE_BYTES_PER_S = 1024 * 1024;
export const SHARD_WRITE_RECORDS_PER_S = 1000;

export interface WriteBudget {
  bytes: number;
  records: number;
  /** When the buckets were last refilled (ms). */
  atMs: number;
}

export function fullBudget(nowMs: number): WriteBudget {
  return { bytes: SHARD_WRITE_BYTES_PER_S, records: SHARD_WRITE_RECORDS_PER_S, atMs: nowMs };
}

function refilled(budget: WriteBudget, nowMs: number): WriteBudget {
  const elapsedS = Math.max(0, nowMs - budget.atMs) / 1000;
  return {
    bytes: Math.min(SHARD_WRITE_BYTES_PER_S, budget.bytes + elapsedS * SHARD_WRITE_BYTES_PER_S),
    records: Math.min(SHARD_WRITE_RECORDS_PER_S, budget.records + elapsedS * SHARD_WRITE_RECORDS_PER_S),
    atMs: Math.max(nowMs, budget.atMs),
  };
}

/** The budget after admitting one record of `bytes` at `nowMs`, or null when the shard is over its limit. */
export function admitRecord(budget: WriteBudget, nowMs: number, bytes: number): WriteBudget | null {
  const current = refilled(budget, nowMs);
  // A record larger than a second's worth (1 MiB of data plus its key) fits a
  // full bucket and leaves it in debt, rather than never fitting at all.
  if (current.records < 1 || current.bytes < Math.min(bytes, SHARD_WRITE_BYTES_PER_S)) return null;
  return { bytes: current.bytes - bytes, records: current.records - 1, atMs: current.atMs };
}
