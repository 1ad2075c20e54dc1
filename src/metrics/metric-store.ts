import { DurableObject } from "cloudflare:workers";
import type { Aggregate } from "./aggregate";
import { aggregateOf, emptyAggregate, mergeInto } from "./aggregate";
import type { Dimensions, Unit } from "./lambda-metrics";
import type { StoredBucket } from "./periods";
import { bucketStart, MINUTE_RESOLUTION_S, MINUTE_RETENTION_S, SECOND_RESOLUTION_S, SECOND_RETENTION_S } from "./periods";

/** One series' aggregate for one second, as the recorder sends it. */
export interface BucketWrite {
  namespace: string;
  metric: string;
  dimensions: Dimensions;
  unit: Unit;
  second: number;
  /** A gauge's second holds one value (the sum of what was recorded), and its minute aggregates those values. */
  gauge: boolean;
  agg: Aggregate;
  /** A gauge's companion series: its value plus a level (see Sample.derived in ./lambda-metrics.ts). */
  derived?: { metric: string; level: number };
}

export interface SeriesInfo {
  namespace: string;
  metric: string;
  dimensions: Dimensions;
  unit: Unit;
  /** Epoch seconds of the last sample. */
  lastSeen: number;
}

export interface SeriesFilter {
  namespace?: string;
  metric?: string;
  /** Every named dimension must be present, with this value when one is given. */
  dimensions: ReadonlyArray<{ name: string; value?: string }>;
  /** Only series with a sample at or after this epoch second. */
  seenSince?: number;
}

/** How often expired buckets are deleted. */
const PRUNE_INTERVAL_MS = 3600_000;

type PointRow = { bucket: number; count: number; sum: number; min: number; max: number; histogram: string };
type SeriesRow = { id: number; namespace: string; metric: string; dims: string; unit: string; gauge: number; last_seen: number };

/**
 * The metrics of one tenant (named by its id, so no other tenant's request
 * can reach it): a row per series (namespace, metric, dimension set) and
 * its 1-second and 1-minute buckets. Why a Durable Object per tenant: writes
 * arrive as the recorder's batched aggregates (a handful per second per
 * busy isolate), and every read is a time range of one series, which SQLite
 * answers from the primary key; Workers Analytics Engine cannot be queried
 * from inside the Worker in local development, and D1 would put every
 * tenant's writes on one database. An alarm deletes expired buckets.
 */
export class MetricStore extends DurableObject<Env> {
  /**
   * Series id and last_seen by `namespace\0metric\0dims`, as stored: a
   * batch's writes skip the series upsert unless the series is new to this
   * object or its last_seen moves (most batches repeat the same few series).
   */
  #series = new Map<string, { id: number; lastSeen: number }>();
  /** An alarm is known to be set (set by record(), cleared when the alarm runs). */
  #alarmSet = false;

  static of(env: Env, tenantId: string): DurableObjectStub<MetricStore> {
    return env.METRIC_STORE.getByName(tenantId);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, metric TEXT NOT NULL, dims TEXT NOT NULL,
        unit TEXT NOT NULL, gauge INTEGER NOT NULL, last_seen INTEGER NOT NULL, UNIQUE (namespace, metric, dims))`);
      sql.exec(`CREATE TABLE IF NOT EXISTS points (series INTEGER NOT NULL, resolution INTEGER NOT NULL, bucket INTEGER NOT NULL,
        count REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, histogram TEXT NOT NULL,
        PRIMARY KEY (series, resolution, bucket)) WITHOUT ROWID`);
    });
  }

  /** Merges the recorder's aggregates into their second and minute buckets (one transaction). */
  async record(writes: readonly BucketWrite[], nowMs: number): Promise<void> {
    const nowS = Math.floor(nowMs / 1000);
    try {
      this.#recordAll(writes, nowS);
    } catch (error) {
      // Rolled back: series ids learned in it may not exist.
      this.#series.clear();
      throw error;
    }
    if (this.#alarmSet) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(nowMs + PRUNE_INTERVAL_MS);
    this.#alarmSet = true;
  }

  #recordAll(writes: readonly BucketWrite[], nowS: number): void {
    this.ctx.storage.transactionSync(() => {
      for (const write of writes) {
        if (write.agg.count === 0 || write.second < nowS - MINUTE_RETENTION_S) continue;
        const series = this.#seriesId(write);
        const second = bucketStart(write.second, SECOND_RESOLUTION_S);
        const minute = bucketStart(write.second, MINUTE_RESOLUTION_S);
        if (write.gauge) {
          const before = this.#point(series, SECOND_RESOLUTION_S, second)?.sum ?? 0;
          this.#store(series, SECOND_RESOLUTION_S, second, aggregateOf([before + write.agg.sum]));
          this.#store(series, MINUTE_RESOLUTION_S, minute, this.#secondsOfMinute(series, minute));
          if (write.derived) this.#storeDerived(write, write.derived, before, second, minute);
        } else {
          if (write.second >= nowS - SECOND_RETENTION_S) this.#merge(series, SECOND_RESOLUTION_S, second, write.agg);
          this.#merge(series, MINUTE_RESOLUTION_S, minute, write.agg);
        }
      }
    });
  }

  /** A series' buckets at `resolution` from `fromS` (inclusive) to `toS` (exclusive); null if the series was never recorded. */
  async read(query: { namespace: string; metric: string; dimensions: Dimensions; resolution: number; fromS: number; toS: number }): Promise<{ unit: Unit; buckets: StoredBucket[] } | null> {
    const row = this.ctx.storage.sql
      .exec<SeriesRow>("SELECT * FROM series WHERE namespace = ? AND metric = ? AND dims = ?", query.namespace, query.metric, JSON.stringify(query.dimensions))
      .toArray()[0];
    if (!row) return null;
    const from = bucketStart(query.fromS, query.resolution);
    const points = this.ctx.storage.sql
      .exec<PointRow>(
        "SELECT bucket, count, sum, min, max, histogram FROM points WHERE series = ? AND resolution = ? AND bucket >= ? AND bucket < ? ORDER BY bucket",
        row.id,
        query.resolution,
        from,
        query.toS,
      )
      .toArray();
    return { unit: row.unit as Unit, buckets: points.map((p) => ({ start: p.bucket, agg: aggregateOfRow(p) })) };
  }

  /** Several series at once (the console's charts): one round trip. */
  async readMany(queries: ReadonlyArray<Parameters<MetricStore["read"]>[0]>): Promise<Array<{ unit: Unit; buckets: StoredBucket[] } | null>> {
    return Promise.all(queries.map((query) => this.read(query)));
  }

  /** The series matching the filter, ordered by namespace, metric and dimensions. */
  async list(filter: SeriesFilter): Promise<SeriesInfo[]> {
    const rows = this.ctx.storage.sql
      .exec<SeriesRow>(
        "SELECT * FROM series WHERE (?1 IS NULL OR namespace = ?1) AND (?2 IS NULL OR metric = ?2) AND last_seen >= ?3 ORDER BY namespace, metric, dims",
        filter.namespace ?? null,
        filter.metric ?? null,
        filter.seenSince ?? 0,
      )
      .toArray();
    return rows
      .map((row) => ({ namespace: row.namespace, metric: row.metric, dimensions: JSON.parse(row.dims) as Dimensions, unit: row.unit as Unit, lastSeen: row.last_seen }))
      .filter((series) => filter.dimensions.every((want) => series.dimensions.some(([name, value]) => name === want.name && (want.value === undefined || value === want.value))));
  }

  override async alarm(): Promise<void> {
    this.#alarmSet = false;
    this.#series.clear();
    const nowS = Math.floor(Date.now() / 1000);
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM points WHERE resolution = ? AND bucket < ?", SECOND_RESOLUTION_S, nowS - SECOND_RETENTION_S);
    sql.exec("DELETE FROM points WHERE resolution = ? AND bucket < ?", MINUTE_RESOLUTION_S, nowS - MINUTE_RETENTION_S);
    sql.exec("DELETE FROM series WHERE last_seen < ?", nowS - MINUTE_RETENTION_S);
    const left = sql.exec<{ n: number }>("SELECT count(*) AS n FROM series").one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS);
  }

  #seriesId(write: BucketWrite): number {
    const sql = this.ctx.storage.sql;
    const dims = JSON.stringify(write.dimensions);
    const key = `${write.namespace}\u0000${write.metric}\u0000${dims}`;
    const known = this.#series.get(key);
    if (known && known.lastSeen >= write.second) return known.id;
    const row = sql
      .exec<{ id: number }>(
        `INSERT INTO series (namespace, metric, dims, unit, gauge, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace, metric, dims) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen) RETURNING id`,
        write.namespace,
        write.metric,
        dims,
        write.unit,
        write.gauge ? 1 : 0,
        write.second,
      )
      .one();
    this.#series.set(key, { id: row.id, lastSeen: Math.max(known?.lastSeen ?? 0, write.second) });
    return row.id;
  }

  /**
   * The companion of a gauge's second: the gauge's new value plus the
   * highest level written for that second. The level already in it is what
   * the companion held above the gauge before this write (levels are whole
   * numbers, so the rounding only drops float noise).
   */
  #storeDerived(write: BucketWrite, derived: { metric: string; level: number }, gaugeBefore: number, second: number, minute: number): void {
    const series = this.#seriesId({ ...write, metric: derived.metric });
    const previous = this.#point(series, SECOND_RESOLUTION_S, second);
    const level = Math.max(derived.level, previous ? Math.round(previous.sum - gaugeBefore) : 0);
    this.#store(series, SECOND_RESOLUTION_S, second, aggregateOf([gaugeBefore + write.agg.sum + level]));
    this.#store(series, MINUTE_RESOLUTION_S, minute, this.#secondsOfMinute(series, minute));
  }

  #point(series: number, resolution: number, bucket: number): Aggregate | undefined {
    const row = this.ctx.storage.sql
      .exec<PointRow>("SELECT bucket, count, sum, min, max, histogram FROM points WHERE series = ? AND resolution = ? AND bucket = ?", series, resolution, bucket)
      .toArray()[0];
    return row ? aggregateOfRow(row) : undefined;
  }

  #merge(series: number, resolution: number, bucket: number, agg: Aggregate): void {
    const merged = this.#point(series, resolution, bucket) ?? emptyAggregate();
    mergeInto(merged, agg);
    this.#store(series, resolution, bucket, merged);
  }

  #secondsOfMinute(series: number, minute: number): Aggregate {
    const rows = this.ctx.storage.sql
      .exec<PointRow>(
        "SELECT bucket, count, sum, min, max, histogram FROM points WHERE series = ? AND resolution = ? AND bucket >= ? AND bucket < ?",
        series,
        SECOND_RESOLUTION_S,
        minute,
        minute + MINUTE_RESOLUTION_S,
      )
      .toArray();
    return aggregateOf(rows.map((row) => row.sum));
  }

  #store(series: number, resolution: number, bucket: number, agg: Aggregate): void {
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO points (series, resolution, bucket, count, sum, min, max, histogram) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      series,
      resolution,
      bucket,
      agg.count,
      agg.sum,
      agg.min,
      agg.max,
      JSON.stringify(agg.histogram),
    );
  }
}

function aggregateOfRow(row: PointRow): Aggregate {
  return { count: row.count, sum: row.sum, min: row.min, max: row.max, histogram: JSON.parse(row.histogram) as Record<string, number> };
}
