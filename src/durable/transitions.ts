/**
 * The operation state machines (docs/reference/lambda-api-notes.md §8.4):
 * what a validated checkpoint update, a timer, a callback answer or a
 * chained invoke's result does to an operation, and the history event each
 * records. Pure: the Durable Object stores what these return.
 */
import type { ErrorObject, EventDraft, Operation, OperationRecord, OperationStatus, OperationUpdate } from "./types";

export interface ApplyContext {
  now: number;
  /** The EXECUTION operation's id: EXECUTION updates apply to it whatever id they carry (the SDK's oversize-result path). */
  executionOpId: string;
  /** Start order of the next new operation. */
  nextSeq: () => number;
  /** A fresh service-generated callback id for an operation. */
  callbackId: (opId: string) => string;
}

export interface Applied {
  changed: OperationRecord[];
  events: EventDraft[];
  /** Set when the batch ended the execution (EXECUTION SUCCEED / FAIL). */
  ended?: { status: "SUCCEEDED" | "FAILED"; result?: string; error?: ErrorObject };
  /** CHAINED_INVOKE operations started by this batch: the object dispatches them once it is stored. */
  chainedStarts: string[];
}

const seconds = (ms: number) => ms / 1000;

/** Applies an already validated batch (src/durable/validate.ts) to copies of the records it touches. */
export function applyUpdates(records: ReadonlyMap<string, OperationRecord>, updates: readonly OperationUpdate[], ctx: ApplyContext): Applied {
  const working = new Map<string, OperationRecord>();
  const out: Applied = { changed: [], events: [], chainedStarts: [] };
  for (const raw of updates) {
    const update = raw.Type === "EXECUTION" ? { ...raw, Id: ctx.executionOpId } : raw;
    const current = working.get(update.Id) ?? records.get(update.Id);
    const record = current ? { ...current, op: { ...current.op }, control: { ...current.control } } : newRecord(update, ctx);
    applyOne(record, update, ctx, out);
    working.set(update.Id, record);
  }
  out.changed = [...working.values()];
  return out;
}

function newRecord(update: OperationUpdate, ctx: ApplyContext): OperationRecord {
  const op: Operation = { Id: update.Id, Type: update.Type, StartTimestamp: ctx.now, Status: "STARTED" };
  if (update.ParentId) op.ParentId = update.ParentId;
  if (update.Name) op.Name = update.Name;
  if (update.SubType) op.SubType = update.SubType;
  return { op, seq: ctx.nextSeq(), changedAt: 0, control: {} };
}

function event(record: OperationRecord, type: string, now: number, key?: string, value?: Record<string, unknown>): EventDraft {
  const { op } = record;
  const draft: EventDraft = { EventType: type, Id: op.Id, EventTimestamp: now };
  if (op.SubType) draft.SubType = op.SubType;
  if (op.Name) draft.Name = op.Name;
  if (op.ParentId) draft.ParentId = op.ParentId;
  if (key && value) draft.details = { key, value };
  return draft;
}

function close(record: OperationRecord, status: OperationStatus, now: number): void {
  record.op.Status = status;
  record.op.EndTimestamp = now;
}

const resultOf = (payload: string | undefined) => (payload === undefined ? {} : { Result: { Payload: payload, Truncated: false } });
const errorOf = (error: ErrorObject | undefined) => ({ Error: { Payload: error ?? {}, Truncated: false } });

function applyOne(record: OperationRecord, update: OperationUpdate, ctx: ApplyContext, out: Applied): void {
  const { now } = ctx;
  const op = record.op;
  switch (update.Type) {
    case "STEP": {
      const attempt = op.StepDetails?.Attempt ?? 0;
      if (update.Action === "START") {
        op.Status = "STARTED";
        out.events.push(event(record, "StepStarted", now, "StepStartedDetails", {}));
      } else if (update.Action === "RETRY") {
        const delay = update.StepOptions?.NextAttemptDelaySeconds ?? 1;
        op.Status = "PENDING";
        op.StepDetails = { ...op.StepDetails, Attempt: attempt + 1, NextAttemptTimestamp: now + delay * 1000 };
        if (update.Payload !== undefined) op.StepDetails.Result = update.Payload;
        if (update.Error !== undefined) op.StepDetails.Error = update.Error;
        const retry = { RetryDetails: { CurrentAttempt: attempt + 1, NextAttemptDelaySeconds: delay } };
        out.events.push(update.Error !== undefined
          ? event(record, "StepFailed", now, "StepFailedDetails", { ...errorOf(update.Error), ...retry })
          : event(record, "StepSucceeded", now, "StepSucceededDetails", { ...resultOf(update.Payload), ...retry }));
      } else {
        const succeeded = update.Action === "SUCCEED";
        close(record, succeeded ? "SUCCEEDED" : "FAILED", now);
        const details: Operation["StepDetails"] = { Attempt: attempt + 1 };
        if (succeeded && update.Payload !== undefined) details.Result = update.Payload;
        if (!succeeded && update.Error !== undefined) details.Error = update.Error;
        op.StepDetails = details;
        const retry = { RetryDetails: { CurrentAttempt: attempt + 1 } };
        out.events.push(succeeded
          ? event(record, "StepSucceeded", now, "StepSucceededDetails", { ...resultOf(update.Payload), ...retry })
          : event(record, "StepFailed", now, "StepFailedDetails", { ...errorOf(update.Error), ...retry }));
      }
      return;
    }
    case "CONTEXT": {
      const replay = update.ContextOptions?.ReplayChildren ?? op.ContextDetails?.ReplayChildren;
      if (update.Action === "START") {
        op.Status = "STARTED";
        if (replay !== undefined) op.ContextDetails = { ReplayChildren: replay };
        out.events.push(event(record, "ContextStarted", now, "ContextStartedDetails", {}));
        return;
      }
      const succeeded = update.Action === "SUCCEED";
      close(record, succeeded ? "SUCCEEDED" : "FAILED", now);
      op.ContextDetails = {
        ...(replay === undefined ? {} : { ReplayChildren: replay }),
        ...(succeeded && update.Payload !== undefined ? { Result: update.Payload } : {}),
        ...(!succeeded && update.Error !== undefined ? { Error: update.Error } : {}),
      };
      out.events.push(succeeded
        ? event(record, "ContextSucceeded", now, "ContextSucceededDetails", resultOf(update.Payload))
        : event(record, "ContextFailed", now, "ContextFailedDetails", errorOf(update.Error)));
      return;
    }
    case "WAIT": {
      if (update.Action === "START") {
        const waitSeconds = update.WaitOptions?.WaitSeconds ?? 1;
        op.Status = "STARTED";
        op.WaitDetails = { ScheduledEndTimestamp: now + waitSeconds * 1000 };
        out.events.push(event(record, "WaitStarted", now, "WaitStartedDetails", { Duration: waitSeconds, ScheduledEndTimestamp: seconds(now + waitSeconds * 1000) }));
      } else {
        close(record, "CANCELLED", now);
        out.events.push(event(record, "WaitCancelled", now, "WaitCancelledDetails", update.Error ? errorOf(update.Error) : {}));
      }
      return;
    }
    case "CALLBACK": {
      if (update.Action === "START") {
        const timeout = update.CallbackOptions?.TimeoutSeconds ?? 0;
        const heartbeat = update.CallbackOptions?.HeartbeatTimeoutSeconds ?? 0;
        const callbackId = ctx.callbackId(op.Id);
        op.Status = "STARTED";
        op.CallbackDetails = { CallbackId: callbackId };
        if (timeout > 0) record.control.callbackTimeoutAt = now + timeout * 1000;
        if (heartbeat > 0) {
          record.control.heartbeatTimeoutS = heartbeat;
          record.control.heartbeatDeadline = now + heartbeat * 1000;
        }
        out.events.push(event(record, "CallbackStarted", now, "CallbackStartedDetails", { CallbackId: callbackId, Timeout: timeout, HeartbeatTimeout: heartbeat }));
      } else {
        close(record, "CANCELLED", now);
        clearCallbackTimers(record);
      }
      return;
    }
    case "CHAINED_INVOKE": {
      if (update.Action === "START") {
        const options = update.ChainedInvokeOptions ?? { FunctionName: "" };
        op.Status = "STARTED";
        record.control.chained = {
          functionName: options.FunctionName,
          ...(options.TenantId === undefined ? {} : { tenantId: options.TenantId }),
          ...(update.Payload === undefined ? {} : { payload: update.Payload }),
        };
        out.chainedStarts.push(op.Id);
        out.events.push(event(record, "ChainedInvokeStarted", now, "ChainedInvokeStartedDetails", {
          FunctionName: options.FunctionName,
          ...(options.TenantId === undefined ? {} : { TenantId: options.TenantId }),
          Input: { Payload: update.Payload ?? "", Truncated: false },
        }));
      } else {
        close(record, "STOPPED", now);
        out.events.push(event(record, "ChainedInvokeStopped", now, "ChainedInvokeStoppedDetails", {}));
      }
      return;
    }
    case "EXECUTION": {
      const succeeded = update.Action === "SUCCEED";
      out.ended = succeeded
        ? { status: "SUCCEEDED", ...(update.Payload === undefined ? {} : { result: update.Payload }) }
        : { status: "FAILED", ...(update.Error === undefined ? {} : { error: update.Error }) };
      return;
    }
  }
}

function clearCallbackTimers(record: OperationRecord): void {
  delete record.control.callbackTimeoutAt;
  delete record.control.heartbeatDeadline;
}

// ---- Transitions from outside the function ---------------------------------

/** An external answer to an operation: a changed copy and its event. */
export interface External {
  record: OperationRecord;
  event?: EventDraft;
}

/** Timers due at `now`: waits end, step retries become READY, callbacks time out. */
export function dueTransitions(records: Iterable<OperationRecord>, now: number): External[] {
  const out: External[] = [];
  for (const current of records) {
    const { op, control } = current;
    const record = () => ({ ...current, op: { ...op }, control: { ...control } });
    if (op.Type === "WAIT" && op.Status === "STARTED" && (op.WaitDetails?.ScheduledEndTimestamp ?? Infinity) <= now) {
      const next = record();
      close(next, "SUCCEEDED", now);
      const started = op.WaitDetails?.ScheduledEndTimestamp ?? now;
      out.push({ record: next, event: event(next, "WaitSucceeded", now, "WaitSucceededDetails", { Duration: Math.round((started - op.StartTimestamp) / 1000) }) });
    } else if (op.Type === "STEP" && op.Status === "PENDING" && (op.StepDetails?.NextAttemptTimestamp ?? Infinity) <= now) {
      const next = record();
      next.op.Status = "READY";
      out.push({ record: next });
    } else if (op.Type === "CALLBACK" && op.Status === "STARTED") {
      const timedOut = (control.callbackTimeoutAt ?? Infinity) <= now;
      const missedBeat = (control.heartbeatDeadline ?? Infinity) <= now;
      if (!timedOut && !missedBeat) continue;
      const error: ErrorObject = { ErrorType: "CallbackTimeout", ErrorMessage: timedOut ? "Callback timed out" : "Callback timed out on heartbeat" };
      const next = record();
      close(next, "TIMED_OUT", now);
      next.op.CallbackDetails = { ...op.CallbackDetails, Error: error };
      clearCallbackTimers(next);
      out.push({ record: next, event: event(next, "CallbackTimedOut", now, "CallbackTimedOutDetails", errorOf(error)) });
    }
  }
  return out;
}

/** The earliest time a timer of these operations is due, if any. */
export function nextDueAt(records: Iterable<OperationRecord>): number | undefined {
  let next = Infinity;
  for (const { op, control } of records) {
    if (op.Type === "WAIT" && op.Status === "STARTED") next = Math.min(next, op.WaitDetails?.ScheduledEndTimestamp ?? Infinity);
    if (op.Type === "STEP" && op.Status === "PENDING") next = Math.min(next, op.StepDetails?.NextAttemptTimestamp ?? Infinity);
    if (op.Type === "CALLBACK" && op.Status === "STARTED") next = Math.min(next, control.callbackTimeoutAt ?? Infinity, control.heartbeatDeadline ?? Infinity);
  }
  return next === Infinity ? undefined : next;
}

export type CallbackAnswer = { kind: "succeed"; result?: string } | { kind: "fail"; error: ErrorObject } | { kind: "heartbeat" };

/** SendDurableExecutionCallback{Success,Failure,Heartbeat} on a STARTED callback. */
export function answerCallback(current: OperationRecord, answer: CallbackAnswer, now: number): External {
  const next: OperationRecord = { ...current, op: { ...current.op }, control: { ...current.control } };
  if (answer.kind === "heartbeat") {
    if (next.control.heartbeatTimeoutS) next.control.heartbeatDeadline = now + next.control.heartbeatTimeoutS * 1000;
    return { record: next };
  }
  clearCallbackTimers(next);
  if (answer.kind === "succeed") {
    close(next, "SUCCEEDED", now);
    next.op.CallbackDetails = { ...next.op.CallbackDetails, ...(answer.result === undefined ? {} : { Result: answer.result }) };
    return { record: next, event: event(next, "CallbackSucceeded", now, "CallbackSucceededDetails", resultOf(answer.result)) };
  }
  close(next, "FAILED", now);
  next.op.CallbackDetails = { ...next.op.CallbackDetails, Error: answer.error };
  return { record: next, event: event(next, "CallbackFailed", now, "CallbackFailedDetails", errorOf(answer.error)) };
}

export type ChainedOutcome = { status: "SUCCEEDED"; result?: string } | { status: "FAILED" | "TIMED_OUT"; error: ErrorObject };

/** The invoked function's answer to a STARTED chained invoke. */
export function finishChained(current: OperationRecord, outcome: ChainedOutcome, now: number): External {
  const next: OperationRecord = { ...current, op: { ...current.op }, control: { ...current.control } };
  close(next, outcome.status, now);
  if (outcome.status === "SUCCEEDED") {
    next.op.ChainedInvokeDetails = outcome.result === undefined ? {} : { Result: outcome.result };
    return { record: next, event: event(next, "ChainedInvokeSucceeded", now, "ChainedInvokeSucceededDetails", resultOf(outcome.result)) };
  }
  next.op.ChainedInvokeDetails = { Error: outcome.error };
  const type = outcome.status === "FAILED" ? "ChainedInvokeFailed" : "ChainedInvokeTimedOut";
  return { record: next, event: event(next, type, now, `${type}Details`, errorOf(outcome.error)) };
}

/**
 * The operations an invocation replays from (GetDurableExecutionState and the
 * invoke event): in start order, leaving out everything under a CONTEXT that
 * completed without ReplayChildren (the SDK takes its result instead).
 */
export function replayable(records: readonly OperationRecord[]): OperationRecord[] {
  const byId = new Map(records.map((r) => [r.op.Id, r.op]));
  const hidden = (op: Operation): boolean => {
    let parentId = op.ParentId;
    const seen = new Set<string>();
    while (parentId && !seen.has(parentId)) {
      seen.add(parentId);
      const parent = byId.get(parentId);
      if (!parent) return false;
      const done = parent.Status === "SUCCEEDED" || parent.Status === "FAILED";
      if (parent.Type === "CONTEXT" && done && parent.ContextDetails?.ReplayChildren !== true) return true;
      parentId = parent.ParentId;
    }
    return false;
  };
  return [...records].sort((a, b) => a.seq - b.seq).filter((r) => !hidden(r.op));
}
