/**
 * The metrics Lambda publishes for durable executions (docs: "Monitoring
 * durable functions"), recorded by the execution's object through the
 * batching recorder: DurableExecutionStarted when it starts, and when it
 * ends DurableExecution{Succeeded,Failed,TimedOut,Stopped},
 * DurableExecutionDuration (ms RUNNING) and DurableExecutionOperations.
 */
import type { DurableOutcome } from "../metrics/lambda-metrics";
import type { InvocationMetrics } from "../metrics/record-events";
import { recordDurableEnded, recordDurableStarted } from "../metrics/record-events";
import type { ExecutionRow } from "./execution-storage";

type WaitUntil = (promise: Promise<unknown>) => void;

const OUTCOMES: Partial<Record<ExecutionRow["status"], DurableOutcome>> = { SUCCEEDED: "Succeeded", FAILED: "Failed", TIMED_OUT: "TimedOut", STOPPED: "Stopped" };

function metricsOf(row: ExecutionRow): InvocationMetrics {
  return { tenantId: row.tenantId, functionName: row.functionName, qualifier: undefined, executedVersion: row.version };
}

export function recordExecutionStarted(env: Env, row: ExecutionRow, waitUntil: WaitUntil): void {
  recordDurableStarted(env, metricsOf(row), waitUntil);
}

/** `row` has just ended (a terminal status); `operations`: how many it ran. */
export function recordExecutionEnded(env: Env, row: ExecutionRow, operations: number, waitUntil: WaitUntil): void {
  const outcome = OUTCOMES[row.status];
  if (!outcome) return;
  recordDurableEnded(env, metricsOf(row), { outcome, runningMs: (row.endedAt ?? Date.now()) - row.startedAt, operations }, waitUntil);
}
