/** The parsed form of a Logs Insights query (see ./parse.ts for the grammar). */
export type Expr =
  | { kind: "field"; name: string; text: string }
  | { kind: "literal"; value: string | number | boolean | null; text: string }
  | { kind: "regex"; re: RegExp; text: string }
  | { kind: "not"; arg: Expr; text: string }
  | { kind: "negate"; arg: Expr; text: string }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; text: string }
  | { kind: "in"; arg: Expr; list: Expr[]; negated: boolean; text: string }
  | { kind: "call"; name: string; args: Expr[]; text: string };

export type BinaryOp = "and" | "or" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "like" | "not like" | "=~" | "+" | "-" | "*" | "/" | "%";

export interface Named {
  expr: Expr;
  /** The output column: the alias after `as`, else the expression as written. */
  label: string;
}

export type AggregateName = "count" | "count_distinct" | "avg" | "sum" | "min" | "max" | "pct";

export interface Aggregate {
  name: AggregateName;
  /** null for count(*) / count(). */
  arg: Expr | null;
  /** pct's percentile (0-100). */
  percentile: number;
  label: string;
}

export type Command =
  | { kind: "fields"; fields: Named[] }
  | { kind: "display"; fields: Named[] }
  | { kind: "filter"; expr: Expr }
  | { kind: "parse"; source: Expr; pattern: RegExp; names: string[] }
  | { kind: "stats"; aggregates: Aggregate[]; by: Named[] }
  | { kind: "sort"; keys: { expr: Expr; descending: boolean }[] }
  | { kind: "limit"; count: number };

export interface Query {
  commands: Command[];
}
