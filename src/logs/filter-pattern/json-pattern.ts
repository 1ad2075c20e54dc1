import { compare, FilterPatternError, literalOf, type ComparisonOp, type Literal } from "./values";

/**
 * JSON filter patterns: `{ $.level = "ERROR" && ($.latency > 100 || $.a[0].b IS TRUE) }`.
 * A selector is `$` followed by `.name` and `[index]` steps; a condition is a
 * comparison with a literal or one of IS NULL / IS TRUE / IS FALSE / NOT EXISTS.
 */
export type JsonExpr =
  | { kind: "and" | "or"; left: JsonExpr; right: JsonExpr }
  | { kind: "compare"; path: PathStep[]; op: ComparisonOp; literal: Literal }
  | { kind: "is"; path: PathStep[]; test: "NULL" | "TRUE" | "FALSE" | "NOT EXISTS" };

type PathStep = string | number;

type Token = { kind: "punct"; text: string } | { kind: "word"; text: string; quoted: boolean };

const PUNCT = ["&&", "||", "!=", "<=", ">=", "=", "<", ">", "(", ")"];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const punct = PUNCT.find((p) => source.startsWith(p, i));
    if (punct) {
      tokens.push({ kind: "punct", text: punct });
      i += punct.length;
      continue;
    }
    if (ch === '"') {
      let text = "";
      i++;
      while (i < source.length && source.charAt(i) !== '"') {
        if (source.charAt(i) === "\\" && i + 1 < source.length) i++;
        text += source.charAt(i++);
      }
      if (i >= source.length) throw new FilterPatternError("Unterminated quoted string in JSON filter pattern");
      i++;
      tokens.push({ kind: "word", text, quoted: true });
      continue;
    }
    let end = i;
    while (end < source.length && !/\s/.test(source.charAt(end)) && !PUNCT.some((p) => source.startsWith(p, end))) end++;
    tokens.push({ kind: "word", text: source.slice(i, end), quoted: false });
    i = end;
  }
  return tokens;
}

/** Parses the text between `{` and `}`. */
export function parseJsonPattern(inner: string): JsonExpr {
  const tokens = tokenize(inner);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isPunct = (text: string) => {
    const t = peek();
    return t?.kind === "punct" && t.text === text;
  };
  const isWord = (text: string) => {
    const t = peek();
    return t?.kind === "word" && !t.quoted && t.text.toUpperCase() === text;
  };

  const parseOr = (): JsonExpr => {
    let left = parseAnd();
    while (isPunct("||")) {
      pos++;
      left = { kind: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): JsonExpr => {
    let left = parsePrimary();
    while (isPunct("&&")) {
      pos++;
      left = { kind: "and", left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): JsonExpr => {
    if (isPunct("(")) {
      pos++;
      const inner = parseOr();
      if (!isPunct(")")) throw new FilterPatternError("Missing ')' in JSON filter pattern");
      pos++;
      return inner;
    }
    const selector = tokens[pos++];
    if (selector?.kind !== "word" || selector.quoted || !selector.text.startsWith("$")) {
      throw new FilterPatternError(`Expected a selector like $.field in JSON filter pattern, found ${describe(selector)}`);
    }
    const path = parsePath(selector.text);
    if (isWord("IS")) {
      pos++;
      const what = peek();
      const test = what?.kind === "word" ? what.text.toUpperCase() : "";
      if (test !== "NULL" && test !== "TRUE" && test !== "FALSE") throw new FilterPatternError(`Expected NULL, TRUE or FALSE after IS, found ${describe(what)}`);
      pos++;
      return { kind: "is", path, test };
    }
    if (isWord("NOT")) {
      pos++;
      if (!isWord("EXISTS")) throw new FilterPatternError(`Expected EXISTS after NOT, found ${describe(peek())}`);
      pos++;
      return { kind: "is", path, test: "NOT EXISTS" };
    }
    const opToken = tokens[pos++];
    if (opToken?.kind !== "punct" || !["=", "!=", "<", ">", "<=", ">="].includes(opToken.text)) {
      throw new FilterPatternError(`Expected a comparison operator after ${selector.text}, found ${describe(opToken)}`);
    }
    const op = opToken.text as ComparisonOp;
    const value = tokens[pos++];
    if (value?.kind !== "word") throw new FilterPatternError(`Expected a value after ${selector.text} ${op}, found ${describe(value)}`);
    const literal = literalOf(value.text, value.quoted);
    if (literal.kind !== "number" && op !== "=" && op !== "!=") {
      throw new FilterPatternError(`Operator ${op} needs a numeric value, found ${value.text}`);
    }
    return { kind: "compare", path, op, literal };
  };

  const expr = parseOr();
  if (pos < tokens.length) throw new FilterPatternError(`Unexpected ${describe(peek())} in JSON filter pattern`);
  return expr;
}

function parsePath(selector: string): PathStep[] {
  const steps: PathStep[] = [];
  const step = /\.([A-Za-z0-9_@:-]+)|\[(\d+)\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < selector.length) {
    const at = step.lastIndex;
    const match = step.exec(selector);
    if (!match) throw new FilterPatternError(`Invalid selector ${selector} (at "${selector.slice(at)}")`);
    steps.push(match[1] ?? Number(match[2]));
  }
  if (steps.length === 0) throw new FilterPatternError(`Invalid selector ${selector}: name a field, like $.level`);
  return steps;
}

function describe(token: Token | undefined): string {
  if (!token) return "end of pattern";
  return token.kind === "word" && token.quoted ? `"${token.text}"` : `'${token.text}'`;
}

const MISSING = Symbol("missing");

function lookup(document: unknown, path: PathStep[]): unknown {
  let value: unknown = document;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(value) || step >= value.length) return MISSING;
      value = value[step];
    } else {
      if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) return MISSING;
      value = (value as Record<string, unknown>)[step];
    }
  }
  return value;
}

export function matchJson(expr: JsonExpr, document: unknown): boolean {
  switch (expr.kind) {
    case "and":
      return matchJson(expr.left, document) && matchJson(expr.right, document);
    case "or":
      return matchJson(expr.left, document) || matchJson(expr.right, document);
    case "is": {
      const value = lookup(document, expr.path);
      if (expr.test === "NOT EXISTS") return value === MISSING;
      if (expr.test === "NULL") return value === null;
      return value === (expr.test === "TRUE");
    }
    case "compare": {
      const value = lookup(document, expr.path);
      // Only strings and numbers compare; objects, arrays, booleans and null never do.
      if (typeof value !== "string" && typeof value !== "number") return false;
      // A JSON string never equals a number literal: `$.code = 200` does not match {"code":"200"}.
      if (expr.literal.kind === "number" && typeof value !== "number") return false;
      return compare(value, expr.op, expr.literal);
    }
  }
}
