/**
 * The right-hand side of a comparison in JSON and space-delimited filter
 * patterns, shared by both: a number, a string (quoted or bare, `*` a
 * wildcard), or a `%regex%`. CloudWatch compares numbers numerically and
 * strings exactly (case-sensitive), so a string literal never equals a number.
 */
export type Literal =
  | { kind: "number"; value: number }
  | { kind: "string"; value: string; wildcard: RegExp | null }
  | { kind: "regex"; re: RegExp };

export type ComparisonOp = "=" | "!=" | "<" | ">" | "<=" | ">=";

export class FilterPatternError extends Error {
  override name = "FilterPatternError";
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A literal from its source text; `quoted` strings are never numbers. */
export function literalOf(text: string, quoted: boolean): Literal {
  if (!quoted && NUMBER.test(text)) return { kind: "number", value: Number(text) };
  if (!quoted && text.length >= 2 && text.startsWith("%") && text.endsWith("%")) return { kind: "regex", re: regexOf(text.slice(1, -1)) };
  return { kind: "string", value: text, wildcard: text.includes("*") ? globToRegExp(text) : null };
}

export function regexOf(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch {
    throw new FilterPatternError(`Invalid regular expression: %${source}%`);
  }
}

/** `*` matches any run of characters; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${body}$`);
}

/**
 * Compares a value found in the event with a literal. Numbers compare with
 * numbers (a numeric string in a space-delimited field counts as a number);
 * `<`/`>` need numbers on both sides; strings compare with `=`/`!=` only.
 */
export function compare(found: unknown, op: ComparisonOp, literal: Literal): boolean {
  if (literal.kind === "number") {
    const n = typeof found === "number" ? found : typeof found === "string" && NUMBER.test(found) ? Number(found) : NaN;
    if (Number.isNaN(n)) return false;
    switch (op) {
      case "=":
        return n === literal.value;
      case "!=":
        return n !== literal.value;
      case "<":
        return n < literal.value;
      case ">":
        return n > literal.value;
      case "<=":
        return n <= literal.value;
      case ">=":
        return n >= literal.value;
    }
  }
  if (typeof found !== "string" || (op !== "=" && op !== "!=")) return false;
  const equal = literal.kind === "regex" ? literal.re.test(found) : literal.wildcard ? literal.wildcard.test(found) : found === literal.value;
  return op === "=" ? equal : !equal;
}
