import { DurableObject } from "cloudflare:workers";
import type { QueryOutput, ResultField } from "./insights/run";

export type QueryStatus = "Scheduled" | "Running" | "Complete" | "Failed" | "Cancelled" | "Timeout";

export interface StoredQuery {
  queryId: string;
  status: QueryStatus;
  queryString: string;
  logGroups: string[];
  createdAt: number;
  output: QueryOutput | null;
}

/** Insights keeps a query's results for 7 days. */
const QUERY_RESULTS_KEPT_MS = 7 * 86_400_000;

/**
 * One per tenant: the names of its log groups (each group's data lives in
 * its own LogGroup object; listing a tenant's groups by prefix or pattern
 * needs one ordered index of names, and a tenant's list is small) and its
 * Logs Insights queries with their results.
 */
export class LogDirectory extends DurableObject<Env> {
  /** A tenant's log directory. */
  static of(env: Env, tenantId: string): DurableObjectStub<LogDirectory> {
    return env.LOG_DIRECTORY.getByName(tenantId);
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY)");
      ctx.storage.sql.exec(
        `CREATE TABLE IF NOT EXISTS queries (id TEXT PRIMARY KEY, status TEXT NOT NULL, query_string TEXT NOT NULL,
           log_groups TEXT NOT NULL, created_at INTEGER NOT NULL, statistics TEXT)`,
      );
      // A row per result row: 10,000 rows of results could pass SQLite's 2 MB limit for one value.
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS query_rows (query_id TEXT NOT NULL, position INTEGER NOT NULL, row TEXT NOT NULL, PRIMARY KEY (query_id, position))");
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS live_tails (session_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
    });
  }

  /**
   * The tenant's open live tail sessions, as leases a session renews while it
   * streams (a session whose Worker died without closing expires by itself).
   * False if `max` are open already.
   */
  async openLiveTail(sessionId: string, now: number, leaseMs: number, max: number): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM live_tails WHERE expires_at <= ?", now);
    if (sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM live_tails").one().n >= max) return false;
    sql.exec("INSERT OR REPLACE INTO live_tails (session_id, expires_at) VALUES (?, ?)", sessionId, now + leaseMs);
    return true;
  }

  async renewLiveTail(sessionId: string, now: number, leaseMs: number): Promise<void> {
    this.ctx.storage.sql.exec("UPDATE live_tails SET expires_at = ? WHERE session_id = ?", now + leaseMs, sessionId);
  }

  async closeLiveTail(sessionId: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM live_tails WHERE session_id = ?", sessionId);
  }

  async register(name: string): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO groups (name) VALUES (?)", name);
  }

  async unregister(name: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM groups WHERE name = ?", name);
  }

  /**
   * Group names in order after `after`: starting with `prefix`, or
   * containing `pattern` (case-insensitive, as DescribeLogGroups'
   * logGroupNamePattern), or exactly those in `names`.
   */
  async list(options: { prefix?: string; pattern?: string; names?: string[]; after?: string; limit: number }): Promise<string[]> {
    const where = ["name > ?"];
    const params: (string | number)[] = [options.after ?? ""];
    if (options.prefix !== undefined) {
      where.push("substr(name, 1, ?) = ?");
      params.push(options.prefix.length, options.prefix);
    }
    if (options.pattern !== undefined) {
      where.push("instr(lower(name), lower(?)) > 0");
      params.push(options.pattern);
    }
    if (options.names !== undefined) {
      where.push("name IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(options.names));
    }
    return this.ctx.storage.sql
      .exec<{ name: string }>(`SELECT name FROM groups WHERE ${where.join(" AND ")} ORDER BY name LIMIT ?`, ...params, options.limit)
      .toArray()
      .map((r) => r.name);
  }

  async startQuery(queryId: string, queryString: string, logGroups: string[], now: number): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM query_rows WHERE query_id IN (SELECT id FROM queries WHERE created_at < ?)", now - QUERY_RESULTS_KEPT_MS);
    sql.exec("DELETE FROM queries WHERE created_at < ?", now - QUERY_RESULTS_KEPT_MS);
    sql.exec("INSERT INTO queries (id, status, query_string, log_groups, created_at) VALUES (?, 'Running', ?, ?, ?)", queryId, queryString, JSON.stringify(logGroups), now);
  }

  /** Records the outcome unless the query was stopped meanwhile. */
  async finishQuery(queryId: string, status: "Complete" | "Failed", output: QueryOutput | null): Promise<void> {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      const { rows = [], ...statistics } = output ?? {};
      const updated = sql.exec("UPDATE queries SET status = ?, statistics = ? WHERE id = ? AND status = 'Running'", status, output ? JSON.stringify(statistics) : null, queryId).rowsWritten;
      if (updated === 0) return;
      rows.forEach((row, i) => sql.exec("INSERT INTO query_rows (query_id, position, row) VALUES (?, ?, ?)", queryId, i, JSON.stringify(row)));
    });
  }

  /** True if the query was running and is now cancelled. */
  async stopQuery(queryId: string): Promise<boolean> {
    return this.ctx.storage.sql.exec("UPDATE queries SET status = 'Cancelled' WHERE id = ? AND status = 'Running'", queryId).rowsWritten > 0;
  }

  async query(queryId: string): Promise<StoredQuery | null> {
    const row = this.ctx.storage.sql
      .exec<{ id: string; status: QueryStatus; query_string: string; log_groups: string; created_at: number; statistics: string | null }>("SELECT * FROM queries WHERE id = ?", queryId)
      .toArray()[0];
    if (!row) return null;
    const rows = this.ctx.storage.sql
      .exec<{ row: string }>("SELECT row FROM query_rows WHERE query_id = ? ORDER BY position", queryId)
      .toArray()
      .map((r) => JSON.parse(r.row) as ResultField[]);
    return {
      queryId: row.id,
      status: row.status,
      queryString: row.query_string,
      logGroups: JSON.parse(row.log_groups) as string[],
      createdAt: row.created_at,
      output: row.statistics === null ? null : { ...(JSON.parse(row.statistics) as Omit<QueryOutput, "rows">), rows },
    };
  }
}
