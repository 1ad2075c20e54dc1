import type { Command, Query } from "./ast";
import { compareValues, evaluate, toNumber, truthy } from "./evaluate";
import { StatsAccumulator } from "./stats";
import { discoverFields, type QueryEvent, type QueryRecord } from "./fields";

export interface ResultField {
  field: string;
  value: string;
}

export interface QueryOutput {
  rows: ResultField[][];
  recordsMatched: number;
  recordsScanned: number;
  bytesScanned: number;
}

/** Results a query returns when StartQuery gives no limit. */
export const DEFAULT_RESULT_LIMIT = 10_000;
const TIME_FIELDS = new Set(["@timestamp", "@ingestionTime"]);

/**
 * Runs a parsed query over events fed in any order. Commands up to the first
 * stats / sort / limit run per event as it arrives (so only matching records
 * are kept); the rest run once over what is left in `finish()`. A query
 * without stats or sort lists the newest events first, as Insights does.
 */
export class QueryRun {
  #query: Query;
  #resultLimit: number;
  #streaming: Command[];
  #rest: Command[];
  #kept: QueryRecord[] = [];
  /** The first stats command, when it directly follows the per-event commands: fed as events arrive. */
  #stats: StatsAccumulator | null = null;
  /** Without stats or sort only the newest this-many records can reach the results. */
  #keepNewest = Infinity;
  #matched = 0;
  #scanned = 0;
  #bytes = 0;
  /** Output columns holding epoch milliseconds, shown as Insights timestamps. */
  #timeColumns = new Set(TIME_FIELDS);

  constructor(query: Query, resultLimit = DEFAULT_RESULT_LIMIT) {
    this.#query = query;
    this.#resultLimit = resultLimit;
    const split = query.commands.findIndex((c) => c.kind === "stats" || c.kind === "sort" || c.kind === "limit");
    this.#streaming = split < 0 ? query.commands : query.commands.slice(0, split);
    this.#rest = split < 0 ? [] : query.commands.slice(split);
    const next = this.#rest[0];
    if (next?.kind === "stats") this.#stats = new StatsAccumulator(next);
    else if (!query.commands.some((c) => c.kind === "stats" || c.kind === "sort")) this.#keepNewest = next?.kind === "limit" ? next.count : resultLimit;
  }

  add(event: QueryEvent): void {
    this.#scanned++;
    this.#bytes += event.message.length;
    let record: QueryRecord | undefined = discoverFields(event);
    for (const command of this.#streaming) {
      record = applyToRecord(command, record);
      if (record === undefined) return;
    }
    this.#matched++;
    if (this.#stats) {
      this.#stats.add(record);
      return;
    }
    this.#kept.push(record);
    if (this.#kept.length >= 2 * this.#keepNewest) this.#kept = newestFirst(this.#kept).slice(0, this.#keepNewest);
  }

  finish(): QueryOutput {
    let rows = this.#kept;
    if (Number.isFinite(this.#keepNewest)) rows = newestFirst(rows);
    let columns: string[] | undefined;
    for (const command of this.#rest) {
      if (command.kind === "stats") {
        for (const by of command.by) if (by.expr.kind === "call" && by.expr.name === "bin") this.#timeColumns.add(by.label);
        if (this.#stats) rows = this.#stats.rows();
        else {
          const stats = new StatsAccumulator(command);
          for (const row of rows) stats.add(row);
          rows = stats.rows();
        }
        columns = [...command.by.map((b) => b.label), ...command.aggregates.map((a) => a.label)];
      } else if (command.kind === "sort") {
        rows = rows.sort((a, b) => {
          for (const key of command.keys) {
            const order = compareValues(evaluate(key.expr, a), evaluate(key.expr, b)) ?? 0;
            if (order !== 0) return key.descending ? -order : order;
          }
          return 0;
        });
      } else if (command.kind === "limit") {
        rows = rows.slice(0, command.count);
      } else {
        rows = rows.flatMap((r) => applyToRecord(command, r) ?? []);
      }
    }
    columns = this.#columns(columns);
    return {
      rows: rows.slice(0, this.#resultLimit).map((row) => this.#format(row, columns)),
      recordsMatched: this.#matched,
      recordsScanned: this.#scanned,
      bytesScanned: this.#bytes,
    };
  }

  #columns(afterStats: string[] | undefined): string[] | undefined {
    const display = this.#query.commands.filter((c) => c.kind === "display").at(-1);
    if (display?.kind === "display") return display.fields.map((f) => f.label);
    const statsAt = this.#query.commands.findIndex((c) => c.kind === "stats");
    const fieldLabels = this.#query.commands
      .filter((c, i) => c.kind === "fields" && (statsAt < 0 || i > statsAt))
      .flatMap((c) => (c.kind === "fields" ? c.fields.map((f) => f.label) : []));
    if (afterStats) return [...afterStats, ...fieldLabels.filter((l) => !afterStats.includes(l))];
    return fieldLabels.length > 0 ? [...new Set(fieldLabels)] : undefined;
  }

  #format(row: QueryRecord, columns: string[] | undefined): ResultField[] {
    const fields: ResultField[] = [];
    for (const column of columns ?? [...row.keys()].filter((k) => k !== "@ingestionTime")) {
      const value = row.get(column);
      if (value === undefined || value === null) continue;
      fields.push({ field: column, value: this.#timeColumns.has(column) && typeof value === "number" ? insightsTime(value) : String(value) });
    }
    return fields;
  }
}

function applyToRecord(command: Command, record: QueryRecord): QueryRecord | undefined {
  switch (command.kind) {
    case "filter":
      return truthy(evaluate(command.expr, record)) ? record : undefined;
    case "fields":
    case "display":
      for (const f of command.fields) if (f.expr.kind !== "field" || f.label !== f.expr.name) record.set(f.label, evaluate(f.expr, record));
      return record;
    case "parse": {
      const value = evaluate(command.source, record);
      if (value === undefined || value === null) return record;
      const match = command.pattern.exec(String(value));
      if (match === null) return record;
      command.names.forEach((name, i) => {
        const captured = match.groups?.[name] ?? match[i + 1];
        if (captured !== undefined) record.set(name, captured);
      });
      return record;
    }
    default:
      return record;
  }
}

function newestFirst(records: QueryRecord[]): QueryRecord[] {
  return records.sort((a, b) => (toNumber(b.get("@timestamp")) ?? 0) - (toNumber(a.get("@timestamp")) ?? 0));
}

/** `2026-12-04 05:00:01.000`: how Insights prints @timestamp and bin(…) values. */
export function insightsTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}
