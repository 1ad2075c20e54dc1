/**
 * An execution's life outside its operations, as pure functions the
 * Durable Object stores the results of: the new execution (its row, EXECUTION
 * operation and ExecutionStarted event), its end (the terminal event and
 * operation), the invoke event's state, and when the object must next wake.
 */
import type { ExecutionRow } from "./execution-storage";
import { executionArn } from "./names";
import type { ExecutionName } from "./names";
import { operationShape } from "./shapes";
import { nextDueAt, replayable } from "./transitions";
import type { ErrorObject, EventDraft, ExecutionStatus, OperationRecord } from "./types";

export interface StartRequest extends Omit<ExecutionName, "executionId"> {
  tenantId: string;
  input: string;
  executionTimeoutS: number;
  retentionDays: number;
  functionTimeoutS: number;
}

/** The invoke event carries at most this much state; the SDK pages the rest with GetDurableExecutionState. */
const INITIAL_STATE_MAX_BYTES = 4_000_000;
const INITIAL_STATE_MAX_OPERATIONS = 1000;
/** A chained invoke in flight is looked at this often, in case the object restarted and lost it. */
const CHAINED_WATCH_MS = 60_000;
const DAY_MS = 86_400_000;

export function newExecution(req: StartRequest, now: number, executionId: string, executionOpId: string): { row: ExecutionRow; execution: OperationRecord; started: EventDraft } {
  const arn = executionArn({ accountId: req.accountId, region: req.region }, req.functionName, req.version, req.executionName, executionId);
  const row: ExecutionRow = {
    ...req,
    executionId,
    arn,
    executionOpId,
    status: "RUNNING",
    startedAt: now,
    token: null,
    tokenSeenSeq: 0,
    changeSeq: 1,
    nextSeq: 1,
    externalSeq: 0,
    deliveredSeq: 0,
    invokeAt: now,
    inflight: null,
    invocationFailures: 0,
  };
  const execution: OperationRecord = {
    op: { Id: executionOpId, Type: "EXECUTION", Status: "STARTED", StartTimestamp: now, ExecutionDetails: { InputPayload: req.input } },
    seq: 0,
    changedAt: 1,
    control: {},
  };
  const started: EventDraft = {
    EventType: "ExecutionStarted",
    Id: executionOpId,
    Name: req.executionName,
    EventTimestamp: now,
    details: { key: "ExecutionStartedDetails", value: { Input: { Payload: req.input, Truncated: false }, ExecutionTimeout: req.executionTimeoutS } },
  };
  return { row, execution, started };
}

export type Terminal = Exclude<ExecutionStatus, "RUNNING">;

/**
 * Ends the execution: changes `row` in place (no token is valid any more,
 * nothing is invoked again) and returns the EXECUTION operation's final
 * state and the terminal history event to store with it.
 */
export function endExecution(
  row: ExecutionRow,
  execution: OperationRecord | null,
  status: Terminal,
  end: { result?: string; error?: ErrorObject },
  now: number,
): { record: OperationRecord | null; event: EventDraft } {
  row.status = status;
  row.endedAt = now;
  row.token = null;
  row.inflight = null;
  row.invokeAt = null;
  if (end.result !== undefined) row.result = end.result;
  if (end.error !== undefined) row.error = end.error;
  let record: OperationRecord | null = null;
  if (execution) {
    row.changeSeq += 1;
    record = { ...execution, op: { ...execution.op, Status: status, EndTimestamp: now }, changedAt: row.changeSeq };
  }
  const type = { SUCCEEDED: "ExecutionSucceeded", FAILED: "ExecutionFailed", TIMED_OUT: "ExecutionTimedOut", STOPPED: "ExecutionStopped" }[status];
  const value: Record<string, unknown> = status === "SUCCEEDED"
    ? end.result === undefined || end.result === "" ? {} : { Result: { Payload: end.result, Truncated: false } }
    : end.error ? { Error: { Payload: end.error, Truncated: false } } : {};
  return { record, event: { EventType: type, Id: row.executionOpId, Name: row.executionName, EventTimestamp: now, details: { key: `${type}Details`, value } } };
}

/** The invoke event's `InitialExecutionState`: replayable operations (timestamps in ms), cut by size with a marker for the rest. */
export function initialState(records: readonly OperationRecord[]): { Operations: Record<string, unknown>[]; NextMarker: string } {
  const all = replayable(records);
  const operations: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const record of all) {
    const shaped = operationShape(record.op, "ms");
    bytes += JSON.stringify(shaped).length;
    if (operations.length > 0 && (bytes > INITIAL_STATE_MAX_BYTES || operations.length >= INITIAL_STATE_MAX_OPERATIONS)) break;
    operations.push(shaped);
  }
  return { Operations: operations, NextMarker: operations.length < all.length ? String(operations.length) : "" };
}

/** When a running execution's object must wake: a timer, the next invocation, a lost invocation, a chained-invoke watch, the timeout. */
export function wakeAt(row: ExecutionRow, records: readonly OperationRecord[], now: number): number {
  const candidates = [row.startedAt + row.executionTimeoutS * 1000, nextDueAt(records) ?? Infinity, row.invokeAt ?? Infinity, row.inflight?.deadline ?? Infinity];
  if (records.some((r) => r.op.Type === "CHAINED_INVOKE" && r.op.Status === "STARTED")) candidates.push(now + CHAINED_WATCH_MS);
  return Math.min(...candidates);
}

/** When an ended execution is deleted. */
export function retentionEnd(row: ExecutionRow): number {
  return (row.endedAt ?? row.startedAt) + row.retentionDays * DAY_MS;
}

/**
 * Why a callback answer (success, failure or heartbeat) is refused, or null
 * when the callback takes it. AWS leaves a stopped execution's in-progress
 * operations as they were (a callback stays STARTED, aws-durable-execution-docs
 * "Stop an execution"), so the execution's end is checked before the
 * callback's own status.
 */
export function callbackRefusal(executionStatus: ExecutionStatus, callbackStatus: string): { code: "CallbackTimeout" | "InvalidParameter"; message: string } | null {
  if (callbackStatus === "TIMED_OUT") return { code: "CallbackTimeout", message: "The callback has timed out." };
  if (executionStatus !== "RUNNING") {
    return { code: "InvalidParameter", message: `The callback cannot be completed: its durable execution has ended with status ${executionStatus}.` };
  }
  if (callbackStatus !== "STARTED") return { code: "InvalidParameter", message: `The callback has already completed with status ${callbackStatus}.` };
  return null;
}

/**
 * The refusal of a checkpoint or state read whose token is not the current
 * one. After StopDurableExecution the message starts "Invalid Checkpoint
 * Token", which the SDK treats as an invocation error (the running
 * invocation ends, as AWS documents for a stopped execution); after any
 * other end the reference service's wording, which the SDK turns into a
 * failed invocation result that the ended execution ignores.
 */
export function staleTokenMessage(executionStatus: ExecutionStatus): string {
  if (executionStatus === "STOPPED") return "Invalid Checkpoint Token: the durable execution was stopped.";
  if (executionStatus !== "RUNNING") return "Invalid checkpoint token";
  return "Invalid Checkpoint Token: the token was already used, or belongs to another invocation or execution.";
}
