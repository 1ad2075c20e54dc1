import { invalidParameterValue, resourceNotFound } from "./errors";
import type { MessageStore } from "./message-store";
import { toMoved } from "./message-store";
import { parseQueueArn } from "./queue-ref";
import type { QueueState } from "./queue-state";
import type { MoveTaskView, MovedMessage } from "./types";

/** AWS's ceiling for MaxNumberOfMessagesPerSecond, and the pace used when none is given. */
export const MOVE_RATE_MAX_PER_S = 500;
const DEFAULT_RATE_PER_S = MOVE_RATE_MAX_PER_S;

interface TaskRow {
  id: string;
  status: "RUNNING" | "COMPLETED" | "CANCELLING" | "CANCELLED" | "FAILED";
  destination_arn: string | null;
  rate: number | null;
  moved: number;
  to_move: number;
  max_seq: number;
  failure: string | null;
  started_at: number;
  [key: string]: SqlStorageValue;
}

type Deliver = (queueName: string, messages: MovedMessage[]) => Promise<boolean>;

/**
 * Message move tasks run on the dead-letter queue's object: they move the
 * messages present when the task started back to each message's source queue
 * (or to DestinationArn), at most `rate` per second, one alarm tick at a time.
 */
export class MoveTasks {
  readonly #sql: SqlStorage;
  readonly #store: MessageStore;
  readonly #state: QueueState;
  readonly #deliver: Deliver;

  constructor(sql: SqlStorage, store: MessageStore, state: QueueState, deliver: Deliver) {
    this.#sql = sql;
    this.#store = store;
    this.#state = state;
    this.#deliver = deliver;
  }

  createSchema(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS move_tasks (id TEXT PRIMARY KEY, status TEXT NOT NULL, destination_arn TEXT, rate INTEGER,
      moved INTEGER NOT NULL, to_move INTEGER NOT NULL, max_seq INTEGER NOT NULL, failure TEXT, started_at INTEGER NOT NULL)`);
  }

  running(): TaskRow | undefined {
    return this.#sql.exec<TaskRow>("SELECT * FROM move_tasks WHERE status IN ('RUNNING', 'CANCELLING')").toArray()[0];
  }

  start(destinationArn: string | undefined, rate: number | undefined, now: number): string {
    const queue = this.#state.require();
    if (this.running()) throw invalidParameterValue("There is already a task running. Only one active task is allowed for a source queue arn at a given time.");
    const maxSeq = this.#store.maxSeq();
    const id = crypto.randomUUID();
    this.#sql.exec(
      "INSERT INTO move_tasks (id, status, destination_arn, rate, moved, to_move, max_seq, failure, started_at) VALUES (?, 'RUNNING', ?, ?, 0, ?, ?, NULL, ?)",
      id, destinationArn ?? null, rate ?? null, this.#store.countUpTo(maxSeq), maxSeq, now,
    );
    console.log(`sqs: move task ${id} started on ${queue.arn}`);
    return id;
  }

  list(max: number): MoveTaskView[] {
    const queue = this.#state.require();
    return this.#sql
      .exec<TaskRow>("SELECT * FROM move_tasks ORDER BY started_at DESC LIMIT ?", max)
      .toArray()
      .map((t) => ({
        ...(t.status === "RUNNING" ? { TaskHandle: t.id } : {}),
        Status: t.status,
        SourceArn: queue.arn,
        ...(t.destination_arn ? { DestinationArn: t.destination_arn } : {}),
        ...(t.rate !== null ? { MaxNumberOfMessagesPerSecond: t.rate } : {}),
        ApproximateNumberOfMessagesMoved: t.moved,
        ApproximateNumberOfMessagesToMove: t.to_move,
        ...(t.failure ? { FailureReason: t.failure } : {}),
        StartedTimestamp: t.started_at,
      }));
  }

  cancel(taskId: string): number {
    const task = this.running();
    if (!task || task.id !== taskId) throw resourceNotFound("Task does not exist.");
    this.#sql.exec("UPDATE move_tasks SET status = 'CANCELLED' WHERE id = ?", taskId);
    console.log(`sqs: move task ${taskId} cancelled after ${task.moved} message(s)`);
    return task.moved;
  }

  clear(): void {
    this.#sql.exec("DELETE FROM move_tasks");
  }

  /** One tick: moves up to a second's worth of messages, then completes or fails the task when it must. */
  async step(now: number): Promise<void> {
    const task = this.running();
    const queue = this.#state.description;
    if (!task || !queue) return;
    const batch = this.#store.movable(now, task.max_seq, task.rate ?? DEFAULT_RATE_PER_S);
    if (batch.length === 0) {
      this.#finish(task.id, "COMPLETED", null);
      return;
    }
    const groups = new Map<string, typeof batch>();
    for (const row of batch) {
      const target = task.destination_arn ?? row.dlq_source_arn;
      const name = target ? parseQueueArn(target)?.name : undefined;
      if (!name || parseQueueArn(target ?? "")?.accountId !== queue.accountId) {
        this.#finish(task.id, "FAILED", "AWS.SimpleQueueService.NonExistentQueue");
        return;
      }
      groups.set(name, [...(groups.get(name) ?? []), row]);
    }
    for (const [name, rows] of groups) {
      if (!(await this.#deliver(name, rows.map((r) => toMoved(r, null, false))))) {
        this.#finish(task.id, "FAILED", "AWS.SimpleQueueService.NonExistentQueue");
        return;
      }
      // The task may have been cancelled while the destination was called: what was handed over is still removed here.
      for (const row of rows) this.#store.delete(row.seq);
      this.#sql.exec("UPDATE move_tasks SET moved = moved + ? WHERE id = ?", rows.length, task.id);
    }
  }

  #finish(id: string, status: TaskRow["status"], failure: string | null): void {
    this.#sql.exec("UPDATE move_tasks SET status = ?, failure = ? WHERE id = ? AND status = 'RUNNING'", status, failure, id);
    console.log(`sqs: move task ${id} ${status.toLowerCase()}${failure ? ` (${failure})` : ""}`);
  }
}
