import { compare, FilterPatternError, literalOf, type ComparisonOp, type Literal } from "./values";

/**
 * Space-delimited filter patterns: `[ip, user, ..., status_code = 4* || status_code = 5*, bytes > 1000]`.
 * Each slot names one whitespace-separated field of the event (text inside
 * "..." or [...] is one field, without its quotes or brackets); `...` stands
 * for any number of fields. Without `...` the event must have exactly as many
 * fields as the pattern has slots. Conditions may join with `&&` / `||`.
 */
export interface DelimitedPattern {
  /** Field names in order; null for `...`. */
  slots: (string | null)[];
  conditions: Condition[];
}

type Condition =
  | { kind: "and" | "or"; left: Condition; right: Condition }
  | { kind: "compare"; field: string; op: ComparisonOp; literal: Literal };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONDITION = /^([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*(.+)$/s;

/** Parses the text between `[` and `]`. */
export function parseDelimitedPattern(inner: string): DelimitedPattern {
  const slots: (string | null)[] = [];
  const conditions: Condition[] = [];
  for (const raw of splitOutsideQuotes(inner, ",")) {
    const slot = raw.trim();
    if (slot === "...") {
      slots.push(null);
      continue;
    }
    if (NAME.test(slot)) {
      slots.push(slot);
      continue;
    }
    const condition = parseCondition(slot);
    const name = firstField(condition);
    slots.push(name);
    conditions.push(condition);
  }
  if (slots.length === 0 || (slots.length === 1 && inner.trim() === "")) throw new FilterPatternError("A space-delimited filter pattern needs at least one field");
  return { slots, conditions };
}

function parseCondition(text: string): Condition {
  const ors = splitOutsideQuotes(text, "||");
  if (ors.length > 1) return ors.map(parseCondition).reduce((left, right) => ({ kind: "or", left, right }));
  const ands = splitOutsideQuotes(text, "&&");
  if (ands.length > 1) return ands.map(parseCondition).reduce((left, right) => ({ kind: "and", left, right }));
  const match = CONDITION.exec(text.trim());
  if (!match) throw new FilterPatternError(`Invalid field in space-delimited filter pattern: '${text.trim()}'`);
  const [, field = "", op = "=", rawValue = ""] = match;
  const value = rawValue.trim();
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  const literal = literalOf(quoted ? value.slice(1, -1) : value, quoted);
  if (literal.kind !== "number" && op !== "=" && op !== "!=") throw new FilterPatternError(`Operator ${op} needs a numeric value, found ${value}`);
  return { kind: "compare", field, op: op as ComparisonOp, literal };
}

function firstField(condition: Condition): string {
  return condition.kind === "compare" ? condition.field : firstField(condition.left);
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charAt(i) === '"') inQuotes = !inQuotes;
    else if (!inQuotes && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  if (inQuotes) throw new FilterPatternError("Unterminated quoted string in space-delimited filter pattern");
  parts.push(text.slice(start));
  return parts;
}

/** The event's fields: whitespace-separated, "..." and [...] each one field. */
export function splitFields(message: string): string[] {
  const fields: string[] = [];
  const field = /"([^"]*)"|\[([^\]]*)\]|(\S+)/g;
  for (const match of message.matchAll(field)) fields.push(match[1] ?? match[2] ?? match[3] ?? "");
  return fields;
}

export function matchDelimited(pattern: DelimitedPattern, message: string): boolean {
  const fields = splitFields(message);
  const bindings = new Map<string, string>();
  const holds = (c: Condition): boolean => {
    if (c.kind !== "compare") return c.kind === "and" ? holds(c.left) && holds(c.right) : holds(c.left) || holds(c.right);
    const value = bindings.get(c.field);
    return value !== undefined && compare(value, c.op, c.literal);
  };
  // Tries every way the `...` slots can absorb fields; patterns are short, so this stays small.
  const align = (slot: number, field: number): boolean => {
    if (slot === pattern.slots.length) return field === fields.length && pattern.conditions.every(holds);
    const name = pattern.slots[slot] ?? null;
    if (name === null) {
      for (let next = field; next <= fields.length; next++) if (align(slot + 1, next)) return true;
      return false;
    }
    const value = fields[field];
    if (value === undefined) return false;
    const previous = bindings.get(name);
    bindings.set(name, value);
    const ok = align(slot + 1, field + 1);
    if (previous === undefined) bindings.delete(name);
    else bindings.set(name, previous);
    return ok;
  };
  return align(0, 0);
}
