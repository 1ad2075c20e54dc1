/**
 * Tokens of the Logs Insights query language (the subset cellfn runs).
 * A `/` starts a regular expression where an operand is expected and is
 * division elsewhere, as in Insights.
 */
export type Token =
  | { kind: "name"; text: string }
  | { kind: "number"; value: number; unit: string; text: string }
  | { kind: "string"; value: string; text: string }
  | { kind: "regex"; re: RegExp; text: string }
  | { kind: "op"; text: string };

export class MalformedQueryError extends Error {
  override name = "MalformedQueryError";
}

const OPERATORS = ["=~", "!=", "<=", ">=", "=", "<", ">", "(", ")", "[", "]", ",", "|", "+", "-", "*", "/", "%", "!"];
const NAME_START = /[A-Za-z_@$]/;
const NAME_PART = /[A-Za-z0-9_@$.]/;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const operandExpected = () => {
    const last = tokens.at(-1);
    // `parse @message /regex/`: the regex follows the field.
    const beforeLast = tokens.at(-2);
    if (beforeLast?.kind === "name" && beforeLast.text.toLowerCase() === "parse" && last?.kind === "name") return true;
    return last === undefined || (last.kind === "op" && last.text !== ")" && last.text !== "]") || (last.kind === "name" && /^(like|and|or|not|in|filter|parse)$/i.test(last.text));
  };
  while (i < source.length) {
    const ch = source.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "#") {
      // A comment runs to the end of the line.
      while (i < source.length && source.charAt(i) !== "\n") i++;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") {
      let value = "";
      let j = i + 1;
      while (j < source.length && source.charAt(j) !== ch) {
        if (source.charAt(j) === "\\" && ch !== "`" && j + 1 < source.length) j++;
        value += source.charAt(j++);
      }
      if (j >= source.length) throw new MalformedQueryError(`Unterminated ${ch === "`" ? "quoted field name" : "string"} at position ${i}`);
      tokens.push(ch === "`" ? { kind: "name", text: value } : { kind: "string", value, text: source.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (ch === "/" && operandExpected()) {
      let j = i + 1;
      while (j < source.length && source.charAt(j) !== "/") {
        if (source.charAt(j) === "\\") j++;
        j++;
      }
      if (j >= source.length) throw new MalformedQueryError(`Unterminated regular expression at position ${i}`);
      tokens.push({ kind: "regex", re: regexOf(source.slice(i + 1, j)), text: source.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    const number = /^\d+(\.\d+)?([a-zA-Z]*)/.exec(source.slice(i));
    if (number) {
      const [text, , unit = ""] = number;
      tokens.push({ kind: "number", value: Number(text.slice(0, text.length - unit.length)), unit, text });
      i += text.length;
      continue;
    }
    if (NAME_START.test(ch)) {
      let j = i + 1;
      while (j < source.length && NAME_PART.test(source.charAt(j))) j++;
      tokens.push({ kind: "name", text: source.slice(i, j) });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (!op) throw new MalformedQueryError(`Unexpected character '${ch}' at position ${i}`);
    tokens.push({ kind: "op", text: op });
    i += op.length;
  }
  return tokens;
}

/** Insights regexes may start with `(?i)` for case-insensitive matching; JavaScript spells that as a flag. */
function regexOf(source: string): RegExp {
  const insensitive = source.startsWith("(?i)");
  try {
    return new RegExp(insensitive ? source.slice(4) : source, insensitive ? "i" : "");
  } catch {
    throw new MalformedQueryError(`Invalid regular expression /${source}/`);
  }
}
