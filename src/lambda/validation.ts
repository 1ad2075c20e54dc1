import type { z } from "zod";
import { invalidRequestContent as unparseable, validationErrors } from "../errors";

/**
 * Turns a request body into a typed value with the errors Lambda gives:
 * - not JSON, a field of the wrong JSON type, or an unknown field →
 *   400 InvalidRequestContentException "Could not parse request body into json: ..."
 *   (Lambda's deserializer refuses fields it does not know);
 * - a model constraint (length, range, pattern, enum, required) →
 *   400 ValidationException "N validation error(s) detected: Value 'x' at 'field' failed to satisfy constraint: ...".
 */
export function parseJsonBody<S extends z.ZodType>(schema: S, raw: string): z.infer<S> {
  let data: unknown = {};
  if (raw.trim() !== "") {
    try {
      data = JSON.parse(raw);
    } catch (err) {
      throw unparseable(`Could not parse payload into json: ${(err as Error).message}`);
    }
  }
  return parseValue(schema, data);
}

export function parseValue<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;

  const issues = result.error.issues;
  const unknownField = issues.find((i) => i.code === "unrecognized_keys");
  if (unknownField && unknownField.code === "unrecognized_keys") {
    throw unparseable(`Unrecognized field "${unknownField.keys[0]}", not marked as ignorable`);
  }
  const wrongType = issues.find((i) => i.code === "invalid_type" && i.input !== undefined);
  if (wrongType && wrongType.code === "invalid_type") {
    throw unparseable(
      `Cannot deserialize value of type \`${wrongType.expected}\` from ${jsonTypeOf(wrongType.input)} at '${memberPath(wrongType.path)}'`,
    );
  }
  const messages = issues.map(describeIssue);
  throw validationErrors(messages);
}


function describeIssue(issue: z.core.$ZodIssue): string {
  const at = memberPath(issue.path);
  const value = issue.input === undefined ? "null" : `'${display(issue.input)}'`;
  return `Value ${value} at '${at}' failed to satisfy constraint: ${constraint(issue)}`;
}

function constraint(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_big":
      return issue.origin === "number" || issue.origin === "int"
        ? `Member must have value less than or equal to ${issue.maximum}`
        : `Member must have length less than or equal to ${issue.maximum}`;
    case "too_small":
      return issue.origin === "number" || issue.origin === "int"
        ? `Member must have value greater than or equal to ${issue.minimum}`
        : `Member must have length greater than or equal to ${issue.minimum}`;
    case "invalid_format":
      // A custom message names the rule in words (e.g. a whole number for MaxItems).
      if (issue.message && !issue.message.startsWith("Invalid")) return issue.message;
      return `Member must satisfy regular expression pattern: ${issue.pattern === undefined ? issue.format : shownPattern(String(issue.pattern))}`;
    case "invalid_value":
      return `Member must satisfy enum value set: [${issue.values.map(String).join(", ")}]`;
    case "invalid_type":
      return "Member must not be null";
    default:
      return issue.message;
  }
}

/**
 * A model pattern as AWS words it: the regular expression without the slashes and anchors of
 * the RegExp that checks it (`/^arn:…role\/?…$/` → `arn:…role/?…`, as AWS's recorded answers show).
 */
function shownPattern(pattern: string): string {
  const literal = /^\/\^?(.*?)\$?\/[a-z]*$/s.exec(pattern);
  return literal?.[1] === undefined ? pattern : literal[1].replaceAll("\\/", "/");
}

/** AWS reports member paths in lowerCamelCase: `Timeout` → `timeout`, `Environment.Variables` → `environment.variables`. */
function memberPath(path: PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "string" ? p.charAt(0).toLowerCase() + p.slice(1) : String(p)))
    .join(".");
}

/** A refused value as AWS (Java) prints it: strings bare, lists `[a, b]`, maps `{k=v}`. */
function display(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(display).join(", ")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, item]) => `${k}=${display(item)}`).join(", ")}}`;
  return JSON.stringify(v);
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "Array value";
  return `${typeof v} value`;
}
