/**
 * What the APIs answer, from what the object stores. The service model types
 * every durable timestamp as `timestamp`: epoch seconds in API responses
 * (the SDK's deserializer refuses strings there), epoch milliseconds in the
 * invoke event (docs/reference/lambda-api-notes.md §0, §8.3).
 */
import type { ExecutionRow } from "./execution-storage";
import type { EventDraft, Operation } from "./types";

type Json = Record<string, unknown>;
type Unit = "s" | "ms";

const at = (ms: number, unit: Unit) => (unit === "s" ? ms / 1000 : ms);

/** An operation with its timestamps in `unit`. */
export function operationShape(op: Operation, unit: Unit): Json {
  const out: Json = { ...op, StartTimestamp: at(op.StartTimestamp, unit) };
  if (op.EndTimestamp !== undefined) out.EndTimestamp = at(op.EndTimestamp, unit);
  if (op.StepDetails?.NextAttemptTimestamp !== undefined) {
    out.StepDetails = { ...op.StepDetails, NextAttemptTimestamp: at(op.StepDetails.NextAttemptTimestamp, unit) };
  }
  if (op.WaitDetails?.ScheduledEndTimestamp !== undefined) {
    out.WaitDetails = { ScheduledEndTimestamp: at(op.WaitDetails.ScheduledEndTimestamp, unit) };
  }
  return out;
}

/** GetDurableExecution. */
export function executionShape(row: ExecutionRow, includeData: boolean): Json {
  const out: Json = {
    DurableExecutionArn: row.arn,
    DurableExecutionName: row.executionName,
    FunctionArn: `arn:aws:lambda:${row.region}:${row.accountId}:function:${row.functionName}:${row.version}`,
    StartTimestamp: row.startedAt / 1000,
    Status: row.status,
    Version: row.version,
    DurableConfig: { ExecutionTimeout: row.executionTimeoutS, RetentionPeriodInDays: row.retentionDays },
  };
  if (row.endedAt !== undefined) out.EndTimestamp = row.endedAt / 1000;
  if (includeData) {
    out.ExecutionDataIncluded = true;
    out.InputPayload = row.input;
    if (row.result !== undefined) out.Result = row.result;
  }
  if (row.error !== undefined) out.Error = row.error;
  return out;
}

/** A history event as GetDurableExecutionHistory lists it; payloads left out unless asked for. */
export function eventShape(eventId: number, e: EventDraft, includeData: boolean): Json {
  const out: Json = { EventType: e.EventType, EventId: eventId, EventTimestamp: e.EventTimestamp / 1000 };
  if (e.SubType) out.SubType = e.SubType;
  if (e.Id) out.Id = e.Id;
  if (e.Name) out.Name = e.Name;
  if (e.ParentId) out.ParentId = e.ParentId;
  if (e.details) out[e.details.key] = includeData ? e.details.value : withoutPayloads(e.details.value);
  return out;
}

function withoutPayloads(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if ((k === "Input" || k === "Result" || k === "Error") && typeof v === "object" && v !== null) continue;
    out[k] = v;
  }
  return out;
}
