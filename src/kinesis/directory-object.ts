import { DurableObject } from "cloudflare:workers";
import { newStreamId } from "./names";
import { checkRetention, type RetentionChange } from "./retention";
import type { ShardSetup } from "./shard-object";
import { StreamShard } from "./shard-object";

/**
 * One per tenant: the tenant's streams (name, incarnation, status, shard
 * count, retention, tags). CreateStream and DeleteStream start and end here,
 * so the two never interleave badly for one name: a name is CREATING while its
 * shards are set up and DELETING while they are wiped, and is refused as in
 * use (or not found) meanwhile.
 */

export type StreamStatus = "CREATING" | "ACTIVE" | "DELETING";
export type StreamMode = "PROVISIONED" | "ON_DEMAND";

export interface StreamInfo {
  name: string;
  streamId: string;
  status: StreamStatus;
  mode: StreamMode;
  shardCount: number;
  retentionHours: number;
  createdMs: number;
}

export type Refusal = { ok: false; type: string; message: string };
export type Result<T = undefined> = { ok: true; value: T } | Refusal;

export const DEFAULT_RETENTION_HOURS = 24;
export const MAX_TAGS_PER_STREAM = 50;

type StreamRow = {
  name: string;
  stream_id: string;
  status: StreamStatus;
  mode: StreamMode;
  shard_count: number;
  retention_hours: number;
  created_ms: number;
};

const toInfo = (row: StreamRow): StreamInfo => ({
  name: row.name,
  streamId: row.stream_id,
  status: row.status,
  mode: row.mode,
  shardCount: row.shard_count,
  retentionHours: row.retention_hours,
  createdMs: row.created_ms,
});

export function shardObjectName(tenantId: string, streamId: string, shardIndex: number): string {
  return `${tenantId}/${streamId}/${shardIndex}`;
}

export interface CreateRequest {
  tenantId: string;
  accountId: string;
  region: string;
  name: string;
  mode: StreamMode;
  shardCount: number;
  tags: Record<string, string>;
  /** Open shards the tenant may have in all its streams (its quota; AWS's default is 500). */
  shardLimit: number;
}

export class StreamDirectory extends DurableObject<Env> {
  /** A tenant's stream directory. */
  static of(env: Env, tenantId: string): DurableObjectStub<StreamDirectory> {
    return env.STREAM_DIRECTORY.getByName(tenantId);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS streams (
        name TEXT PRIMARY KEY, stream_id TEXT NOT NULL, status TEXT NOT NULL, mode TEXT NOT NULL,
        shard_count INTEGER NOT NULL, retention_hours INTEGER NOT NULL, created_ms INTEGER NOT NULL)`);
      sql.exec("CREATE TABLE IF NOT EXISTS tags (name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key))");
    });
  }

  async create(request: CreateRequest): Promise<Result<StreamInfo>> {
    const { name, accountId } = request;
    if (this.#row(name)) return refuse("ResourceInUseException", `Stream ${name} under account ${accountId} already exists.`);
    const current = this.ctx.storage.sql.exec<{ shards: number | null }>("SELECT SUM(shard_count) AS shards FROM streams").toArray()[0]?.shards ?? 0;
    if (current + request.shardCount > request.shardLimit) {
      return refuse(
        "LimitExceededException",
        `This request would exceed the shard limit for the account ${accountId} in ${request.region}. Current shard count for the account: ${current}. ` +
          `Limit: ${request.shardLimit}. Number of additional shards that would have resulted from this request: ${request.shardCount}. ` +
          "Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
      );
    }
    const info: StreamInfo = {
      name,
      streamId: newStreamId(),
      status: "CREATING",
      mode: request.mode,
      shardCount: request.shardCount,
      retentionHours: DEFAULT_RETENTION_HOURS,
      createdMs: Date.now(),
    };
    this.ctx.storage.sql.exec(
      "INSERT INTO streams VALUES (?, ?, ?, ?, ?, ?, ?)",
      info.name,
      info.streamId,
      info.status,
      info.mode,
      info.shardCount,
      info.retentionHours,
      info.createdMs,
    );
    for (const [key, value] of Object.entries(request.tags)) this.ctx.storage.sql.exec("INSERT INTO tags VALUES (?, ?, ?)", name, key, value);
    try {
      await Promise.all(
        Array.from({ length: info.shardCount }, (_, shardIndex) => {
          const setup: ShardSetup = {
            tenantId: request.tenantId,
            streamName: name,
            streamId: info.streamId,
            shardIndex,
            streamCreatedMs: info.createdMs,
            retentionHours: info.retentionHours,
          };
          return this.#shard(request.tenantId, info.streamId, shardIndex).init(setup);
        }),
      );
    } catch (error) {
      // Nothing half-made: the name is free again and no shard keeps data.
      this.#forget(name);
      await this.#destroyShards(request.tenantId, info).catch((cleanup: unknown) => console.error("stream-directory: cleanup after failed create", cleanup));
      throw error;
    }
    this.ctx.storage.sql.exec("UPDATE streams SET status = 'ACTIVE' WHERE name = ? AND stream_id = ?", name, info.streamId);
    console.log(`stream-directory: created ${name} (${info.shardCount} shards, ${info.mode})`);
    return { ok: true, value: { ...info, status: "ACTIVE" } };
  }

  async get(name: string): Promise<StreamInfo | null> {
    const row = this.#row(name);
    return row ? toInfo(row) : null;
  }

  /** Every stream, sorted by name. */
  async list(): Promise<StreamInfo[]> {
    return this.ctx.storage.sql.exec<StreamRow>("SELECT * FROM streams ORDER BY name").toArray().map(toInfo);
  }

  /** Marks the stream DELETING, wipes its shards, then forgets it; false when there is no such stream. */
  async delete(tenantId: string, name: string): Promise<boolean> {
    const row = this.#row(name);
    if (!row) return false;
    if (row.status === "DELETING") return true;
    this.ctx.storage.sql.exec("UPDATE streams SET status = 'DELETING' WHERE name = ?", name);
    await this.#destroyShards(tenantId, toInfo(row));
    this.#forget(name);
    console.log(`stream-directory: deleted ${name}`);
    return true;
  }

  async setRetention(tenantId: string, name: string, change: RetentionChange): Promise<Result> {
    const row = this.#row(name);
    if (!row) return refuse("ResourceNotFoundException", "");
    if (row.status !== "ACTIVE") return refuse("ResourceInUseException", `Stream ${name} under account ${change.accountId} is not ACTIVE.`);
    const problem = checkRetention(change, name, row.retention_hours);
    if (problem) return refuse("InvalidArgumentException", problem);
    this.ctx.storage.sql.exec("UPDATE streams SET retention_hours = ? WHERE name = ?", change.hours, name);
    await Promise.all(Array.from({ length: row.shard_count }, (_, i) => this.#shard(tenantId, row.stream_id, i).setRetention(row.stream_id, change.hours)));
    return { ok: true, value: undefined };
  }

  async tags(name: string): Promise<Record<string, string> | null> {
    if (!this.#row(name)) return null;
    const rows = this.ctx.storage.sql.exec<{ key: string; value: string }>("SELECT key, value FROM tags WHERE name = ? ORDER BY key", name);
    return Object.fromEntries(Array.from(rows, (r) => [r.key, r.value]));
  }

  async addTags(name: string, accountId: string, tags: Record<string, string>): Promise<Result | null> {
    const current = await this.tags(name);
    if (current === null) return null;
    const total = new Set([...Object.keys(current), ...Object.keys(tags)]).size;
    if (total > MAX_TAGS_PER_STREAM) {
      return refuse(
        "InvalidArgumentException",
        `Failed to add tags to stream ${name} under account ${accountId} because a given stream cannot have more than ${MAX_TAGS_PER_STREAM} tags associated with it.`,
      );
    }
    for (const [key, value] of Object.entries(tags)) this.ctx.storage.sql.exec("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", name, key, value);
    return { ok: true, value: undefined };
  }

  async removeTags(name: string, keys: string[]): Promise<boolean> {
    if (!this.#row(name)) return false;
    for (const key of keys) this.ctx.storage.sql.exec("DELETE FROM tags WHERE name = ? AND key = ?", name, key);
    return true;
  }

  #row(name: string): StreamRow | undefined {
    return this.ctx.storage.sql.exec<StreamRow>("SELECT * FROM streams WHERE name = ?", name).toArray()[0];
  }

  #forget(name: string): void {
    this.ctx.storage.sql.exec("DELETE FROM streams WHERE name = ?", name);
    this.ctx.storage.sql.exec("DELETE FROM tags WHERE name = ?", name);
  }

  #shard(tenantId: string, streamId: string, shardIndex: number): DurableObjectStub<StreamShard> {
    return StreamShard.of(this.env, tenantId, streamId, shardIndex);
  }

  async #destroyShards(tenantId: string, info: StreamInfo): Promise<void> {
    await Promise.all(Array.from({ length: info.shardCount }, (_, i) => this.#shard(tenantId, info.streamId, i).destroy(info.streamId)));
  }
}

function refuse(type: string, message: string): Refusal {
  return { ok: false, type, message };
}
