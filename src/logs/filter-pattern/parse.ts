import { matchDelimited, parseDelimitedPattern, type DelimitedPattern } from "./delimited-pattern";
import { matchJson, parseJsonPattern, type JsonExpr } from "./json-pattern";
import { FilterPatternError, regexOf } from "./values";

export { FilterPatternError } from "./values";

/**
 * CloudWatch Logs filter patterns (FilterLogEvents, metric filters, live
 * tail), parsed once and matched against each event's message. Three forms,
 * chosen by the first character:
 *  - `{ ... }` JSON patterns (./json-pattern.ts),
 *  - `[ ... ]` space-delimited patterns (./delimited-pattern.ts),
 *  - otherwise terms: every plain term must occur (case-sensitive), `"quoted
 *    phrases"` are one term, `?term`s match if any one occurs, `-term`s must
 *    not occur, `%regex%` terms are regular expressions.
 * An empty pattern matches every event.
 */
export type FilterPattern =
  | { kind: "all" }
  | { kind: "terms"; required: Term[]; anyOf: Term[]; excluded: Term[] }
  | { kind: "json"; expr: JsonExpr }
  | { kind: "delimited"; pattern: DelimitedPattern };

type Term = { kind: "text"; text: string } | { kind: "regex"; re: RegExp };

export function parseFilterPattern(source: string): FilterPattern {
  const text = source.trim();
  if (text === "") return { kind: "all" };
  if (text.startsWith("{")) {
    if (!text.endsWith("}")) throw new FilterPatternError("A JSON filter pattern must end with '}'");
    return { kind: "json", expr: parseJsonPattern(text.slice(1, -1)) };
  }
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) throw new FilterPatternError("A space-delimited filter pattern must end with ']'");
    return { kind: "delimited", pattern: parseDelimitedPattern(text.slice(1, -1)) };
  }
  return parseTerms(text);
}

function parseTerms(text: string): FilterPattern {
  const required: Term[] = [];
  const anyOf: Term[] = [];
  const excluded: Term[] = [];
  const token = /([?-]?)(?:"((?:[^"\\]|\\.)*)"|%([^%]+)%|(\S+))/gy;
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text.charAt(i))) {
      i++;
      continue;
    }
    token.lastIndex = i;
    const match = token.exec(text);
    if (!match) throw new FilterPatternError(`Invalid filter pattern at "${text.slice(i)}": unterminated quoted phrase`);
    const [whole, sign = "", quoted, regex, bare] = match;
    if (bare !== undefined && bare.includes('"')) throw new FilterPatternError(`Invalid filter pattern term ${bare}: quote the whole phrase`);
    const term: Term =
      regex !== undefined ? { kind: "regex", re: regexOf(regex) } : { kind: "text", text: quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "") };
    if (term.kind === "text" && term.text === "") throw new FilterPatternError(`Invalid filter pattern term ${whole}: nothing to match`);
    (sign === "?" ? anyOf : sign === "-" ? excluded : required).push(term);
    i += whole.length;
  }
  return { kind: "terms", required, anyOf, excluded };
}

function termIn(term: Term, message: string): boolean {
  return term.kind === "text" ? message.includes(term.text) : term.re.test(message);
}

export function matchesFilter(pattern: FilterPattern, message: string): boolean {
  switch (pattern.kind) {
    case "all":
      return true;
    case "terms":
      return (
        pattern.required.every((t) => termIn(t, message)) &&
        (pattern.anyOf.length === 0 || pattern.anyOf.some((t) => termIn(t, message))) &&
        !pattern.excluded.some((t) => termIn(t, message))
      );
    case "json": {
      const document = parseJsonMessage(message);
      return document !== undefined && matchJson(pattern.expr, document);
    }
    case "delimited":
      return matchDelimited(pattern.pattern, message);
  }
}

/**
 * The JSON document of an event: the whole message, or, for a Lambda text
 * line (`time\trequestId\tLEVEL\t{...}`), the JSON after its prefix, so
 * `console.log(JSON.stringify(...))` output matches JSON patterns as it does on Lambda.
 */
export function parseJsonMessage(message: string): unknown {
  const trimmed = message.trimStart();
  const tabbed = message.indexOf("\t{");
  const candidates = trimmed.startsWith("{") ? [trimmed] : tabbed >= 0 ? [message.slice(tabbed + 1)] : [];
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === "object" && value !== null) return value;
    } catch {
      // not JSON: try the next reading
    }
  }
  return undefined;
}
