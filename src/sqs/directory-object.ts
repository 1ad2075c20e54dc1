import { DurableObject } from "cloudflare:workers";

export interface DirectoryPage {
  names: string[];
  nextName?: string;
}

/**
 * One per tenant: the names of the tenant's queues (ListQueues, paging) and
 * which queue names which dead-letter queue (move tasks and
 * ListDeadLetterSourceQueues). The queues' own objects hold everything else.
 */
export class SqsDirectory extends DurableObject<Env> {
  /** A tenant's queue directory. */
  static of(env: Env, tenantId: string): DurableObjectStub<SqsDirectory> {
    return env.SQS_DIRECTORY.getByName(tenantId);
  }

  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.#sql.exec("CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, dead_letter_queue TEXT, created_at INTEGER NOT NULL)");
      this.#sql.exec("CREATE INDEX IF NOT EXISTS queues_by_dlq ON queues (dead_letter_queue)");
    });
  }

  /** Idempotent: CreateQueue repeats it when a queue exists but was not yet listed. */
  async register(name: string, deadLetterQueue: string | null): Promise<void> {
    this.#sql.exec(
      "INSERT INTO queues (name, dead_letter_queue, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET dead_letter_queue = excluded.dead_letter_queue",
      name, deadLetterQueue, Date.now(),
    );
  }

  async unregister(name: string): Promise<void> {
    this.#sql.exec("DELETE FROM queues WHERE name = ?", name);
  }

  /** Names in order from `after` (exclusive) with `prefix`, `limit` at most, and the name to continue from. */
  async list(prefix: string, after: string, limit: number): Promise<DirectoryPage> {
    const rows = this.#sql
      .exec<{ name: string }>("SELECT name FROM queues WHERE name > ? AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?", after, prefix.length, prefix, limit + 1)
      .toArray();
    const names = rows.slice(0, limit).map((r) => r.name);
    return rows.length > limit ? { names, nextName: names[names.length - 1] } : { names };
  }

  /** Queues whose redrive policy names `deadLetterQueue`. */
  async sourcesOf(deadLetterQueue: string, after: string, limit: number): Promise<DirectoryPage> {
    const rows = this.#sql
      .exec<{ name: string }>("SELECT name FROM queues WHERE dead_letter_queue = ? AND name > ? ORDER BY name LIMIT ?", deadLetterQueue, after, limit + 1)
      .toArray();
    const names = rows.slice(0, limit).map((r) => r.name);
    return rows.length > limit ? { names, nextName: names[names.length - 1] } : { names };
  }
}
