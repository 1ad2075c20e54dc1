import { DurableObject } from "cloudflare:workers";

export interface MappingIndexRow {
  uuid: string;
  functionName: string;
  /** The EventSourceArn (a queue or a stream; the column keeps its first name). */
  sourceArn: string;
}

/**
 * One per tenant: which mappings exist (UUID, function, event source), for
 * ListEventSourceMappings and the one-mapping-per-source-and-function rule.
 * Each mapping's own SqsPoller object holds its settings and state.
 */
export class EventSourceDirectory extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  static of(env: Env, tenantId: string): DurableObjectStub<EventSourceDirectory> {
    return env.EVENT_SOURCE_DIRECTORY.getByName(tenantId);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.#sql.exec("CREATE TABLE IF NOT EXISTS mappings (uuid TEXT PRIMARY KEY, function_name TEXT NOT NULL, queue_arn TEXT NOT NULL, UNIQUE (function_name, queue_arn))");
    });
  }

  /** Registers a mapping; the UUID of the existing one when the function already has a mapping for this queue. */
  async register(row: MappingIndexRow): Promise<{ ok: true } | { ok: false; existing: string }> {
    const existing = this.#sql
      .exec<{ uuid: string }>("SELECT uuid FROM mappings WHERE function_name = ? AND queue_arn = ?", row.functionName, row.sourceArn)
      .toArray()[0];
    if (existing) return { ok: false, existing: existing.uuid };
    this.#sql.exec("INSERT INTO mappings (uuid, function_name, queue_arn) VALUES (?, ?, ?)", row.uuid, row.functionName, row.sourceArn);
    return { ok: true };
  }

  /** Points a mapping at another function; the UUID of the existing one when that function already has a mapping for the queue. */
  async retarget(uuid: string, functionName: string): Promise<{ ok: true } | { ok: false; existing: string }> {
    const row = this.#sql.exec<{ queue_arn: string }>("SELECT queue_arn FROM mappings WHERE uuid = ?", uuid).toArray()[0];
    if (!row) return { ok: true };
    const existing = this.#sql
      .exec<{ uuid: string }>("SELECT uuid FROM mappings WHERE function_name = ? AND queue_arn = ? AND uuid != ?", functionName, row.queue_arn, uuid)
      .toArray()[0];
    if (existing) return { ok: false, existing: existing.uuid };
    this.#sql.exec("UPDATE mappings SET function_name = ? WHERE uuid = ?", functionName, uuid);
    return { ok: true };
  }

  async unregister(uuid: string): Promise<void> {
    this.#sql.exec("DELETE FROM mappings WHERE uuid = ?", uuid);
  }

  /** Mappings in UUID order after `after`, optionally of one function and/or queue, `limit` at most. */
  async list(filter: { functionName?: string; sourceArn?: string }, after: string, limit: number): Promise<{ uuids: string[]; more: boolean }> {
    const rows = this.#sql
      .exec<{ uuid: string }>(
        "SELECT uuid FROM mappings WHERE uuid > ? AND (? IS NULL OR function_name = ?) AND (? IS NULL OR queue_arn = ?) ORDER BY uuid LIMIT ?",
        after, filter.functionName ?? null, filter.functionName ?? null, filter.sourceArn ?? null, filter.sourceArn ?? null, limit + 1,
      )
      .toArray();
    return { uuids: rows.slice(0, limit).map((r) => r.uuid), more: rows.length > limit };
  }

  /** How many mappings the tenant has, by the kind of their event source (an SQS queue or a Kinesis stream). */
  async counts(): Promise<{ sqs: number; kinesis: number }> {
    const row = this.#sql
      .exec<{ sqs: number | null; kinesis: number | null }>(
        "SELECT SUM(queue_arn LIKE 'arn:aws:sqs:%') AS sqs, SUM(queue_arn LIKE 'arn:aws:kinesis:%') AS kinesis FROM mappings",
      )
      .one();
    return { sqs: row.sqs ?? 0, kinesis: row.kinesis ?? 0 };
  }
}
