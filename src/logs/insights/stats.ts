import type { Aggregate, Command } from "./ast";
import { compareValues, evaluate, toNumber } from "./evaluate";
import type { QueryRecord } from "./fields";

type StatsCommand = Extract<Command, { kind: "stats" }>;

/**
 * The `stats` command as an accumulator: records go in one at a time (so a
 * query over many events keeps only its groups, and the values `pct` needs),
 * one row per group comes out, ordered by the group keys (bin(…) periods
 * oldest first).
 */
export class StatsAccumulator {
  #command: StatsCommand;
  #groups = new Map<string, { keys: unknown[]; states: AggregateState[] }>();

  constructor(command: StatsCommand) {
    this.#command = command;
  }

  add(record: QueryRecord): void {
    const keys = this.#command.by.map((b) => evaluate(b.expr, record));
    const id = JSON.stringify(keys);
    let group = this.#groups.get(id);
    if (group === undefined) {
      group = { keys, states: this.#command.aggregates.map(() => newState()) };
      this.#groups.set(id, group);
    }
    const states = group.states;
    this.#command.aggregates.forEach((aggregate, i) => {
      const state = states[i];
      if (state) accumulate(state, aggregate, record);
    });
  }

  rows(): QueryRecord[] {
    const command = this.#command;
    const rows = [...this.#groups.values()].map((group) => {
      const row: QueryRecord = new Map();
      command.by.forEach((b, i) => row.set(b.label, group.keys[i]));
      command.aggregates.forEach((aggregate, i) => {
        const state = group.states[i];
        if (state) row.set(aggregate.label, result(state, aggregate));
      });
      return row;
    });
    return rows.sort((a, b) => {
      for (const by of command.by) {
        const order = compareValues(a.get(by.label), b.get(by.label)) ?? 0;
        if (order !== 0) return order;
      }
      return 0;
    });
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

