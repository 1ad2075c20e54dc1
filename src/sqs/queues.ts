import type { QueueSettings } from "./attributes";
import { SqsError, queueDoesNotExist } from "./errors";
import { SqsDirectory } from "./directory-object";
import type { QueueDescription, QueueIdentity } from "./queue-object";
import { SqsQueue } from "./queue-object";
import type { BatchOutcome, DeleteEntry, MoveTaskView, QueueResult, ReceiveRequest, ReceivedMessage, SendEntry, SentMessage, VisibilityChange } from "./types";

/**
 * The queues of a tenant, by name: the one way in to the queue objects, used
 * by the SQS API and by Worker code such as event source mappings
 * (`receive` a batch, `deleteMessages`, `changeVisibility`, `send`). Errors
 * are thrown as SqsError (QueueDoesNotExist for a missing queue).
 */
export class TenantQueues {
  readonly #env: Env;
  readonly #tenantId: string;

  constructor(env: Env, tenantId: string) {
    this.#env = env;
    this.#tenantId = tenantId;
  }

  #queue(name: string) {
    return SqsQueue.of(this.#env, this.#tenantId, name);
  }

  get directory() {
    return SqsDirectory.of(this.#env, this.#tenantId);
  }

  async describe(name: string): Promise<QueueDescription | null> {
    return this.#queue(name).describe();
  }

  async create(identity: QueueIdentity, settings: QueueSettings, tags: Record<string, string>): Promise<{ created: boolean }> {
    return unwrap(await this.#queue(identity.name).create(identity, settings, tags));
  }

  attributes = async (name: string) => unwrap(await this.#queue(name).attributes());
  setAttributes = async (name: string, changes: Record<string, string>) => unwrap(await this.#queue(name).setAttributes(changes));
  tags = async (name: string) => unwrap(await this.#queue(name).tags());
  tag = async (name: string, tags: Record<string, string>) => unwrap(await this.#queue(name).tag(tags));
  untag = async (name: string, keys: string[]) => unwrap(await this.#queue(name).untag(keys));
  purge = async (name: string) => unwrap(await this.#queue(name).purge());
  destroy = async (name: string) => unwrap(await this.#queue(name).destroy());

  async send(name: string, entries: SendEntry[], batch: boolean): Promise<BatchOutcome<SentMessage>> {
    return unwrap(await this.#queue(name).send(entries, batch));
  }

  async receive(name: string, request: ReceiveRequest): Promise<ReceivedMessage[]> {
    return unwrap(await this.#queue(name).receive(request));
  }

  async deleteMessages(name: string, entries: DeleteEntry[], batch: boolean): Promise<BatchOutcome<{ id: string }>> {
    return unwrap(await this.#queue(name).deleteMessages(entries, batch));
  }

  async changeVisibility(name: string, entries: VisibilityChange[], batch: boolean): Promise<BatchOutcome<{ id: string }>> {
    return unwrap(await this.#queue(name).changeVisibility(entries, batch));
  }

  startMoveTask = async (name: string, destinationArn: string | undefined, rate: number | undefined) =>
    unwrap(await this.#queue(name).startMoveTask(destinationArn, rate));
  listMoveTasks = async (name: string, max: number): Promise<MoveTaskView[]> => unwrap(await this.#queue(name).listMoveTasks(max));
  cancelMoveTask = async (name: string, taskId: string) => unwrap(await this.#queue(name).cancelMoveTask(taskId));
}

function unwrap<T>(result: QueueResult<T>): T {
  if (result.ok) return result.value;
  if (result.error.type === "QueueDoesNotExist") throw queueDoesNotExist();
  throw new SqsError(result.error.type, result.error.queryCode, result.error.message);
}
