import { accessDenied, invalidParameter, LambdaError, notFound, validationError } from "../errors";

/** What a `{FunctionName}` label resolves to, before any lookup. */
export interface FunctionRef {
  name: string;
  /** Version number, alias name or `$LATEST`; undefined means unqualified. */
  qualifier?: string;
}

export interface NameContext {
  /** The caller's account id: an ARN naming another account is refused. */
  accountId: string;
  region: string;
}

const NAME_MAX = 64;
const BARE_NAME = /^[a-zA-Z0-9-_]+$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9-_]+)$/;
/** The model's NamespacedFunctionName pattern, split into its parts. */
const FUNCTION_NAME =
  /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_.]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const QUALIFIED_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
const UNQUALIFIED_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)";

export interface ParseOptions {
  /** Whether the operation accepts `name:qualifier` (Get*, Invoke, DeleteFunction). */
  qualified: boolean;
  /** `Qualifier` query parameter, if the operation has one. */
  qualifierParam?: string | undefined;
}

/**
 * Parses every accepted form: `name`, `name:qualifier`, partial ARN
 * `123456789012:function:name[:q]`, full ARN `arn:aws:lambda:r:acct:function:name[:q]`.
 * An ARN of another account is 403 AccessDeniedException with no message,
 * whether or not such a function exists (docs/reference/lambda-api-notes.md §0).
 */
export function parseFunctionName(raw: string, ctx: NameContext, opts: ParseOptions): FunctionRef {
  const maxLength = opts.qualified ? 256 : 140;
  if (raw.length > maxLength) {
    throw validationError(constraintMessage(raw, `Member must have length less than or equal to ${maxLength}`));
  }
  const match = FUNCTION_NAME.exec(raw);
  const [, region, account, name, nameQualifier] = match ?? [];
  if (!match || name === undefined || !BARE_NAME.test(name) || (nameQualifier !== undefined && !opts.qualified)) {
    const pattern = opts.qualified ? QUALIFIED_PATTERN : UNQUALIFIED_PATTERN;
    throw validationError(constraintMessage(raw, `Member must satisfy regular expression pattern: ${pattern}`));
  }
  if (name.length > NAME_MAX) {
    throw invalidParameter(constraintMessage(name, `Member must have length less than or equal to ${NAME_MAX}`));
  }
  if (account !== undefined && account !== ctx.accountId) throw accessDenied();
  if (region !== undefined && region !== ctx.region) {
    throw notFound(`Functions from '${region}' are not reachable in this region ('${ctx.region}')`);
  }

  const param = opts.qualifierParam;
  if (param !== undefined && !QUALIFIER.test(param)) {
    throw validationError(
      `1 validation error detected: Value '${param}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`,
    );
  }
  if (param !== undefined && nameQualifier !== undefined && param !== nameQualifier) {
    throw invalidParameter("The derived qualifier from the function name does not match the specified qualifier.");
  }
  const qualifier = nameQualifier ?? param;
  return qualifier === undefined ? { name } : { name, qualifier };
}

/** A name given in a request body (CreateFunction): same forms, no qualifier. */
export function parseNewFunctionName(raw: string, ctx: NameContext): string {
  return parseFunctionName(raw, ctx, { qualified: false }).name;
}

function constraintMessage(value: string, constraint: string): string {
  return `1 validation error detected: Value '${value}' at 'functionName' failed to satisfy constraint: ${constraint}`;
}

export function functionArn(ctx: NameContext, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}

export function functionNotFound(ctx: NameContext, name: string, qualifier?: string): LambdaError {
  return notFound(`Function not found: ${functionArn(ctx, name, qualifier)}`);
}
