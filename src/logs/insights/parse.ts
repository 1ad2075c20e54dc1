import type { Aggregate, AggregateName, Command, Expr, Named, Query } from "./ast";
import { describeToken, TokenReader } from "./expressions";
import { MalformedQueryError, tokenize, type Token } from "./lexer";

export { MalformedQueryError } from "./lexer";

/**
 * The Logs Insights subset cellfn runs, commands joined by `|`:
 *   fields a, b, expr as name      display a, b
 *   filter <expression>            (comparisons, like "text" / like /regex/, =~, in [..], and / or / not)
 *   parse <field> "glob * with *" as x, y      parse <field> /(?<x>..)/
 *   stats count(*), avg(x), min, max, sum, count_distinct, pct(x, 99) [as name], ... [by a, bin(1m)]
 *   sort a [asc|desc], ...         limit n
 * Anything else is refused with a MalformedQueryError naming it.
 */
export function parseQuery(source: string): Query {
  const commands: Command[] = [];
  for (const tokens of splitCommands(tokenize(source))) {
    const reader = new TokenReader(tokens);
    const head = reader.next();
    if (head?.kind !== "name") throw new MalformedQueryError(`Expected a command, found ${describeToken(head)}`);
    commands.push(parseCommand(head.text.toLowerCase(), reader));
    if (!reader.done()) throw new MalformedQueryError(`Unexpected ${describeToken(reader.peek())} in '${head.text}' command`);
  }
  if (commands.length === 0) throw new MalformedQueryError("The query is empty");
  if (commands.filter((c) => c.kind === "stats").length > 1) throw new MalformedQueryError("Unsupported: more than one stats command");
  return { commands };
}

function splitCommands(tokens: Token[]): Token[][] {
  const commands: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === "op" && (t.text === "(" || t.text === "[")) depth++;
    if (t.kind === "op" && (t.text === ")" || t.text === "]")) depth--;
    if (t.kind === "op" && t.text === "|" && depth === 0) commands.push([]);
    else commands.at(-1)?.push(t);
  }
  if (tokens.length === 0) return [];
  if (commands.some((c) => c.length === 0)) throw new MalformedQueryError("Empty command: nothing before or after a '|'");
  return commands;
}

const AGGREGATES = new Set<string>(["count", "count_distinct", "avg", "sum", "min", "max", "pct"]);
const KNOWN_UNSUPPORTED = new Set(["dedup", "unmask", "pattern", "diff", "anomaly", "filterindex", "source", "unnest", "lookup"]);

function parseCommand(name: string, reader: TokenReader): Command {
  switch (name) {
    case "fields":
    case "display":
      return { kind: name, fields: namedList(reader) };
    case "filter":
      return { kind: "filter", expr: reader.expression() };
    case "parse":
      return parseParse(reader);
    case "stats":
      return parseStats(reader);
    case "sort": {
      const keys: { expr: ReturnType<TokenReader["expression"]>; descending: boolean }[] = [];
      do {
        const expr = reader.expression();
        let descending = false;
        if (reader.isName("desc") || reader.isName("asc")) descending = reader.next()?.text.toLowerCase() === "desc";
        keys.push({ expr, descending });
      } while (reader.isOp(",") && reader.next());
      return { kind: "sort", keys };
    }
    case "limit": {
      const t = reader.next();
      if (t?.kind !== "number" || t.unit !== "" || !Number.isInteger(t.value) || t.value < 1 || t.value > 10_000) {
        throw new MalformedQueryError(`limit needs a whole number from 1 to 10000, found ${describeToken(t)}`);
      }
      return { kind: "limit", count: t.value };
    }
    default:
      throw new MalformedQueryError(
        KNOWN_UNSUPPORTED.has(name) ? `Unsupported command: ${name} (cellfn runs fields, display, filter, parse, stats, sort and limit)` : `Unknown command: ${name}`,
      );
  }
}

function namedList(reader: TokenReader): Named[] {
  const list: Named[] = [];
  do {
    const expr = reader.expression();
    list.push({ expr, label: alias(reader) ?? expr.text });
  } while (reader.isOp(",") && reader.next());
  return list;
}

function alias(reader: TokenReader): string | undefined {
  if (!reader.isName("as")) return undefined;
  reader.next();
  const t = reader.next();
  if (t?.kind !== "name") throw new MalformedQueryError(`Expected a name after 'as', found ${describeToken(t)}`);
  return t.text;
}

function parseStats(reader: TokenReader): Command {
  const aggregates: Aggregate[] = [];
  do {
    const t = reader.next();
    const name = t?.kind === "name" ? t.text.toLowerCase() : "";
    if (!AGGREGATES.has(name)) throw new MalformedQueryError(t?.kind === "name" ? `Unsupported stats function: ${t.text}` : `Expected a stats function, found ${describeToken(t)}`);
    reader.expectOp("(", `after ${name}`);
    let arg: Expr | null = null;
    let percentile = 0;
    let text: string;
    if (name === "count" && (reader.isOp("*") || reader.isOp(")"))) {
      if (reader.isOp("*")) reader.next();
      text = "count(*)";
    } else {
      arg = reader.expression();
      if (name === "pct") {
        reader.expectOp(",", "in pct(field, percentile)");
        const p = reader.next();
        if (p?.kind !== "number" || p.unit !== "" || p.value < 0 || p.value > 100) throw new MalformedQueryError(`pct needs a percentile from 0 to 100, found ${describeToken(p)}`);
        percentile = p.value;
        text = `pct(${arg.text}, ${p.text})`;
      } else text = `${name}(${arg.text})`;
    }
    reader.expectOp(")", `to close ${name}(`);
    aggregates.push({ name: name as AggregateName, arg, percentile, label: alias(reader) ?? text });
  } while (reader.isOp(",") && reader.next());
  const by = reader.isName("by") && reader.next() ? namedList(reader) : [];
  return { kind: "stats", aggregates, by };
}

function parseParse(reader: TokenReader): Command {
  const source = reader.expression();
  const t = reader.next();
  if (t?.kind === "regex") {
    const names = [...t.re.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1] ?? "");
    if (names.length === 0) throw new MalformedQueryError("parse with a regular expression needs named groups, like (?<name>...)");
    if (reader.isName("as")) throw new MalformedQueryError("parse with a regular expression names its fields in the expression, not with 'as'");
    return { kind: "parse", source, pattern: t.re, names };
  }
  if (t?.kind !== "string") throw new MalformedQueryError(`parse needs a "glob * pattern" or a /regex/, found ${describeToken(t)}`);
  const parts = t.value.split("*");
  if (parts.length < 2) throw new MalformedQueryError(`parse pattern "${t.value}" has no '*' to capture`);
  if (!reader.isName("as")) throw new MalformedQueryError("parse with a glob pattern needs 'as' and a field name per '*'");
  reader.next();
  const names: string[] = [];
  do {
    const n = reader.next();
    if (n?.kind !== "name") throw new MalformedQueryError(`Expected a field name after 'as', found ${describeToken(n)}`);
    names.push(n.text);
  } while (reader.isOp(",") && reader.next());
  if (names.length !== parts.length - 1) throw new MalformedQueryError(`parse pattern "${t.value}" has ${parts.length - 1} '*' but ${names.length} names`);
  const escaped = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  // Each `*` is lazy, but a final `*` takes the rest of the value, as Insights does.
  const body = escaped.map((p, i) => (i === 0 ? p : `${i === escaped.length - 1 && p === "" ? "(.*)" : "(.*?)"}${p}`)).join("");
  return { kind: "parse", source, pattern: new RegExp(body, "s"), names };
}
