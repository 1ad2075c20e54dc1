import type { BinaryOp, Expr } from "./ast";
import { MalformedQueryError, type Token } from "./lexer";

/** Functions usable inside expressions (aggregates belong to `stats`, see ./parse.ts). */
export const SCALAR_FUNCTIONS = new Set(["ispresent", "isempty", "isblank", "tolower", "toupper", "strlen", "abs", "floor", "ceil", "concat", "coalesce", "bin"]);

/** Time units of `bin(…)` and duration literals, in milliseconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A recursive-descent reader over one command's tokens:
 * or → and → not → comparison → sum → product → unary → primary.
 */
export class TokenReader {
  #tokens: Token[];
  #pos = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  peek(offset = 0): Token | undefined {
    return this.#tokens[this.#pos + offset];
  }

  next(): Token | undefined {
    return this.#tokens[this.#pos++];
  }

  done(): boolean {
    return this.#pos >= this.#tokens.length;
  }

  isName(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === "name" && t.text.toLowerCase() === text;
  }

  isOp(text: string): boolean {
    const t = this.peek();
    return t?.kind === "op" && t.text === text;
  }

  expectOp(text: string, context: string): void {
    if (!this.isOp(text)) throw new MalformedQueryError(`Expected '${text}' ${context}, found ${describeToken(this.peek())}`);
    this.#pos++;
  }

  expression(): Expr {
    let left = this.#and();
    while (this.isName("or")) {
      this.#pos++;
      const right = this.#and();
      left = { kind: "binary", op: "or", left, right, text: `${left.text} or ${right.text}` };
    }
    return left;
  }

  #and(): Expr {
    let left = this.#not();
    while (this.isName("and")) {
      this.#pos++;
      const right = this.#not();
      left = { kind: "binary", op: "and", left, right, text: `${left.text} and ${right.text}` };
    }
    return left;
  }

  #not(): Expr {
    if (this.isName("not") || this.isOp("!")) {
      this.#pos++;
      const arg = this.#not();
      return { kind: "not", arg, text: `not ${arg.text}` };
    }
    return this.#comparison();
  }

  #comparison(): Expr {
    const left = this.#sum();
    const negated = this.isName("not") && (this.isName("like", 1) || this.isName("in", 1));
    if (negated) this.#pos++;
    if (this.isName("in")) {
      this.#pos++;
      this.expectOp("[", "after 'in'");
      const list: Expr[] = [];
      while (!this.isOp("]")) {
        list.push(this.#sum());
        if (!this.isOp("]")) this.expectOp(",", "between the values of 'in [...]'");
      }
      this.#pos++;
      return { kind: "in", arg: left, list, negated, text: `${left.text} ${negated ? "not in" : "in"} [${list.map((e) => e.text).join(", ")}]` };
    }
    let op: BinaryOp | undefined;
    if (this.isName("like")) op = negated ? "not like" : "like";
    else {
      const t = this.peek();
      if (t?.kind === "op" && ["=", "!=", "<", "<=", ">", ">=", "=~"].includes(t.text)) op = t.text as BinaryOp;
    }
    if (op === undefined) return left;
    this.#pos++;
    const right = this.#sum();
    return { kind: "binary", op, left, right, text: `${left.text} ${op} ${right.text}` };
  }

  #sum(): Expr {
    let left = this.#product();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next()?.text === "+" ? "+" : "-";
      const right = this.#product();
      left = { kind: "binary", op, left, right, text: `${left.text} ${op} ${right.text}` };
    }
    return left;
  }

  #product(): Expr {
    let left = this.#unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
      const op = (this.next()?.text ?? "*") as "*" | "/" | "%";
      const right = this.#unary();
      left = { kind: "binary", op, left, right, text: `${left.text} ${op} ${right.text}` };
    }
    return left;
  }

  #unary(): Expr {
    if (this.isOp("-")) {
      this.#pos++;
      const arg = this.#unary();
      return { kind: "negate", arg, text: `-${arg.text}` };
    }
    return this.#primary();
  }

  #primary(): Expr {
    const t = this.next();
    if (t === undefined) throw new MalformedQueryError("Unexpected end of query: expected a value or field");
    switch (t.kind) {
      case "number": {
        if (t.unit === "") return { kind: "literal", value: t.value, text: t.text };
        const unit = UNIT_MS[t.unit];
        if (unit === undefined) throw new MalformedQueryError(`Unsupported time unit '${t.unit}' in ${t.text} (use ms, s, m, h, d or w)`);
        return { kind: "literal", value: t.value * unit, text: t.text };
      }
      case "string":
        return { kind: "literal", value: t.value, text: t.text };
      case "regex":
        return { kind: "regex", re: t.re, text: t.text };
      case "op":
        if (t.text === "(") {
          const inner = this.expression();
          this.expectOp(")", "to close '('");
          return { ...inner, text: `(${inner.text})` };
        }
        throw new MalformedQueryError(`Unexpected '${t.text}': expected a value or field`);
      case "name": {
        const lower = t.text.toLowerCase();
        if (this.isOp("(")) {
          if (!SCALAR_FUNCTIONS.has(lower)) throw new MalformedQueryError(`Unsupported function: ${t.text}`);
          this.#pos++;
          const args: Expr[] = [];
          while (!this.isOp(")")) {
            args.push(this.expression());
            if (!this.isOp(")")) this.expectOp(",", `between the arguments of ${t.text}()`);
          }
          this.#pos++;
          return { kind: "call", name: lower, args, text: `${lower}(${args.map((a) => a.text).join(", ")})` };
        }
        if (lower === "true" || lower === "false") return { kind: "literal", value: lower === "true", text: lower };
        if (lower === "null") return { kind: "literal", value: null, text: lower };
        return { kind: "field", name: t.text, text: t.text };
      }
    }
  }
}

export function describeToken(t: Token | undefined): string {
  if (t === undefined) return "end of command";
  return `'${t.kind === "number" ? t.text : t.kind === "string" || t.kind === "regex" ? t.text : t.text}'`;
}
