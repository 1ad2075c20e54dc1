/**
 * Lambda's event filtering (FilterCriteria) for SQS messages and Kinesis
 * records: patterns are
 * JSON objects; filters are OR-ed, keys in one pattern AND-ed, values in one
 * array OR-ed, `$or` ORs sub-patterns. Patterns name fields of the SQS record:
 * `body` (an object under it matches fields of a JSON body, and a non-JSON
 * body never matches it; an array matches the raw body string),
 * `attributes` and `messageAttributes` (e.g. `{"messageAttributes":
 * {"kind": {"stringValue": ["new"]}}}`). Rules: exact values (strings,
 * numbers, booleans, null), `prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard` (`*`), `anything-but` (values or a list), `numeric` comparisons
 * and ranges, `exists`. Not supported (refused as invalid, never ignored):
 * `cidr`, `anything-but` with nested prefix/suffix/wildcard. Kinesis
 * patterns name only `data`, the record's decoded data, matched as `body` is
 * for SQS. Pure.
 */
import { invalidParameter } from "../errors";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rule = (value: Json | undefined) => boolean;
/** A compiled pattern: each key path to the rules any of which must hold there. */
type Matcher = (message: FilterableMessage) => boolean;

/** The fields of an SQS record (`body`, attributes) or a Kinesis record (`data`, decoded as UTF-8) a pattern may name. */
export interface FilterableMessage {
  body?: string;
  data?: string;
  attributes?: Record<string, string>;
  messageAttributes?: Record<string, unknown>;
}

const RECORD_KEYS = new Set(["attributes", "messageAttributes"]);

export const invalidFilterPattern = () => invalidParameter("Invalid filter pattern definition.");

const NUMERIC_OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  "=": (a, b) => a === b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

export type FilterSource = "sqs" | "kinesis";

/** Compiles every pattern (throws InvalidParameterValueException on a bad one); the result matches when any filter matches. */
export function compileFilters(patterns: string[], source: FilterSource = "sqs"): (message: FilterableMessage) => boolean {
  if (patterns.length === 0) return () => true;
  const matchers = patterns.map((p) => compilePattern(p, source));
  return (message) => matchers.some((m) => m(message));
}

function compilePattern(text: string, source: FilterSource): Matcher {
  let pattern: Json;
  try {
    pattern = JSON.parse(text) as Json;
  } catch {
    throw invalidFilterPattern();
  }
  if (!isObject(pattern) || Object.keys(pattern).length === 0) throw invalidFilterPattern();
  const checks = Object.entries(pattern).map(([key, sub]): Matcher => {
    if (source === "kinesis") {
      if (key !== "data") throw invalidFilterPattern();
      return compileBody(sub, "data");
    }
    if (key === "body") return compileBody(sub, "body");
    if (!RECORD_KEYS.has(key) || !isObject(sub)) throw invalidFilterPattern();
    const inner = compileObject({ [key]: sub });
    return (message) => inner({ [key]: toJson(message[key as "attributes" | "messageAttributes"] ?? {}) });
  });
  return (message) => checks.every((check) => check(message));
}

/** A pattern on the payload (`body` or `data`): an array matches the raw text, an object fields of a JSON payload. */
function compileBody(body: Json, field: "body" | "data"): Matcher {
  if (Array.isArray(body)) {
    if (body.length === 0) throw invalidFilterPattern();
    const rules = body.map(compileRule);
    return (message) => rules.some((r) => r(message[field]));
  }
  if (!isObject(body)) throw invalidFilterPattern();
  const matchBody = compileObject(body);
  return (message) => {
    let parsed: Json;
    try {
      parsed = JSON.parse(message[field] ?? "") as Json;
    } catch {
      return false;
    }
    return isObject(parsed) && matchBody(parsed);
  };
}

/** Record fields are plain JSON already (strings and objects of strings); this only narrows the type. */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** Every key of the pattern must hold: nested objects descend, arrays are rule lists. */
function compileObject(pattern: { [key: string]: Json }): (value: { [key: string]: Json }) => boolean {
  const checks = Object.entries(pattern).map(([key, sub]): ((value: { [key: string]: Json }) => boolean) => {
    if (key === "$or") {
      if (!Array.isArray(sub) || sub.length < 2) throw invalidFilterPattern();
      const alternatives = sub.map((alt) => {
        if (!isObject(alt)) throw invalidFilterPattern();
        return compileObject(alt);
      });
      return (value) => alternatives.some((alt) => alt(value));
    }
    if (Array.isArray(sub)) {
      if (sub.length === 0) throw invalidFilterPattern();
      const rules = sub.map(compileRule);
      return (value) => {
        const field = value[key];
        // An array field matches when any of its elements matches (EventBridge semantics).
        if (Array.isArray(field)) return field.length === 0 ? rules.some((r) => r(undefined)) : field.some((el) => rules.some((r) => r(el)));
        return rules.some((r) => r(field));
      };
    }
    if (isObject(sub)) {
      const inner = compileObject(sub);
      return (value) => {
        const field = value[key];
        return isObject(field) && inner(field);
      };
    }
    throw invalidFilterPattern();
  });
  return (value) => checks.every((check) => check(value));
}

function compileRule(rule: Json): Rule {
  if (rule === null || typeof rule !== "object") return (value) => value !== undefined && value === rule;
  if (Array.isArray(rule)) throw invalidFilterPattern();
  const entries = Object.entries(rule);
  if (entries.length !== 1) throw invalidFilterPattern();
  const [operator, operand] = entries[0] as [string, Json];
  switch (operator) {
    case "prefix":
      if (typeof operand !== "string") throw invalidFilterPattern();
      return (value) => typeof value === "string" && value.startsWith(operand);
    case "suffix":
      if (typeof operand !== "string") throw invalidFilterPattern();
      return (value) => typeof value === "string" && value.endsWith(operand);
    case "equals-ignore-case":
      if (typeof operand !== "string") throw invalidFilterPattern();
      return (value) => typeof value === "string" && value.toLowerCase() === operand.toLowerCase();
    case "wildcard": {
      if (typeof operand !== "string" || operand.includes("**")) throw invalidFilterPattern();
      const glob = new RegExp(`^${operand.split("*").map(escapeRegExp).join(".*")}$`, "s");
      return (value) => typeof value === "string" && glob.test(value);
    }
    case "exists":
      if (typeof operand !== "boolean") throw invalidFilterPattern();
      return (value) => (value !== undefined) === operand;
    case "anything-but": {
      const excluded = Array.isArray(operand) ? operand : [operand];
      if (excluded.length === 0 || excluded.some((v) => v !== null && typeof v === "object")) throw invalidFilterPattern();
      return (value) => value !== undefined && !excluded.includes(value as Json);
    }
    case "numeric":
      return compileNumeric(operand);
    default:
      throw invalidFilterPattern();
  }
}

function compileNumeric(operand: Json): Rule {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) throw invalidFilterPattern();
  const tests: ((n: number) => boolean)[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    const compare = typeof op === "string" ? NUMERIC_OPERATORS[op] : undefined;
    if (!compare || typeof bound !== "number") throw invalidFilterPattern();
    tests.push((n) => compare(n, bound));
  }
  return (value) => typeof value === "number" && tests.every((t) => t(value));
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
