/**
 * The invocation driver of one durable execution (src/durable/execution-object.ts):
 * runs the function with the stored state, applies what it answered
 * (end, suspend, throttle, failure and retry), and runs the chained invokes
 * the execution started. The Durable Object hands in its storage and the
 * shared steps that end the execution, store outside changes and set the alarm.
 */
import { exports } from "cloudflare:workers";
import type { ExecutionRow, ExecutionStorage } from "./execution-storage";
import type { InvocationOutcome } from "./invocation-outcome";
import { readInvocationOutcome } from "./invocation-outcome";
import type { Terminal } from "./lifecycle";
import { initialState } from "./lifecycle";
import { TenantQuota } from "../invoke/tenant-quota";
import { executionObjectName, newCheckpointToken } from "./names";
import { slotWaitFallbackMs, throttleRetryDelayMs } from "./throttle-backoff";
import type { ChainedOutcome, External } from "./transitions";
import { finishChained } from "./transitions";
import type { ErrorObject, EventDraft } from "./types";

/** How long past the function's own Timeout an invocation is presumed lost (its environment or this object died). */
const INVOCATION_GRACE_MS = 30_000;
/** Invocation-level failures (a thrown handler, a lost environment) retried before the execution fails, and their backoff. */
const INVOCATION_RETRY_DELAYS_MS = [1_000, 5_000, 15_000];

const INVOCATION_LOST: ErrorObject = {
  ErrorType: "Lambda.InvocationLost",
  ErrorMessage: "The invocation did not answer within the function's timeout plus 30 seconds (its environment, the platform or this execution's object went away).",
};

/** The history event of an invocation's end (with its error when it failed). */
function invocationCompleted(inflight: NonNullable<ExecutionRow["inflight"]>, now: number, error: ErrorObject | undefined): EventDraft {
  const value = { StartTimestamp: inflight.startedAt / 1000, EndTimestamp: now / 1000, RequestId: inflight.requestId, ...(error ? { Error: { Payload: error, Truncated: false } } : {}) };
  return { EventType: "InvocationCompleted", EventTimestamp: now, details: { key: "InvocationCompletedDetails", value } };
}

/** What the driver uses of its Durable Object. */
export interface ExecutionHost {
  readonly ctx: DurableObjectState;
  readonly env: Env;
  readonly store: ExecutionStorage;
  /** Ends the execution inside the caller's transaction (stores the row). */
  endInTransaction(row: ExecutionRow, status: Terminal, end: { result?: string; error?: ErrorObject }, now: number): void;
  /** After the end: wakes waiters, indexes the row, moves the alarm to the retention end. */
  afterEnd(row: ExecutionRow): Promise<void>;
  /** Stores changes from outside the function; `wake` asks for an invocation when none is running. */
  applyExternal(row: ExecutionRow, changes: readonly External[], wake: boolean, now: number): void;
  /** Sets the alarm to the earliest thing that needs the object. */
  arm(): Promise<void>;
}

export class InvocationDriver {
  readonly #host: ExecutionHost;
  /** Chained invokes this instance is running (after a restart, the alarm dispatches them again). */
  readonly #chainedRunning = new Set<string>();

  constructor(host: ExecutionHost) {
    this.#host = host;
  }

  /** Starts an invocation (in the background) when one is due and none is running; true when it did. */
  invokeIfDue(row: ExecutionRow, now: number): boolean {
    if (row.inflight || row.invokeAt === null || row.invokeAt > now) return false;
    this.#host.ctx.waitUntil(this.#invoke());
    return true;
  }

  /**
   * A slot of the tenant's pool was freed for this execution (src/invoke/tenant-quota.ts):
   * runs the throttled invocation now; false when it no longer waits (ended, running, or resumed by its fallback).
   */
  slotFreed(now: number): boolean {
    const { store } = this.#host;
    const row = store.execution();
    if (!row || row.status !== "RUNNING" || row.inflight || row.slotWaitSince === undefined || row.invokeAt === null) return false;
    row.invokeAt = now;
    store.putExecution(row);
    return this.invokeIfDue(row, now);
  }

  /** Starts the due invocation, or else sets the alarm. */
  async invokeOrArm(row: ExecutionRow | null, now: number): Promise<void> {
    if (!row || !this.invokeIfDue(row, now)) await this.#host.arm();
  }

  /** The running invocation never answered (its environment or this object went away): recorded, and retried or the end. */
  lost(row: ExecutionRow, now: number): void {
    if (!row.inflight) return;
    this.#host.store.addEvents([invocationCompleted(row.inflight, now, INVOCATION_LOST)]);
    this.#invocationFailed(row, now, INVOCATION_LOST);
  }

  /** Runs the chained invoke of operation `opId` in the background. */
  dispatchChained(opId: string): void {
    this.#chainedRunning.add(opId);
    this.#host.ctx.waitUntil(this.#runChained(opId).finally(() => this.#chainedRunning.delete(opId)));
  }

  /** Dispatches again the started chained invokes this instance is not running (it restarted since). */
  resumeChained(): void {
    for (const record of this.#host.store.operations()) {
      if (record.op.Type === "CHAINED_INVOKE" && record.op.Status === "STARTED" && !this.#chainedRunning.has(record.op.Id)) this.dispatchChained(record.op.Id);
    }
  }

  async #invoke(): Promise<void> {
    const { store } = this.#host;
    const row = store.execution();
    if (!row || row.status !== "RUNNING" || row.inflight) return;
    const now = Date.now();
    const token = newCheckpointToken();
    const requestId = crypto.randomUUID();
    row.token = token;
    row.tokenSeenSeq = row.changeSeq;
    row.deliveredSeq = row.changeSeq;
    row.invokeAt = null;
    row.inflight = { token, requestId, startedAt: now, deadline: now + row.functionTimeoutS * 1000 + INVOCATION_GRACE_MS };
    store.putExecution(row);
    await this.#host.arm();
    const payload = JSON.stringify({ DurableExecutionArn: row.arn, CheckpointToken: token, InitialExecutionState: initialState(store.operations()) });
    let outcome: InvocationOutcome;
    try {
      const answer = await exports.DurableInvoker.run({ tenantId: row.tenantId, functionName: row.functionName, version: row.version, payload, requestId });
      outcome = readInvocationOutcome(answer);
    } catch (err) {
      outcome = { kind: "failed", error: { ErrorType: "Lambda.ServiceException", ErrorMessage: `The invocation could not run: ${String(err)}` } };
    }
    await this.#settle(token, outcome);
  }

  /** Applies what an invocation answered, if it is still the current one. */
  async #settle(token: string, outcome: InvocationOutcome): Promise<void> {
    const { store, ctx } = this.#host;
    const row = store.execution();
    if (!row || row.inflight?.token !== token) return;
    const now = Date.now();
    store.addEvents([invocationCompleted(row.inflight, now, outcome.kind === "failed" ? outcome.error : undefined)]);
    if (row.status !== "RUNNING") return;
    if (outcome.kind === "throttled") {
      await this.#throttled(row, now, outcome.pooled);
      return;
    }
    delete row.slotWaitSince;
    if (outcome.kind === "succeeded" || outcome.kind === "execution-failed") {
      const end = outcome.kind === "succeeded"
        ? { ...(outcome.result === undefined || (outcome.result === "" && row.result !== undefined) ? {} : { result: outcome.result }) }
        : { error: outcome.error };
      ctx.storage.transactionSync(() => this.#host.endInTransaction(row, outcome.kind === "succeeded" ? "SUCCEEDED" : "FAILED", end, now));
      await this.#host.afterEnd(row);
      return;
    }
    if (outcome.kind === "pending") {
      row.inflight = null;
      row.token = null;
      row.invocationFailures = 0;
      row.throttles = 0;
      // Something changed while the function was deciding to suspend: run it again now.
      if (row.externalSeq > row.deliveredSeq) row.invokeAt = now;
      store.putExecution(row);
    } else {
      this.#invocationFailed(row, now, outcome.error);
      if (row.status !== "RUNNING") {
        await this.#host.afterEnd(row);
        return;
      }
    }
    await this.invokeOrArm(row, now);
  }

  /**
   * Refused for concurrency: not counted as a failure. Refused by the tenant's
   * pool, it queues for the next slot freed there (earliest due first, keeping
   * its place when refused again) with a long fallback retry; otherwise (a
   * reserved-concurrency limit, a full queue) it backs off
   * (src/durable/throttle-backoff.ts) so waiting executions do not storm the limit.
   */
  async #throttled(row: ExecutionRow, now: number, pooled: boolean): Promise<void> {
    const { store } = this.#host;
    const dueAt = row.slotWaitSince ?? row.inflight?.startedAt ?? now;
    row.inflight = null;
    row.token = null;
    row.throttles = (row.throttles ?? 0) + 1;
    row.slotWaitSince = dueAt;
    // Stored before queueing: the wake may come before the answer.
    row.invokeAt = now + slotWaitFallbackMs(row.throttles);
    store.putExecution(row);
    const key = executionObjectName(row.tenantId, row.functionName, row.executionName);
    const queued = pooled && (await TenantQuota.of(this.#host.env, row.tenantId).waitForSlot(key, dueAt).catch(() => false));
    const current = store.execution();
    if (!current) return;
    if (!queued && !current.inflight && current.slotWaitSince === dueAt && current.invokeAt !== null) {
      current.invokeAt = Math.min(current.invokeAt, now + throttleRetryDelayMs(current.throttles ?? 1));
      store.putExecution(current);
    }
    await this.invokeOrArm(current, Date.now());
  }

  #invocationFailed(row: ExecutionRow, now: number, error?: ErrorObject): void {
    row.inflight = null;
    row.token = null;
    delete row.slotWaitSince;
    row.invocationFailures += 1;
    const delay = INVOCATION_RETRY_DELAYS_MS[row.invocationFailures - 1];
    if (delay === undefined) {
      const last = error ?? INVOCATION_LOST;
      this.#host.ctx.storage.transactionSync(() => this.#host.endInTransaction(row, "FAILED", { error: last }, now));
      return;
    }
    row.invokeAt = now + delay;
    this.#host.store.putExecution(row);
  }

  async #runChained(opId: string): Promise<void> {
    const { store } = this.#host;
    const row = store.execution();
    const chained = store.operation(opId)?.control.chained;
    if (!row || !chained) return;
    let outcome: ChainedOutcome;
    try {
      outcome = await exports.DurableInvoker.chained({
        tenantId: row.tenantId,
        functionName: chained.functionName,
        payload: chained.payload ?? "{}",
        executionName: `${row.executionName.slice(0, 20)}-${opId.slice(0, 16)}-${row.executionId.slice(0, 8)}`,
      });
    } catch (err) {
      outcome = { status: "FAILED", error: { ErrorType: "Lambda.ServiceException", ErrorMessage: String(err) } };
    }
    const now = Date.now();
    const current = store.execution();
    const record = store.operation(opId);
    if (!current || current.status !== "RUNNING" || record?.op.Status !== "STARTED") return;
    this.#host.applyExternal(current, [finishChained(record, outcome, now)], true, now);
    await this.invokeOrArm(current, now);
  }
}
