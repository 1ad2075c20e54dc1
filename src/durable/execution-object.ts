import { DurableObject } from "cloudflare:workers";
import { timingSafeEqualText } from "../auth/keys";
import { maybeResetObjectAfterCommit } from "../chaos/faults";
import { isRetryOfLast, updatesHash } from "./checkpoint-retry";
import { DurableExecutionStore } from "../data/durable-execution-store";
import { database } from "../db/client";
import type { ExecutionRow } from "./execution-storage";
import { ExecutionStorage } from "./execution-storage";
import { InvocationDriver } from "./execution-invocation";
import { callbackIdOf, newCheckpointToken, randomHex } from "./names";
import type { StartRequest, Terminal } from "./lifecycle";
import { callbackRefusal, endExecution, newExecution, retentionEnd, staleTokenMessage, wakeAt } from "./lifecycle";
import { eventShape, executionShape, operationShape } from "./shapes";
import type { CallbackAnswer, External } from "./transitions";
import { answerCallback, applyUpdates, dueTransitions, replayable } from "./transitions";
import type { ErrorObject } from "./types";
import { recordExecutionEnded, recordExecutionStarted } from "./execution-metrics";
import { checkUpdateShapes, CheckpointRejected, validateUpdates } from "./validate";

/** Why an RPC was refused; the routes turn it into the AWS error (src/durable/routes.ts). */
export type Refusal = { code: "NotFound" | "InvalidParameter" | "AlreadyStarted" | "CallbackTimeout" | "Conflict"; message: string };
export type { StartRequest } from "./lifecycle";
export type Answer<T> = { ok: T; refused?: undefined } | { ok?: undefined; refused: Refusal };

const refused = (code: Refusal["code"], message: string): { refused: Refusal } => ({ refused: { code, message } });
const notFound = () => refused("NotFound", "The durable execution was not found.");

/**
 * One durable execution (keyed `<tenant>/<function>/<execution name>`,
 * src/durable/names.ts): its operations, history, checkpoint token and
 * timers in SQLite, and its life as a chain of alarms. Each checkpoint is
 * one SQLite transaction; the alarm is set before every invocation, so a
 * crash anywhere is followed by a fresh invocation that replays the stored
 * state. Between invocations nothing runs: the execution costs no
 * environment and no concurrency while it waits.
 */
export class DurableExecution extends DurableObject<Env> {
  readonly #store: ExecutionStorage;
  /** Callers of waitForEnd (sync Invoke, chained invokes of this execution). */
  readonly #waiters = new Set<() => void>();
  /** Runs the function and the chained invokes (src/durable/execution-invocation.ts). */
  readonly #driver: InvocationDriver;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new ExecutionStorage(ctx.storage.sql);
    this.#driver = new InvocationDriver({
      ctx,
      env,
      store: this.#store,
      endInTransaction: (row, status, end, now) => this.#endInTransaction(row, status, end, now),
      afterEnd: (row) => this.#afterEnd(row),
      applyExternal: (row, changes, wake, now) => this.#applyExternal(row, changes, wake, now),
      arm: () => this.#arm(),
    });
    void ctx.blockConcurrencyWhile(async () => this.#store.createSchema());
  }

  /** Starts the execution, or answers the existing one when the same name comes with the same input. */
  async start(req: StartRequest): Promise<Answer<{ arn: string; executionId: string; version: string; created: boolean }>> {
    const existing = this.#store.execution();
    if (existing) {
      if (existing.input !== req.input || existing.functionName !== req.functionName) {
        // The model's wording for this exception, with the name; the same name and input is the same execution.
        return refused("AlreadyStarted", `The durable execution with the specified name (${req.executionName}) has already been started with a different input. Each durable execution name must be unique within the function.`);
      }
      return { ok: { arn: existing.arn, executionId: existing.executionId, version: existing.version, created: false } };
    }
    const now = Date.now();
    const { row, execution, started } = newExecution(req, now, crypto.randomUUID(), crypto.randomUUID());
    this.ctx.storage.transactionSync(() => {
      this.#store.putExecution(row);
      this.#store.putOperation(execution);
      this.#store.addEvents([started]);
    });
    recordExecutionStarted(this.env, row, (p) => this.ctx.waitUntil(p));
    await this.#index(row);
    await this.ctx.storage.setAlarm(now);
    return { ok: { arn: row.arn, executionId: row.executionId, version: row.version, created: true } };
  }

  /** GetDurableExecution. */
  async describe(executionId: string, includeData: boolean): Promise<Answer<Record<string, unknown>>> {
    const row = this.#own(executionId);
    return row ? { ok: executionShape(row, includeData) } : notFound();
  }

  /** Resolves when the execution has ended or after `timeoutMs`, with its description. */
  async waitForEnd(executionId: string, timeoutMs: number): Promise<Answer<Record<string, unknown>>> {
    const row = this.#own(executionId);
    if (!row) return notFound();
    if (row.status === "RUNNING") {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.#waiters.add(done);
      });
    }
    return this.describe(executionId, true);
  }

  /** CheckpointDurableExecution: applies a batch whole, rotates the token, answers the operations changed since the token was issued. */
  async checkpoint(executionId: string, token: string, rawUpdates: unknown): Promise<Answer<Record<string, unknown>>> {
    // Hashed before the row is read: nothing may interleave between the read and the commit.
    const hash = await updatesHash(rawUpdates);
    const row = this.#own(executionId);
    if (!row) return notFound();
    if (row.status !== "RUNNING" || row.token === null || !timingSafeEqualText(token, row.token)) {
      // The SDK's retry of a committed checkpoint whose answer was lost: the same answer, nothing applied again.
      if (row.status === "RUNNING" && isRetryOfLast(row.lastCheckpoint, row.token, token, hash)) {
        const changed = this.#store.changedSince(row.lastCheckpoint.seenBefore).map((r) => operationShape(r.op, "s"));
        return { ok: { CheckpointToken: row.lastCheckpoint.nextToken, NewExecutionState: { Operations: changed } } };
      }
      // After the end no token is valid (src/durable/lifecycle.ts staleTokenMessage words why).
      return refused("InvalidParameter", staleTokenMessage(row.status));
    }
    const records = new Map(this.#store.operations().map((r) => [r.op.Id, r]));
    const now = Date.now();
    const callbacks: { nonce: string; opId: string }[] = [];
    let applied;
    try {
      const updates = checkUpdateShapes(rawUpdates);
      validateUpdates(updates, new Map([...records].map(([id, r]) => [id, r.op])));
      let seq = row.nextSeq;
      applied = applyUpdates(records, updates, {
        now,
        executionOpId: row.executionOpId,
        nextSeq: () => seq++,
        callbackId: (opId) => {
          const nonce = randomHex();
          callbacks.push({ nonce, opId });
          return callbackIdOf({ functionName: row.functionName, executionName: row.executionName, nonce });
        },
      });
      row.nextSeq = seq;
    } catch (err) {
      if (err instanceof CheckpointRejected) return refused("InvalidParameter", err.message);
      throw err;
    }
    const seenBefore = row.tokenSeenSeq;
    const next = newCheckpointToken();
    this.ctx.storage.transactionSync(() => {
      if (applied.changed.length > 0) row.changeSeq += 1;
      for (const record of applied.changed) this.#store.putOperation({ ...record, changedAt: row.changeSeq });
      for (const c of callbacks) this.#store.addCallback(c.nonce, c.opId);
      this.#store.addEvents(applied.events);
      row.token = next;
      row.lastCheckpoint = { token, updatesHash: hash, nextToken: next, seenBefore };
      row.tokenSeenSeq = row.changeSeq;
      row.deliveredSeq = Math.max(row.deliveredSeq, row.changeSeq);
      if (applied.ended) this.#endInTransaction(row, applied.ended.status, applied.ended, now);
      else this.#store.putExecution(row);
    });
    await maybeResetObjectAfterCommit(this.ctx, this.env, "durable-checkpoint");
    const changed = this.#store.changedSince(seenBefore).map((r) => operationShape(r.op, "s"));
    for (const opId of applied.chainedStarts) this.#driver.dispatchChained(opId);
    if (applied.ended) await this.#afterEnd(row);
    else await this.#arm();
    return { ok: { CheckpointToken: next, NewExecutionState: { Operations: changed } } };
  }

  /** GetDurableExecutionState: the replayable operations, a page at a time, for the current token's holder. */
  async state(executionId: string, token: string, marker: string | undefined, maxItems: number): Promise<Answer<Record<string, unknown>>> {
    const row = this.#own(executionId);
    if (!row) return notFound();
    if (row.status !== "RUNNING" || row.token === null || !timingSafeEqualText(token, row.token)) return refused("InvalidParameter", staleTokenMessage(row.status));
    const offset = marker === undefined || marker === "" ? 0 : Number(marker);
    if (!Number.isInteger(offset) || offset < 0) return refused("InvalidParameter", `Invalid marker: ${marker ?? ""}`);
    const all = replayable(this.#store.operations());
    const page = all.slice(offset, offset + maxItems);
    const out: Record<string, unknown> = { Operations: page.map((r) => operationShape(r.op, "s")) };
    if (offset + maxItems < all.length) out.NextMarker = String(offset + maxItems);
    return { ok: out };
  }

  /** GetDurableExecutionHistory: events in order (or newest first), a page at a time. */
  async history(executionId: string, opts: { includeData: boolean; marker?: string; maxItems: number; reverse: boolean }): Promise<Answer<Record<string, unknown>>> {
    const row = this.#own(executionId);
    if (!row) return notFound();
    const offset = opts.marker === undefined || opts.marker === "" ? 0 : Number(opts.marker);
    if (!Number.isInteger(offset) || offset < 0) return refused("InvalidParameter", `Invalid marker: ${opts.marker ?? ""}`);
    const events = this.#store.events(offset, opts.maxItems, opts.reverse);
    const out: Record<string, unknown> = { Events: events.map((e) => eventShape(e.eventId, e.event, opts.includeData)) };
    if (offset + events.length < this.#store.eventCount()) out.NextMarker = String(offset + events.length);
    return { ok: out };
  }

  /**
   * StopDurableExecution: the execution ends STOPPED. As on AWS, operations in
   * progress stay as they were (no terminal event for them); the alarm moves to
   * the retention end, so no wait, retry or callback timeout fires; a running
   * invocation's next checkpoint fails; a chained invoke's late answer and
   * callback answers are refused.
   */
  async stop(executionId: string, error: ErrorObject | undefined): Promise<Answer<{ StopTimestamp: number }>> {
    const row = this.#own(executionId);
    if (!row) return notFound();
    if (row.status !== "RUNNING") return refused("Conflict", `The durable execution has already ended with status ${row.status}.`);
    const now = Date.now();
    this.ctx.storage.transactionSync(() => this.#endInTransaction(row, "STOPPED", error ? { error } : {}, now));
    await this.#afterEnd(row);
    return { ok: { StopTimestamp: now / 1000 } };
  }

  /** SendDurableExecutionCallback{Success,Failure,Heartbeat}. */
  async callback(nonce: string, answer: CallbackAnswer): Promise<Answer<Record<string, never>>> {
    const row = this.#store.execution();
    const opId = row ? this.#store.callbackOperation(nonce) : null;
    const record = opId ? this.#store.operation(opId) : null;
    if (!row || !record) return refused("NotFound", "The callback was not found.");
    const refusal = callbackRefusal(row.status, record.op.Status);
    if (refusal) return { refused: refusal };
    const now = Date.now();
    this.#applyExternal(row, [answerCallback(record, answer, now)], answer.kind !== "heartbeat", now);
    await this.#arm();
    return { ok: {} };
  }

  /** A concurrency slot of the tenant's pool freed while this execution waited for one (src/invoke/tenant-quota.ts); true when it takes it. */
  async slotFreed(): Promise<boolean> {
    return this.#driver.slotFreed(Date.now());
  }

  override async alarm(): Promise<void> {
    const row = this.#store.execution();
    if (!row) return;
    const now = Date.now();
    if (row.status !== "RUNNING") {
      if (now >= retentionEnd(row)) await this.#expire(row);
      else await this.ctx.storage.setAlarm(retentionEnd(row));
      return;
    }
    if (now >= row.startedAt + row.executionTimeoutS * 1000) {
      const error = { ErrorType: "Lambda.DurableExecutionTimeout", ErrorMessage: `The execution exceeded its ExecutionTimeout of ${row.executionTimeoutS} seconds.` };
      this.ctx.storage.transactionSync(() => this.#endInTransaction(row, "TIMED_OUT", { error }, now));
      await this.#afterEnd(row);
      return;
    }
    if (row.inflight && row.inflight.deadline <= now) {
      // The invocation never answered (its environment or this object went away): a new one replays the stored state.
      this.#driver.lost(row, now);
      if (row.status !== "RUNNING") {
        await this.#afterEnd(row);
        return;
      }
    }
    const due = dueTransitions(this.#store.operations(), now);
    if (due.length > 0) this.#applyExternal(row, due, true, now);
    this.#driver.resumeChained();
    await this.#driver.invokeOrArm(this.#store.execution(), now);
  }

  // ---- Shared steps ------------------------------------------------------------------------------

  /** Stores changes from outside the function; `wake` asks for an invocation when none is running. */
  #applyExternal(row: ExecutionRow, changes: readonly External[], wake: boolean, now: number): void {
    this.ctx.storage.transactionSync(() => {
      const visible = changes.some((c) => c.event !== undefined || c.record.op.Status === "READY");
      if (visible) row.changeSeq += 1;
      for (const change of changes) this.#store.putOperation({ ...change.record, changedAt: visible ? row.changeSeq : change.record.changedAt });
      this.#store.addEvents(changes.flatMap((c) => (c.event ? [c.event] : [])));
      if (visible) row.externalSeq = row.changeSeq;
      if (wake && visible && !row.inflight && row.invokeAt === null) row.invokeAt = now;
      this.#store.putExecution(row);
    });
    if (wake) this.#driver.invokeIfDue(row, now);
  }

  #endInTransaction(row: ExecutionRow, status: Terminal, end: { result?: string; error?: ErrorObject }, now: number): void {
    const { record, event } = endExecution(row, this.#store.operation(row.executionOpId), status, end, now);
    if (record) this.#store.putOperation(record);
    this.#store.addEvents([event]);
    this.#store.putExecution(row);
  }

  async #afterEnd(row: ExecutionRow): Promise<void> {
    for (const wake of [...this.#waiters]) wake();
    recordExecutionEnded(this.env, row, this.#store.operations().length, (p) => this.ctx.waitUntil(p));
    await this.#index(row);
    await this.ctx.storage.setAlarm(retentionEnd(row));
  }

  /** Sets the alarm to the earliest thing that needs this object (src/durable/lifecycle.ts wakeAt). */
  async #arm(): Promise<void> {
    const row = this.#store.execution();
    if (!row || row.status !== "RUNNING") return;
    await this.ctx.storage.setAlarm(wakeAt(row, this.#store.operations(), Date.now()));
  }

  async #expire(row: ExecutionRow): Promise<void> {
    await new DurableExecutionStore(database(this.env.DB), row.tenantId).remove(row.arn);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables too; this instance may still answer (a late invocation, a GetDurableExecution).
    this.#store.createSchema();
  }

  async #index(row: ExecutionRow): Promise<void> {
    await new DurableExecutionStore(database(this.env.DB), row.tenantId).put({
      functionName: row.functionName,
      executionArn: row.arn,
      executionName: row.executionName,
      version: row.version,
      status: row.status,
      startedAt: row.startedAt,
      endedAt: row.endedAt ?? null,
    });
  }

  /** The execution, when the caller's ARN names this one (not an earlier execution of the same name). */
  #own(executionId: string): ExecutionRow | null {
    const row = this.#store.execution();
    return row && row.executionId === executionId ? row : null;
  }
}
