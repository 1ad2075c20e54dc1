import { DurableObject } from "cloudflare:workers";
import { maybeResetObject } from "../chaos/faults";
import type { QueueSettings } from "./attributes";
import { applySettings, differingAttributes } from "./attributes";
import { queueNameExists, SqsError } from "./errors";
import { MessageStore } from "./message-store";
import { MoveTasks } from "./move-tasks";
import { queueKey } from "./queue-key";
import { QueueState } from "./queue-state";
import type { DeleteEntry, MovedMessage, QueueResult, ReceiveRequest, SendEntry, VisibilityChange } from "./types";

/** What CreateQueue hands the queue's object. */
export interface QueueIdentity {
  tenantId: string;
  accountId: string;
  name: string;
  arn: string;
}

export interface QueueDescription extends QueueIdentity {
  queueId: string;
  settings: QueueSettings;
}

/**
 * One Durable Object per queue (keyed `<tenant>/<name>`): its settings, tags
 * and messages in SQLite, long-poll waiters in memory, an alarm for retention
 * and move tasks. Methods answer `QueueResult`s (SQS errors as data) because
 * RPC does not carry error classes; src/sqs/queues.ts unwraps them.
 */
export class SqsQueue extends DurableObject<Env> {
  /** The object of a tenant's queue. */
  static of(env: Env, tenantId: string, queueName: string): DurableObjectStub<SqsQueue> {
    return env.SQS_QUEUE.getByName(queueKey(tenantId, queueName));
  }

  readonly #state: QueueState;
  readonly #tasks: MoveTasks;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    const store = new MessageStore(sql);
    this.#state = new QueueState(sql, store, (name, messages) => this.#deliverMoved(name, messages));
    this.#tasks = new MoveTasks(sql, store, this.#state, (name, messages) => this.#deliverMoved(name, messages));
    ctx.blockConcurrencyWhile(async () => {
      this.#state.load();
      this.#tasks.createSchema();
    });
  }

  async create(identity: QueueIdentity, settings: QueueSettings, tags: Record<string, string>): Promise<QueueResult<{ created: boolean }>> {
    return run(() => {
      const existing = this.#state.description;
      if (existing) {
        const differing = differingAttributes(existing.settings, settings);
        if (differing.length > 0) throw queueNameExists(`A queue already exists with the same name and a different value for attribute ${differing[0]}`);
        return { created: false };
      }
      this.#state.create(identity, settings, tags);
      return { created: true };
    });
  }

  async describe(): Promise<QueueDescription | null> {
    return this.#state.description;
  }

  async attributes(): Promise<QueueResult<Record<string, string>>> {
    return run(() => this.#state.attributes(Date.now()));
  }

  async setAttributes(changes: Record<string, string>): Promise<QueueResult<null>> {
    return run(() => {
      const queue = this.#state.require();
      this.#state.saveSettings(applySettings(queue.settings, changes));
      this.#state.wake();
      return null;
    });
  }

  async tags(): Promise<QueueResult<Record<string, string>>> {
    return run(() => this.#state.tags());
  }

  async tag(tags: Record<string, string>): Promise<QueueResult<null>> {
    return run(() => this.#state.tag(tags));
  }

  async untag(keys: string[]): Promise<QueueResult<null>> {
    return run(() => this.#state.untag(keys));
  }

  async purge(): Promise<QueueResult<null>> {
    return run(() => this.#state.purge(Date.now()));
  }

  /** DeleteQueue: everything goes, and waiting receives answer at once. */
  async destroy(): Promise<QueueResult<null>> {
    return run(() => {
      this.#state.require();
      this.#state.destroy();
      this.#tasks.clear();
      return null;
    });
  }

  async send(entries: SendEntry[], batch: boolean): Promise<QueueResult<ReturnType<QueueState["send"]>>> {
    const result = run(() => this.#state.send(entries, Date.now(), batch));
    await this.#scheduleAlarm();
    maybeResetObject(this.ctx, this.env, "sqs-send");
    return result;
  }

  async receive(request: ReceiveRequest): Promise<QueueResult<Awaited<ReturnType<QueueState["receive"]>>>> {
    try {
      return { ok: true, value: await this.#state.receive(request) };
    } catch (error) {
      return failure(error);
    }
  }

  async deleteMessages(entries: DeleteEntry[], batch: boolean): Promise<QueueResult<ReturnType<QueueState["deleteMessages"]>>> {
    maybeResetObject(this.ctx, this.env, "sqs-delete");
    return run(() => this.#state.deleteMessages(entries, Date.now(), batch));
  }

  async changeVisibility(entries: VisibilityChange[], batch: boolean): Promise<QueueResult<ReturnType<QueueState["changeVisibility"]>>> {
    return run(() => this.#state.changeVisibility(entries, Date.now(), batch));
  }

  /** Messages moved here by a redrive or a move task; refused when this queue does not exist. */
  async acceptMoved(messages: MovedMessage[]): Promise<boolean> {
    if (!this.#state.description) return false;
    this.#state.acceptMoved(messages, Date.now());
    await this.#scheduleAlarm();
    return true;
  }

  async startMoveTask(destinationArn: string | undefined, ratePerSecond: number | undefined): Promise<QueueResult<string>> {
    const result = run(() => this.#tasks.start(destinationArn, ratePerSecond, Date.now()));
    await this.ctx.storage.setAlarm(Date.now());
    return result;
  }

  async listMoveTasks(max: number): Promise<QueueResult<ReturnType<MoveTasks["list"]>>> {
    return run(() => this.#tasks.list(max));
  }

  async cancelMoveTask(taskId: string): Promise<QueueResult<number>> {
    return run(() => this.#tasks.cancel(taskId));
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#state.store.expire(now);
    await this.#tasks.step(now);
    await this.#scheduleAlarm();
  }

  async #scheduleAlarm(): Promise<void> {
    const next = this.#tasks.running() ? Date.now() + 1000 : this.#state.store.nextExpiry();
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /** Hands messages to another queue of the same tenant; false when that queue does not exist. */
  async #deliverMoved(queueName: string, messages: MovedMessage[]): Promise<boolean> {
    const queue = this.#state.require();
    return SqsQueue.of(this.env, queue.tenantId, queueName).acceptMoved(messages);
  }
}

function run<T>(fn: () => T): QueueResult<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return failure(error);
  }
}

function failure(error: unknown): { ok: false; error: { type: string; queryCode: string; message: string } } {
  if (error instanceof SqsError) {
    return { ok: false, error: { type: error.type, queryCode: (error.queryError ?? "").replace(/;Sender$/, ""), message: error.message } };
  }
  throw error;
}

