import { DurableObject } from "cloudflare:workers";
import { shardObjectName } from "./directory-object";
import { admitRecord, fullBudget, type WriteBudget } from "./rate-limit";
import { formatSequenceNumber } from "./sequence-number";

/**
 * One per shard (named `<tenantId>/<streamId>/<shardIndex>`): the shard's
 * records in SQLite, in the order they were accepted. Position 1, 2, 3, ...
 * is the record's place in the shard and the heart of its sequence number.
 * It enforces the shard's write limit, deletes records older than the
 * stream's retention with an alarm, and serves reads from any position, for
 * GetRecords and for the stream pollers alike.
 */

export interface ShardSetup {
  tenantId: string;
  streamName: string;
  streamId: string;
  shardIndex: number;
  streamCreatedMs: number;
  retentionHours: number;
}

interface ShardMeta extends ShardSetup {
  state: "ACTIVE" | "DELETED";
  /** The position the next accepted record gets. */
  nextPosition: number;
  lastArrivalMs: number;
}

export interface ShardRecord {
  sequenceNumber: string;
  position: number;
  partitionKey: string;
  data: Uint8Array;
  arrivalMs: number;
}

export type PutOutcome = { sequenceNumber: string } | { throttled: true };

export interface ShardRead {
  records: ShardRecord[];
  /** Where the next read continues. */
  nextPosition: number;
  millisBehindLatest: number;
}

/** A GetRecords answer holds at most this much data, as Kinesis's. */
export const READ_MAX_BYTES = 10 * 1024 * 1024;
const HOUR_MS = 60 * 60 * 1000;
const encoder = new TextEncoder();

export class StreamShard extends DurableObject<Env> {
  /** The object of one shard of a tenant's stream. */
  static of(env: Env, tenantId: string, streamId: string, shardIndex: number): DurableObjectStub<StreamShard> {
    return env.STREAM_SHARD.getByName(shardObjectName(tenantId, streamId, shardIndex));
  }

  #meta: ShardMeta | null = null;
  #budget: WriteBudget = fullBudget(0);
  /** When the retention alarm is set for (kept so writes need not ask storage). */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)");
      sql.exec(
        "CREATE TABLE IF NOT EXISTS records (position INTEGER PRIMARY KEY, partition_key TEXT NOT NULL, data BLOB NOT NULL, arrival_ms INTEGER NOT NULL)",
      );
      sql.exec("CREATE INDEX IF NOT EXISTS records_arrival ON records (arrival_ms)");
      const row = sql.exec<{ json: string }>("SELECT json FROM meta").toArray()[0];
      this.#meta = row ? (JSON.parse(row.json) as ShardMeta) : null;
    });
  }

  /** Called once by the stream directory when the stream is created; repeating it changes nothing. */
  async init(setup: ShardSetup): Promise<void> {
    if (this.#meta) return;
    this.#save({ ...setup, state: "ACTIVE", nextPosition: 1, lastArrivalMs: setup.streamCreatedMs });
  }

  /** Accepts each record the write limit allows, in order; null when the shard is not this stream's or is gone. */
  async put(streamId: string, entries: { partitionKey: string; data: Uint8Array }[]): Promise<PutOutcome[] | null> {
    const meta = this.#active(streamId);
    if (!meta) return null;
    const now = Date.now();
    // Arrival times never go backwards within a shard, so they follow positions (AT_TIMESTAMP relies on it).
    const arrivalMs = Math.max(now, meta.lastArrivalMs);
    const outcomes: PutOutcome[] = [];
    for (const entry of entries) {
      const bytes = entry.data.length + encoder.encode(entry.partitionKey).length;
      const budget = admitRecord(this.#budget, now, bytes);
      if (!budget) {
        outcomes.push({ throttled: true });
        continue;
      }
      this.#budget = budget;
      const position = meta.nextPosition++;
      this.ctx.storage.sql.exec("INSERT INTO records VALUES (?, ?, ?, ?)", position, entry.partitionKey, entry.data, arrivalMs);
      outcomes.push({ sequenceNumber: this.#sequenceNumber(meta, position, arrivalMs) });
    }
    meta.lastArrivalMs = arrivalMs;
    this.#save(meta);
    if (this.#alarmAt === null) await this.#scheduleExpiry(meta);
    return outcomes;
  }

  /** Records from `position` on (expired ones never), up to `limit` and READ_MAX_BYTES. */
  async read(streamId: string, position: number, limit: number): Promise<ShardRead | null> {
    const meta = this.#active(streamId);
    if (!meta) return null;
    const now = Date.now();
    const rows = this.ctx.storage.sql.exec<{ position: number; partition_key: string; data: ArrayBuffer; arrival_ms: number }>(
      "SELECT * FROM records WHERE position >= ? AND arrival_ms >= ? ORDER BY position LIMIT ?",
      position,
      this.#cutoff(meta, now),
      limit,
    );
    const records: ShardRecord[] = [];
    let bytes = 0;
    for (const row of rows) {
      bytes += row.data.byteLength;
      if (records.length > 0 && bytes > READ_MAX_BYTES) break;
      records.push({
        sequenceNumber: this.#sequenceNumber(meta, row.position, row.arrival_ms),
        position: row.position,
        partitionKey: row.partition_key,
        data: new Uint8Array(row.data),
        arrivalMs: row.arrival_ms,
      });
    }
    const last = records.at(-1);
    const nextPosition = last ? last.position + 1 : Math.max(position, this.#oldestPosition(meta, now));
    const caughtUp = nextPosition >= meta.nextPosition;
    return { records, nextPosition, millisBehindLatest: caughtUp || !last ? 0 : Math.max(0, now - last.arrivalMs) };
  }

  /** The shard's next position (LATEST), or the first record that arrived at or after `timestampMs`. */
  async position(streamId: string, at: { latest: true } | { timestampMs: number }): Promise<{ position: number; nextPosition: number } | null> {
    const meta = this.#active(streamId);
    if (!meta) return null;
    if ("latest" in at) return { position: meta.nextPosition, nextPosition: meta.nextPosition };
    const row = this.ctx.storage.sql
      .exec<{ position: number }>(
        "SELECT position FROM records WHERE arrival_ms >= ? ORDER BY position LIMIT 1",
        Math.max(at.timestampMs, this.#cutoff(meta, Date.now())),
      )
      .toArray()[0];
    return { position: row?.position ?? meta.nextPosition, nextPosition: meta.nextPosition };
  }

  async setRetention(streamId: string, hours: number): Promise<void> {
    const meta = this.#active(streamId);
    if (!meta) return;
    meta.retentionHours = hours;
    this.#save(meta);
    this.#deleteExpired(meta, Date.now());
    await this.#scheduleExpiry(meta);
  }

  /** DeleteStream: every record goes; a tombstone stays so late readers and writers learn the stream is gone. */
  async destroy(streamId: string): Promise<void> {
    const meta = this.#meta;
    if (!meta || meta.streamId !== streamId || meta.state === "DELETED") return;
    this.ctx.storage.sql.exec("DELETE FROM records");
    this.#alarmAt = null;
    await this.ctx.storage.deleteAlarm();
    this.#save({ ...meta, state: "DELETED" });
  }

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const meta = this.#meta;
    if (!meta || meta.state !== "ACTIVE") return;
    const removed = this.#deleteExpired(meta, Date.now());
    if (removed > 0) console.log(`stream-shard: ${meta.streamName}/${meta.shardIndex} retention removed ${removed} records`);
    await this.#scheduleExpiry(meta);
  }

  #active(streamId: string): ShardMeta | null {
    const meta = this.#meta;
    return meta && meta.state === "ACTIVE" && meta.streamId === streamId ? meta : null;
  }

  #save(meta: ShardMeta): void {
    this.#meta = meta;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta VALUES (1, ?)", JSON.stringify(meta));
  }

  #sequenceNumber(meta: ShardMeta, position: number, arrivalMs: number): string {
    return formatSequenceNumber({ streamCreatedS: Math.floor(meta.streamCreatedMs / 1000), shardIndex: meta.shardIndex, position, arrivalMs });
  }

  #cutoff(meta: ShardMeta, now: number): number {
    return now - meta.retentionHours * HOUR_MS;
  }

  #oldestPosition(meta: ShardMeta, now: number): number {
    const row = this.ctx.storage.sql
      .exec<{ position: number }>("SELECT position FROM records WHERE arrival_ms >= ? ORDER BY position LIMIT 1", this.#cutoff(meta, now))
      .toArray()[0];
    return row?.position ?? meta.nextPosition;
  }

  #deleteExpired(meta: ShardMeta, now: number): number {
    return this.ctx.storage.sql.exec("DELETE FROM records WHERE arrival_ms < ?", this.#cutoff(meta, now)).rowsWritten;
  }

  /** The alarm fires when the oldest record expires. */
  async #scheduleExpiry(meta: ShardMeta): Promise<void> {
    const oldest = this.ctx.storage.sql.exec<{ arrival_ms: number | null }>("SELECT MIN(arrival_ms) AS arrival_ms FROM records").toArray()[0];
    if (oldest?.arrival_ms == null) {
      this.#alarmAt = null;
      await this.ctx.storage.deleteAlarm();
      return;
    }
    this.#alarmAt = oldest.arrival_ms + meta.retentionHours * HOUR_MS;
    await this.ctx.storage.setAlarm(this.#alarmAt);
  }
}
