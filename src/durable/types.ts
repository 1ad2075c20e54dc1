/**
 * The shapes of durable executions as the service model names them
 * (docs/reference/lambda-api-notes.md §8). Timestamps are kept as epoch
 * milliseconds everywhere inside cellfn; src/durable/shapes.ts converts them
 * to what each API answers (epoch seconds) and the invoke event carries (ms).
 */

export const OPERATION_TYPES = ["EXECUTION", "CONTEXT", "STEP", "WAIT", "CALLBACK", "CHAINED_INVOKE"] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export const OPERATION_ACTIONS = ["START", "SUCCEED", "FAIL", "RETRY", "CANCEL"] as const;
export type OperationAction = (typeof OPERATION_ACTIONS)[number];

export type OperationStatus = "STARTED" | "PENDING" | "READY" | "SUCCEEDED" | "FAILED" | "CANCELLED" | "TIMED_OUT" | "STOPPED";

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "STOPPED";

export interface ErrorObject {
  ErrorMessage?: string;
  ErrorType?: string;
  ErrorData?: string;
  StackTrace?: string[];
}

export interface OperationUpdate {
  Id: string;
  ParentId?: string;
  Name?: string;
  Type: OperationType;
  SubType?: string;
  Action: OperationAction;
  Payload?: string;
  Error?: ErrorObject;
  ContextOptions?: { ReplayChildren?: boolean };
  StepOptions?: { NextAttemptDelaySeconds?: number };
  WaitOptions?: { WaitSeconds?: number };
  CallbackOptions?: { TimeoutSeconds?: number; HeartbeatTimeoutSeconds?: number };
  ChainedInvokeOptions?: { FunctionName: string; TenantId?: string };
}

/** An operation as the SDK reads it; timestamps in epoch ms. */
export interface Operation {
  Id: string;
  ParentId?: string;
  Name?: string;
  Type: OperationType;
  SubType?: string;
  StartTimestamp: number;
  EndTimestamp?: number;
  Status: OperationStatus;
  ExecutionDetails?: { InputPayload?: string };
  ContextDetails?: { ReplayChildren?: boolean; Result?: string; Error?: ErrorObject };
  StepDetails?: { Attempt?: number; NextAttemptTimestamp?: number; Result?: string; Error?: ErrorObject };
  WaitDetails?: { ScheduledEndTimestamp?: number };
  CallbackDetails?: { CallbackId?: string; Result?: string; Error?: ErrorObject };
  ChainedInvokeDetails?: { Result?: string; Error?: ErrorObject };
}

/** What cellfn keeps beside an operation to drive it (never shown to the SDK). */
export interface OperationControl {
  /** CALLBACK: when it times out, and the heartbeat interval that pushes a deadline. */
  callbackTimeoutAt?: number;
  heartbeatTimeoutS?: number;
  heartbeatDeadline?: number;
  /** CHAINED_INVOKE: what to invoke; `dispatched` once handed to the invoker. */
  chained?: { functionName: string; tenantId?: string; payload?: string };
}

/** One operation with its start order and the change counter value of its last change. */
export interface OperationRecord {
  op: Operation;
  seq: number;
  changedAt: number;
  control: OperationControl;
}

/** A history event before storage numbers it. */
export interface EventDraft {
  EventType: string;
  SubType?: string;
  Id?: string;
  Name?: string;
  ParentId?: string;
  EventTimestamp: number;
  details?: { key: string; value: Record<string, unknown> };
}

export interface DurableConfig {
  ExecutionTimeout: number;
  RetentionPeriodInDays: number;
  KMSKeyArn?: string;
}
