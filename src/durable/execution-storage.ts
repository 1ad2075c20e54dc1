/**
 * One execution's SQLite tables inside its Durable Object: the execution
 * row, its operations (with the change counter value of their last change),
 * its history events and its callback nonces. Every method is synchronous so
 * that the object can group them in one `transactionSync` (a checkpoint is
 * stored whole or not at all).
 */
import type { LastCheckpoint } from "./checkpoint-retry";
import type { ExecutionName } from "./names";
import type { ErrorObject, EventDraft, ExecutionStatus, OperationRecord } from "./types";

export interface ExecutionRow extends ExecutionName {
  tenantId: string;
  arn: string;
  executionOpId: string;
  status: ExecutionStatus;
  input: string;
  result?: string;
  error?: ErrorObject;
  startedAt: number;
  endedAt?: number;
  /** ExecutionTimeout from the function's DurableConfig, seconds. */
  executionTimeoutS: number;
  retentionDays: number;
  /** The function's Timeout, seconds: how long one invocation may take. */
  functionTimeoutS: number;
  /** The one valid checkpoint token (null when no invocation may checkpoint) and the change counter value it has seen. */
  token: string | null;
  tokenSeenSeq: number;
  /** Bumped by every change to an operation. */
  changeSeq: number;
  /** The next operation's start order. */
  nextSeq: number;
  /** The change counter value of the last change from outside the function (timer, callback, chained invoke). */
  externalSeq: number;
  /** The highest change counter value an invocation has been shown. */
  deliveredSeq: number;
  /** When the next invocation should start (null: none wanted). */
  invokeAt: number | null;
  /** The invocation running now: its token and the time after which it is presumed lost. */
  inflight: { token: string; deadline: number; startedAt: number; requestId: string } | null;
  /** Invocation-level failures in a row (thrown handler, lost environment). */
  invocationFailures: number;
  /** The last committed checkpoint, answered again to an identical retry (src/durable/checkpoint-retry.ts). */
  lastCheckpoint?: LastCheckpoint;
  /** Invocations refused for concurrency in a row (absent in rows stored before it existed). */
  throttles?: number;
  /** Since when the invocation refused for concurrency has been due: its place in the tenant's slot queue (src/invoke/slot-waiters.ts). */
  slotWaitSince?: number;
}

export class ExecutionStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Idempotent: run in blockConcurrencyWhile at construction. */
  createSchema(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS execution (k INTEGER PRIMARY KEY CHECK (k = 1), json TEXT NOT NULL)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS operations (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, changed_at INTEGER NOT NULL, json TEXT NOT NULL)`);
    this.#sql.exec(`CREATE INDEX IF NOT EXISTS operations_changed ON operations (changed_at)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS events (event_id INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS callbacks (nonce TEXT PRIMARY KEY, op_id TEXT NOT NULL)`);
  }

  execution(): ExecutionRow | null {
    const row = this.#sql.exec<{ json: string }>(`SELECT json FROM execution WHERE k = 1`).toArray()[0];
    return row ? (JSON.parse(row.json) as ExecutionRow) : null;
  }

  putExecution(row: ExecutionRow): void {
    this.#sql.exec(`INSERT OR REPLACE INTO execution (k, json) VALUES (1, ?)`, JSON.stringify(row));
  }

  operations(): OperationRecord[] {
    return this.#sql.exec<{ json: string }>(`SELECT json FROM operations ORDER BY seq`).toArray().map((r) => JSON.parse(r.json) as OperationRecord);
  }

  operation(id: string): OperationRecord | null {
    const row = this.#sql.exec<{ json: string }>(`SELECT json FROM operations WHERE id = ?`, id).toArray()[0];
    return row ? (JSON.parse(row.json) as OperationRecord) : null;
  }

  /** Operations changed after `seq`, in start order. */
  changedSince(seq: number): OperationRecord[] {
    return this.#sql.exec<{ json: string }>(`SELECT json FROM operations WHERE changed_at > ? ORDER BY seq`, seq).toArray().map((r) => JSON.parse(r.json) as OperationRecord);
  }

  putOperation(record: OperationRecord): void {
    this.#sql.exec(`INSERT OR REPLACE INTO operations (id, seq, changed_at, json) VALUES (?, ?, ?, ?)`, record.op.Id, record.seq, record.changedAt, JSON.stringify(record));
  }

  addEvents(events: readonly EventDraft[]): void {
    for (const e of events) this.#sql.exec(`INSERT INTO events (json) VALUES (?)`, JSON.stringify(e));
  }

  /** Events with their ids, from position `offset` in the chosen order. */
  events(offset: number, limit: number, newestFirst: boolean): { eventId: number; event: EventDraft }[] {
    const order = newestFirst ? "DESC" : "ASC";
    return this.#sql
      .exec<{ event_id: number; json: string }>(`SELECT event_id, json FROM events ORDER BY event_id ${order} LIMIT ? OFFSET ?`, limit, offset)
      .toArray()
      .map((r) => ({ eventId: r.event_id, event: JSON.parse(r.json) as EventDraft }));
  }

  eventCount(): number {
    return this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM events`).one().n;
  }

  addCallback(nonce: string, opId: string): void {
    this.#sql.exec(`INSERT INTO callbacks (nonce, op_id) VALUES (?, ?)`, nonce, opId);
  }

  callbackOperation(nonce: string): string | null {
    return this.#sql.exec<{ op_id: string }>(`SELECT op_id FROM callbacks WHERE nonce = ?`, nonce).toArray()[0]?.op_id ?? null;
  }
}
