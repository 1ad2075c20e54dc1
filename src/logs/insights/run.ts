import type { Aggregate, Command, Query } from "./ast";
import { compareValues, evaluate, toNumber, truthy } from "./evaluate";
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
  }

  add(event: QueryEvent): void {
    this.#scanned++;
    this.#bytes += event.message.length;
    let record: QueryRecord | undefined = discoverFields(event);
    for (const command of this.#streaming) {
      record = applyToRecord(command, record);
      if (record === undefined) return;
    }
    this.#kept.push(record);
  }

  finish(): QueryOutput {
    const recordsMatched = this.#kept.length;
    let rows = this.#kept;
    const hasStats = this.#query.commands.some((c) => c.kind === "stats");
    if (!hasStats && !this.#query.commands.some((c) => c.kind === "sort")) {
      rows = rows.sort((a, b) => (toNumber(b.get("@timestamp")) ?? 0) - (toNumber(a.get("@timestamp")) ?? 0));
    }
    let columns: string[] | undefined;
    for (const command of this.#rest) {
      if (command.kind === "stats") {
        rows = this.#stats(command, rows);
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
      recordsMatched,
      recordsScanned: this.#scanned,
      bytesScanned: this.#bytes,
    };
  }

  #stats(command: Extract<Command, { kind: "stats" }>, records: QueryRecord[]): QueryRecord[] {
    for (const by of command.by) if (by.expr.kind === "call" && by.expr.name === "bin") this.#timeColumns.add(by.label);
    const groups = new Map<string, { keys: unknown[]; states: AggregateState[] }>();
    for (const record of records) {
      const keys = command.by.map((b) => evaluate(b.expr, record));
      const id = JSON.stringify(keys);
      let group = groups.get(id);
      if (group === undefined) {
        group = { keys, states: command.aggregates.map(() => newState()) };
        groups.set(id, group);
      }
      command.aggregates.forEach((aggregate, i) => {
        const state = group.states[i];
        if (state) accumulate(state, aggregate, record);
      });
    }
    const rows = [...groups.values()].map((group) => {
      const row: QueryRecord = new Map();
      command.by.forEach((b, i) => row.set(b.label, group.keys[i]));
      command.aggregates.forEach((aggregate, i) => {
        const state = group.states[i];
        if (state) row.set(aggregate.label, result(state, aggregate));
      });
      return row;
    });
    // Groups come out ordered by their keys (bin(…) periods oldest first).
    return rows.sort((a, b) => {
      for (const by of command.by) {
        const order = compareValues(a.get(by.label), b.get(by.label)) ?? 0;
        if (order !== 0) return order;
      }
      return 0;
    });
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

interface AggregateState {
  count: number;
  /** How many values were numbers (sum, avg, min, max read only those). */
  numbers: number;
  sum: number;
  min: number;
  max: number;
  values: number[];
  distinct: Set<string>;
}

function newState(): AggregateState {
  return { count: 0, numbers: 0, sum: 0, min: Infinity, max: -Infinity, values: [], distinct: new Set() };
}

function accumulate(state: AggregateState, aggregate: Aggregate, record: QueryRecord): void {
  if (aggregate.arg === null) {
    state.count++;
    return;
  }
  const value = evaluate(aggregate.arg, record);
  if (value === undefined || value === null) return;
  state.count++;
  if (aggregate.name === "count_distinct") state.distinct.add(String(value));
  const n = toNumber(value);
  if (n === undefined) return;
  state.numbers++;
  state.sum += n;
  state.min = Math.min(state.min, n);
  state.max = Math.max(state.max, n);
  if (aggregate.name === "pct") state.values.push(n);
}

function result(state: AggregateState, aggregate: Aggregate): number | undefined {
  switch (aggregate.name) {
    case "count":
      return state.count;
    case "count_distinct":
      return state.distinct.size;
    case "sum":
      return state.numbers === 0 ? undefined : state.sum;
    case "min":
      return Number.isFinite(state.min) ? state.min : undefined;
    case "max":
      return Number.isFinite(state.max) ? state.max : undefined;
    case "avg":
      return state.numbers === 0 ? undefined : state.sum / state.numbers;
    case "pct": {
      // Nearest rank: the smallest value with at least p % of the values at or below it (exact, no sketch).
      if (state.values.length === 0) return undefined;
      const sorted = state.values.sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil((aggregate.percentile / 100) * sorted.length));
      return sorted[rank - 1];
    }
  }
}

/** `2026-12-04 05:00:01.000`: how Insights prints @timestamp and bin(…) values. */
export function insightsTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}
