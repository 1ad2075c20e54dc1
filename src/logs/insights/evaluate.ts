import type { Expr } from "./ast";
import type { QueryRecord } from "./fields";

/**
 * Evaluates an expression over one record. Insights is loosely typed: a
 * missing field is null and makes comparisons false; numbers and numeric
 * strings compare as numbers, anything else as strings.
 */
export function evaluate(expr: Expr, record: QueryRecord): unknown {
  // After `stats`, rows hold columns by label (`count(*)`, `bin(1m)`): an expression may name one.
  if (expr.kind !== "literal" && record.has(expr.text)) return record.get(expr.text);
  switch (expr.kind) {
    case "field":
      return record.get(expr.name);
    case "literal":
      return expr.value;
    case "regex":
      return expr.re;
    case "not":
      return !truthy(evaluate(expr.arg, record));
    case "negate": {
      const n = toNumber(evaluate(expr.arg, record));
      return n === undefined ? undefined : -n;
    }
    case "in": {
      const value = evaluate(expr.arg, record);
      if (value === undefined || value === null) return false;
      const found = expr.list.some((e) => equals(value, evaluate(e, record)));
      return expr.negated ? !found : found;
    }
    case "call":
      return call(expr.name, expr.args, record);
    case "binary":
      return binary(expr, record);
  }
}

function binary(expr: Extract<Expr, { kind: "binary" }>, record: QueryRecord): unknown {
  if (expr.op === "and") return truthy(evaluate(expr.left, record)) && truthy(evaluate(expr.right, record));
  if (expr.op === "or") return truthy(evaluate(expr.left, record)) || truthy(evaluate(expr.right, record));
  const left = evaluate(expr.left, record);
  const right = evaluate(expr.right, record);
  if (left === undefined || left === null || right === undefined) return expr.op === "+" || expr.op === "-" || expr.op === "*" || expr.op === "/" || expr.op === "%" ? undefined : false;
  switch (expr.op) {
    case "like":
    case "not like":
    case "=~": {
      const text = String(left);
      const found = right instanceof RegExp ? right.test(text) : text.includes(String(right));
      return expr.op === "not like" ? !found : found;
    }
    case "=":
      return equals(left, right);
    case "!=":
      return !equals(left, right);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const order = compareValues(left, right);
      if (order === undefined) return false;
      return expr.op === "<" ? order < 0 : expr.op === "<=" ? order <= 0 : expr.op === ">" ? order > 0 : order >= 0;
    }
    default: {
      const a = toNumber(left);
      const b = toNumber(right);
      if (a === undefined || b === undefined) return undefined;
      const result = expr.op === "+" ? a + b : expr.op === "-" ? a - b : expr.op === "*" ? a * b : expr.op === "/" ? a / b : a % b;
      return Number.isFinite(result) ? result : undefined;
    }
  }
}

function call(name: string, args: Expr[], record: QueryRecord): unknown {
  const values = args.map((a) => evaluate(a, record));
  const first = values[0];
  switch (name) {
    case "ispresent":
      return first !== undefined && first !== null;
    case "isempty":
      return first === undefined || first === null || first === "";
    case "isblank":
      return first === undefined || first === null || String(first).trim() === "";
    case "tolower":
      return first === undefined || first === null ? undefined : String(first).toLowerCase();
    case "toupper":
      return first === undefined || first === null ? undefined : String(first).toUpperCase();
    case "strlen":
      return first === undefined || first === null ? undefined : String(first).length;
    case "concat":
      return values.filter((v) => v !== undefined && v !== null).map(String).join("");
    case "coalesce":
      return values.find((v) => v !== undefined && v !== null);
    case "bin": {
      // bin(period) groups @timestamp into periods (returns the period's start).
      const period = toNumber(first);
      const at = toNumber(record.get("@timestamp"));
      if (period === undefined || period <= 0 || at === undefined) return undefined;
      return Math.floor(at / period) * period;
    }
    default: {
      const n = toNumber(first);
      if (n === undefined) return undefined;
      return name === "abs" ? Math.abs(n) : name === "floor" ? Math.floor(n) : Math.ceil(n);
    }
  }
}

export function truthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== 0 && value !== "";
}

export function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function equals(a: unknown, b: unknown): boolean {
  if (b instanceof RegExp) return b.test(String(a));
  return compareValues(a, b) === 0;
}

/** Numbers (and numeric strings) by value, otherwise as strings; undefined when either is missing. */
export function compareValues(a: unknown, b: unknown): number | undefined {
  if (a === undefined || a === null || b === undefined || b === null) return undefined;
  const x = toNumber(a);
  const y = toNumber(b);
  if (x !== undefined && y !== undefined) return x - y;
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}
