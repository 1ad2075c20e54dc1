import { DurableObject } from "cloudflare:workers";
import { LogDirectory } from "./log-directory";
import { matchesFilter, parseFilterPattern } from "./filter-pattern/parse";
import { DAY_MS, FILTER_MAX_SCANNED, READ_MAX_BYTES, truncateMessage, utf8Length } from "./limits";
import type { Position } from "./positions";

export interface GroupInfo {
  name: string;
  creationTime: number;
  retentionInDays: number | null;
  storedBytes: number;
}

export interface StreamInfo {
  logStreamName: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
}

export type StoredEvent = {
  id: number;
  stream: string;
  ts: number;
  ingestion: number;
  message: string;
};

export interface EventRange {
  start?: number;
  end?: number;
}

/** Rows FilterLogEvents reads from SQLite at a time. */
const FILTER_PAGE = 1000;
/** What one Insights page may carry over RPC (messages are up to 256 KB each). */
const SCAN_PAGE_BYTES = 4 * 1024 * 1024;
/** Events one live-tail poll examines (CloudWatch buffers at most 5,000 per session). */
const LIVE_TAIL_SCAN = 5000;

type StreamRow = { name: string; creation_time: number; first_event: number | null; last_event: number | null; last_ingestion: number | null; stored_bytes: number };

/**
 * One log group of one tenant (named from both, so another tenant's key can
 * never reach it). Why a Durable Object per group: ingestion for a function
 * is a stream of small appends that a single writer orders cheaply, and every
 * read (GetLogEvents, FilterLogEvents, Insights) is a range over one group by
 * stream and time, which SQLite answers from its indexes without a shared
 * database's write contention across tenants. The tenant's list of groups
 * lives in its LogDirectory. Expired events are deleted by an alarm.
 */
/** Durable Object SQL binds at most 100 parameters per statement: 20 events of 5 columns. */
const ROWS_PER_INSERT = 20;
const ROW_PLACEHOLDERS = Array.from({ length: ROWS_PER_INSERT }, () => "(?, ?, ?, ?, ?)");

export class LogGroup extends DurableObject<Env> {
  /** The object of a tenant's log group. */
  static of(env: Env, tenantId: string, name: string): DurableObjectStub<LogGroup> {
    return env.LOG_GROUP.getByName(JSON.stringify([tenantId, name]));
  }

  #info: { name: string; creationTime: number; retentionInDays: number | null } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.#createSchema();
      const sql = ctx.storage.sql;
      const row = sql.exec<{ name: string; creation_time: number; retention_days: number | null }>("SELECT * FROM log_group").toArray()[0];
      this.#info = row ? { name: row.name, creationTime: row.creation_time, retentionInDays: row.retention_days } : null;
    });
  }

  #createSchema(): void {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS log_group (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, creation_time INTEGER NOT NULL, retention_days INTEGER)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS streams (name TEXT PRIMARY KEY, creation_time INTEGER NOT NULL, first_event INTEGER, last_event INTEGER, last_ingestion INTEGER, stored_bytes INTEGER NOT NULL DEFAULT 0)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, ts INTEGER NOT NULL, ingestion INTEGER NOT NULL, message TEXT NOT NULL, bytes INTEGER NOT NULL)`);
    sql.exec(`CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream, ts, id)`);
    sql.exec(`CREATE INDEX IF NOT EXISTS events_by_time ON events (ts, id)`);
  }

  /** Creates the group; false if it already exists. */
  async create(name: string, now: number): Promise<boolean> {
    if (this.#info) return false;
    this.ctx.storage.sql.exec("INSERT INTO log_group (id, name, creation_time) VALUES (1, ?, ?)", name, now);
    this.#info = { name, creationTime: now, retentionInDays: null };
    return true;
  }

  async describe(): Promise<GroupInfo | null> {
    if (!this.#info) return null;
    const bytes = this.ctx.storage.sql.exec<{ total: number | null }>("SELECT SUM(stored_bytes) AS total FROM streams").one().total ?? 0;
    return { ...this.#info, storedBytes: bytes };
  }

  /** "created", "exists", or "no-group". */
  async createStream(stream: string, now: number): Promise<"created" | "exists" | "no-group"> {
    if (!this.#info) return "no-group";
    const inserted = this.ctx.storage.sql.exec("INSERT OR IGNORE INTO streams (name, creation_time) VALUES (?, ?)", stream, now).rowsWritten;
    return inserted > 0 ? "created" : "exists";
  }

  async hasStream(stream: string): Promise<boolean> {
    return this.ctx.storage.sql.exec("SELECT 1 FROM streams WHERE name = ?", stream).toArray().length > 0;
  }

  /**
   * Appends events to a stream (messages cut to 256 KB). `autoCreate` makes
   * the group and stream if missing (the platform's own ingestion); without
   * it, both must exist. Returns false if they do not.
   */
  async append(stream: string, events: readonly { timestamp: number; message: string }[], now: number, autoCreate: { tenantId: string; name: string } | null): Promise<boolean> {
    if (!this.#info) {
      if (!autoCreate) return false;
      // Listed in the tenant's directory before it exists, so a group is never stored unlisted;
      // only the first write of a group pays for this call.
      await LogDirectory.of(this.env, autoCreate.tenantId).register(autoCreate.name);
      await this.create(autoCreate.name, now);
    }
    const sql = this.ctx.storage.sql;
    if (autoCreate) sql.exec("INSERT OR IGNORE INTO streams (name, creation_time) VALUES (?, ?)", stream, now);
    else if (!(await this.hasStream(stream))) return false;
    if (events.length === 0) return true;
    this.ctx.storage.transactionSync(() => {
      let bytes = 0;
      let first = Infinity;
      let last = -Infinity;
      // Up to ROWS_PER_INSERT events per statement (one crossing into SQLite instead of one per line).
      let values: (string | number)[] = [];
      const flush = () => {
        const rows = values.length / 5;
        if (rows > 0) sql.exec(`INSERT INTO events (stream, ts, ingestion, message, bytes) VALUES ${ROW_PLACEHOLDERS.slice(0, rows).join(", ")}`, ...values);
        values = [];
      };
      for (const event of events) {
        const message = truncateMessage(event.message);
        const size = utf8Length(message);
        bytes += size;
        first = Math.min(first, event.timestamp);
        last = Math.max(last, event.timestamp);
        values.push(stream, event.timestamp, now, message, size);
        if (values.length === ROWS_PER_INSERT * 5) flush();
      }
      flush();
      sql.exec(
        `UPDATE streams SET stored_bytes = stored_bytes + ?, first_event = MIN(COALESCE(first_event, ?), ?),
           last_event = MAX(COALESCE(last_event, ?), ?), last_ingestion = ? WHERE name = ?`,
        bytes, first, first, last, last, now, stream,
      );
    });
    await this.#scheduleExpiry();
    return true;
  }

  /** Several streams' events in one call (the log shipper's batches); false if the group is missing and not auto-created. */
  async appendBatches(
    batches: readonly { stream: string; events: readonly { timestamp: number; message: string }[] }[],
    now: number,
    autoCreate: { tenantId: string; name: string } | null,
  ): Promise<boolean> {
    for (const batch of batches) if (!(await this.append(batch.stream, batch.events, now, autoCreate))) return false;
    return true;
  }

  async streams(): Promise<StreamInfo[]> {
    return this.ctx.storage.sql.exec<StreamRow>("SELECT * FROM streams ORDER BY name").toArray().map(streamInfo);
  }

  /** Events of one stream after/before a position, in time order, within `range`. */
  async streamEvents(stream: string, range: EventRange, from: { after: Position } | { before: Position } | "head" | "tail", limit: number): Promise<StoredEvent[]> {
    const start = range.start ?? 0;
    const end = range.end ?? Number.MAX_SAFE_INTEGER;
    const cols = "id, stream, ts, ingestion, message";
    const forward = from === "head" || (from !== "tail" && "after" in from);
    if (forward) {
      const after = from === "head" ? { ts: -1, id: -1 } : "after" in from ? from.after : { ts: -1, id: -1 };
      const rows = this.ctx.storage.sql.exec<StoredEvent>(`SELECT ${cols} FROM events WHERE stream = ? AND ts >= ? AND ts < ? AND (ts, id) > (?, ?) ORDER BY ts, id LIMIT ?`, stream, start, end, after.ts, after.id, limit);
      return takeUpTo(rows, READ_MAX_BYTES).taken;
    }
    const before = from === "tail" || !("before" in from) ? { ts: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER } : from.before;
    const rows = this.ctx.storage.sql.exec<StoredEvent>(`SELECT ${cols} FROM events WHERE stream = ? AND ts >= ? AND ts < ? AND (ts, id) < (?, ?) ORDER BY ts DESC, id DESC LIMIT ?`, stream, start, end, before.ts, before.id, limit);
    return takeUpTo(rows, READ_MAX_BYTES).taken.reverse();
  }

  /**
   * FilterLogEvents: events of the chosen streams in time order after
   * `after`, matching `pattern` (already validated by the caller). Stops at
   * `limit` matches, 1 MB, or FILTER_MAX_SCANNED examined events; `resumeAt`
   * is where to continue, absent when everything in range was examined.
   */
  async filter(options: { streams?: string[]; streamPrefix?: string; range: EventRange; after?: Position; pattern: string; limit: number }): Promise<{ events: StoredEvent[]; resumeAt?: Position }> {
    const pattern = parseFilterPattern(options.pattern);
    const streamConditions: string[] = [];
    const streamParams: (string | number)[] = [];
    if (options.streams) {
      // One JSON parameter: a Durable Object's SQLite binds at most 100 per statement.
      streamConditions.push("AND stream IN (SELECT value FROM json_each(?))");
      streamParams.push(JSON.stringify(options.streams));
    } else if (options.streamPrefix) {
      streamConditions.push("AND substr(stream, 1, ?) = ?");
      streamParams.push(options.streamPrefix.length, options.streamPrefix);
    }
    const query = `SELECT id, stream, ts, ingestion, message FROM events WHERE ts >= ? AND ts < ? AND (ts, id) > (?, ?) ${streamConditions.join(" ")} ORDER BY ts, id LIMIT ?`;
    const start = options.range.start ?? 0;
    const end = options.range.end ?? Number.MAX_SAFE_INTEGER;
    const events: StoredEvent[] = [];
    let bytes = 0;
    let scanned = 0;
    let last: Position | undefined = options.after;
    while (scanned < FILTER_MAX_SCANNED) {
      const page = this.ctx.storage.sql
        .exec<StoredEvent>(query, start, end, last?.ts ?? -1, last?.id ?? -1, ...streamParams, FILTER_PAGE)
        .toArray();
      for (const event of page) {
        scanned++;
        last = { ts: event.ts, id: event.id };
        if (!matchesFilter(pattern, event.message)) continue;
        events.push(event);
        bytes += event.message.length;
        if (events.length >= options.limit || bytes >= READ_MAX_BYTES) return { events, resumeAt: last };
      }
      if (page.length < FILTER_PAGE) return { events };
    }
    return { events, resumeAt: last };
  }

  /** Insights: a page of events in [start, end) in time order after `after` (at most `limit` events or SCAN_PAGE_BYTES). */
  async scan(range: EventRange, after: Position | undefined, limit: number): Promise<{ events: StoredEvent[]; more: boolean }> {
    const rows = this.ctx.storage.sql.exec<StoredEvent>(
      "SELECT id, stream, ts, ingestion, message FROM events WHERE ts >= ? AND ts < ? AND (ts, id) > (?, ?) ORDER BY ts, id LIMIT ?",
      range.start ?? 0, range.end ?? Number.MAX_SAFE_INTEGER, after?.ts ?? -1, after?.id ?? -1, limit,
    );
    const { taken, complete } = takeUpTo(rows, SCAN_PAGE_BYTES, limit);
    return { events: taken, more: !complete };
  }

  /**
   * StartLiveTail's read: events stored after `cursor` (an event id; ids grow
   * with every append, so this is "ingested since") of the chosen streams,
   * matching `pattern` (validated by the caller). With no cursor it only
   * answers where the group ends now. Reads at most LIVE_TAIL_SCAN events or
   * SCAN_PAGE_BYTES per call and then skips to the newest event (`skipped`):
   * a live tail shows what is happening now, not a backlog.
   */
  async liveTail(cursor: number | null, options: { streams?: string[]; prefixes?: string[]; pattern: string }): Promise<{ cursor: number; events: StoredEvent[]; skipped: boolean }> {
    const sql = this.ctx.storage.sql;
    const newest = sql.exec<{ id: number | null }>("SELECT MAX(id) AS id FROM events").one().id ?? 0;
    // A dropped and re-created group numbers its events from 1 again.
    const after = cursor === null ? newest : cursor > newest ? 0 : cursor;
    if (after === newest) return { cursor: newest, events: [], skipped: false };
    const pattern = parseFilterPattern(options.pattern);
    const names = options.streams ? new Set(options.streams) : undefined;
    const rows = sql.exec<StoredEvent>("SELECT id, stream, ts, ingestion, message FROM events WHERE id > ? ORDER BY id LIMIT ?", after, LIVE_TAIL_SCAN);
    const { taken, complete } = takeUpTo(rows, SCAN_PAGE_BYTES, LIVE_TAIL_SCAN);
    const events = taken.filter(
      (e) => (!names || names.has(e.stream)) && (!options.prefixes || options.prefixes.some((p) => e.stream.startsWith(p))) && matchesFilter(pattern, e.message),
    );
    const last = taken.at(-1)?.id ?? newest;
    const skipped = !complete && last !== newest;
    return { cursor: skipped ? newest : last, events, skipped };
  }

  /** Sets (days) or removes (null) the retention policy; false if the group does not exist. */
  async setRetention(days: number | null): Promise<boolean> {
    if (!this.#info) return false;
    this.ctx.storage.sql.exec("UPDATE log_group SET retention_days = ?", days);
    this.#info = { ...this.#info, retentionInDays: days };
    await this.#scheduleExpiry();
    return true;
  }

  /** Deletes the group and everything in it; false if it did not exist. */
  async drop(): Promise<boolean> {
    if (!this.#info) return false;
    this.#info = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // The object lives on (the name may be created again): its tables must too.
    this.#createSchema();
    return true;
  }

  override async alarm(): Promise<void> {
    const days = this.#info?.retentionInDays;
    if (!days) return;
    const cutoff = Date.now() - days * DAY_MS;
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      const deleted = sql.exec("DELETE FROM events WHERE ts < ?", cutoff).rowsWritten;
      if (deleted === 0) return;
      // Streams keep their names and creation times, as CloudWatch's do; their figures follow what is left.
      sql.exec(`UPDATE streams SET
          stored_bytes = COALESCE((SELECT SUM(bytes) FROM events e WHERE e.stream = streams.name), 0),
          first_event = (SELECT MIN(ts) FROM events e WHERE e.stream = streams.name)`);
      console.log(`log-group ${this.#info?.name}: retention ${days} d deleted ${deleted} events older than ${new Date(cutoff).toISOString()}`);
    });
    await this.#scheduleExpiry();
  }

  /** The alarm fires when the oldest event expires. */
  async #scheduleExpiry(): Promise<void> {
    const days = this.#info?.retentionInDays;
    if (!days) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const oldest = this.ctx.storage.sql.exec<{ ts: number | null }>("SELECT MIN(ts) AS ts FROM events").one().ts;
    if (oldest === null) return;
    const due = oldest + days * DAY_MS + 1;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due) await this.ctx.storage.setAlarm(due);
  }
}

/**
 * Rows from a cursor until `maxBytes` of messages (at least one row, so a
 * single 256 KB event always gets through) or `maxRows`; the rest of the
 * cursor is never read. `complete` is false if rows may remain.
 */
function takeUpTo(rows: Iterator<StoredEvent>, maxBytes: number, maxRows = Infinity): { taken: StoredEvent[]; complete: boolean } {
  const taken: StoredEvent[] = [];
  let bytes = 0;
  while (taken.length < maxRows) {
    const next = rows.next();
    if (next.done === true) return { taken, complete: true };
    bytes += next.value.message.length;
    if (taken.length > 0 && bytes > maxBytes) return { taken, complete: false };
    taken.push(next.value);
  }
  return { taken, complete: false };
}

function streamInfo(row: StreamRow): StreamInfo {
  const info: StreamInfo = { logStreamName: row.name, creationTime: row.creation_time, storedBytes: row.stored_bytes };
  if (row.first_event !== null) info.firstEventTimestamp = row.first_event;
  if (row.last_event !== null) info.lastEventTimestamp = row.last_event;
  if (row.last_ingestion !== null) info.lastIngestionTime = row.last_ingestion;
  return info;
}
