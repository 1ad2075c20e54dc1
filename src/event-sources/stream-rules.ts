/**
 * The rules a stream poller applies to one shard, as Lambda applies them to
 * Kinesis sources. Pure: the StreamPoller object stores what these return.
 *
 * A round takes the records from the checkpoint on and deals them to
 * ParallelizationFactor lanes by partition key (a key always lands in the same
 * lane, so its records stay in order). Each lane is a queue of pending batches;
 * a batch is the range of shard positions [from, to) restricted to its lane,
 * so it stays small to store whatever its size. A lane runs its head batch;
 * when every lane is empty the checkpoint moves to the round's end.
 *
 *   const round = planRound(records, settings);            // lanes of one batch each
 *   const next = afterFailure(batch, failed, settings, now); // retry, bisect or discard
 */

/** One pending batch: shard positions [from, to) whose records fall in `lane`. */
export interface PendingBatch {
  from: number;
  to: number;
  lane: number;
  /** Retries spent (bisection does not count, as Lambda's documentation says). */
  retries: number;
  /** Invocations of this batch and of the batches it was split from (the on-failure record's approximateInvokeCount). */
  invocations: number;
}

export interface Round {
  /** The position after the round's last record: the checkpoint once every lane is done. */
  end: number;
  lanes: PendingBatch[][];
}

export interface RoundRecord {
  position: number;
  partitionKey: string;
  /** Its size in the event (JSON bytes). */
  eventBytes: number;
  /** False when the mapping's filters drop it: it is skipped, never sent. */
  matches: boolean;
}

export interface StreamRules {
  batchSize: number;
  parallelizationFactor: number;
  /** -1: until the record expires. */
  maximumRetryAttempts: number;
  /** -1: no limit. */
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
}

/** The first retry waits this long; each further one twice as long, up to RETRY_DELAY_MAX_MS. */
export const RETRY_DELAY_BASE_MS = 100;
export const RETRY_DELAY_MAX_MS = 2_000;
/** Bytes of `{"Records":[` and `]}` around an event's records. */
export const EVENT_ENVELOPE_BYTES = 14;

/** The lane of a partition key (FNV-1a of its UTF-16 code units): stable, so a key's records keep their order. */
export function laneOf(partitionKey: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < partitionKey.length; i++) {
    hash ^= partitionKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % lanes;
}

/**
 * The next round from `records` (the shard's records from `checkpoint` on, in
 * order): it ends before the first record that would overfill its lane (more
 * than BatchSize records, or an event over `payloadLimitBytes`). Records the
 * filters drop count toward no lane. Null when there are no records.
 */
export function planRound(checkpoint: number, records: RoundRecord[], rules: StreamRules, payloadLimitBytes: number): Round | null {
  if (records.length === 0) return null;
  const lanes = rules.parallelizationFactor;
  const counts = new Array<number>(lanes).fill(0);
  const bytes = new Array<number>(lanes).fill(EVENT_ENVELOPE_BYTES);
  let end = checkpoint;
  for (const record of records) {
    if (record.matches) {
      const lane = laneOf(record.partitionKey, lanes);
      const count = counts[lane] ?? 0;
      const size = (bytes[lane] ?? 0) + record.eventBytes + (count > 0 ? 1 : 0);
      // A lane's first record always goes in, whatever its size: a batch holds at least one record.
      if (count >= rules.batchSize || (count > 0 && size > payloadLimitBytes)) break;
      counts[lane] = count + 1;
      bytes[lane] = size;
    }
    end = record.position + 1;
  }
  const from = checkpoint;
  return {
    end,
    lanes: counts.map((count, lane) => (count > 0 ? [{ from, to: end, lane, retries: 0, invocations: 0 }] : [])),
  };
}

/** Where the shard's processing stands: the lowest position still pending, else the round's end. */
export function checkpointOf(round: Round): number {
  let lowest = round.end;
  for (const lane of round.lanes) for (const batch of lane) lowest = Math.min(lowest, batch.from);
  return lowest;
}

export function roundDone(round: Round): boolean {
  return round.lanes.every((lane) => lane.length === 0);
}

/**
 * The index of the batch record to retry from when the function reported
 * `failedIds` (sequence numbers): the lowest reported one, as Lambda
 * checkpoints there. Null when nothing was reported (the batch succeeded).
 */
export function lowestFailedIndex(sequenceNumbers: string[], failedIds: string[]): number | null {
  if (failedIds.length === 0) return null;
  let lowest: bigint | null = null;
  for (const id of failedIds) {
    const n = BigInt(id);
    if (lowest === null || n < lowest) lowest = n;
  }
  const index = sequenceNumbers.findIndex((s) => BigInt(s) === lowest);
  return index < 0 ? 0 : index;
}

export type FailureCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

export type FailureDecision =
  /** Put these batches in place of the failed one, in order. */
  | { kind: "retry"; batches: PendingBatch[] }
  /** Give up on these records: the on-failure destination gets their batch info, and the lane moves on. */
  | { kind: "discard"; condition: FailureCondition; batch: PendingBatch };

export interface FailedRun {
  /** The positions of the batch's records, in order (its members: lane and filters applied). */
  positions: number[];
  /** The arrival time of each record, same order. */
  arrivalsMs: number[];
  /** Index of the first record to retry from (a partial batch failure), or 0 for a whole failure. */
  retryFrom: number;
  /** True when the function reported the failed records (ReportBatchItemFailures), false for an error. */
  partial: boolean;
}

/**
 * What follows a failed invocation of `batch`:
 * - records before `retryFrom` are done (a partial failure checkpoints at the lowest failed record);
 * - records older than MaximumRecordAgeInSeconds are discarded (RecordAgeExceeded);
 * - a function error on more than one record with BisectBatchOnFunctionError splits the batch in two halves, no retry spent;
 * - otherwise a retry is spent, and once more than MaximumRetryAttempts were spent the records are discarded (RetryAttemptsExhausted).
 */
export function afterFailure(batch: PendingBatch, run: FailedRun, rules: StreamRules, nowMs: number): FailureDecision {
  const invocations = batch.invocations + 1;
  const remaining = run.positions.slice(run.retryFrom);
  const firstLeft = remaining[0];
  // The whole batch reported done although it failed: nothing is left to retry.
  if (firstLeft === undefined) return { kind: "retry", batches: [] };
  const rest: PendingBatch = { ...batch, from: firstLeft, invocations };
  const oldestArrival = run.arrivalsMs[run.retryFrom] ?? nowMs;
  if (rules.maximumRecordAgeInSeconds !== -1 && nowMs - oldestArrival > rules.maximumRecordAgeInSeconds * 1000) {
    return { kind: "discard", condition: "RecordAgeExceeded", batch: rest };
  }
  if (!run.partial && rules.bisectBatchOnFunctionError && remaining.length > 1) {
    const middle = remaining[Math.floor(remaining.length / 2)] ?? rest.to;
    return { kind: "retry", batches: [{ ...rest, to: middle }, { ...rest, from: middle }] };
  }
  const retries = batch.retries + 1;
  if (rules.maximumRetryAttempts !== -1 && retries > rules.maximumRetryAttempts) {
    return { kind: "discard", condition: "RetryAttemptsExhausted", batch: rest };
  }
  return { kind: "retry", batches: [{ ...rest, retries }] };
}

/** The wait before a lane runs a batch again after a failure: 100 ms doubling to 2 s. */
export function retryDelayMs(retries: number): number {
  return Math.min(RETRY_DELAY_MAX_MS, RETRY_DELAY_BASE_MS * 2 ** Math.max(0, retries - 1));
}

/** Whether a partly filled round should wait for more records (MaximumBatchingWindowInSeconds after its first arrived). */
export function windowOpen(recordCount: number, batchSize: number, windowS: number, firstArrivalMs: number, nowMs: number): boolean {
  return windowS > 0 && recordCount < batchSize && nowMs - firstArrivalMs < windowS * 1000;
}
