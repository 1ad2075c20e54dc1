import { accessDenied, invalidParameter, LambdaError, notFound, validationErrors } from "../errors";

/** What a `{FunctionName}` label resolves to, before any lookup. */
export interface FunctionRef {
  name: string;
  /** Version number, alias name or `$LATEST`; undefined means unqualified. */
  qualifier?: string;
  /** Set only with `otherAccounts`: the account of a full or partial ARN that is not the caller's. */
  ownerAccountId?: string;
}

export interface NameContext {
  /** The caller's account id: an ARN naming another account is refused. */
  accountId: string;
  region: string;
}

const NAME_MAX = 64;
const QUALIFIER_MAX = 128;
const BARE_NAME = /^[a-zA-Z0-9-_]+$/;
/** The model's Qualifier pattern (lambda-api.md): `$latest` in lower case passes it and is then simply not found. */
const QUALIFIER = /^(?:\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)$/;
const QUALIFIER_PATTERN = "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
/** The model's NamespacedFunctionName pattern, split into its parts (region, account, name, qualifier). */
const FUNCTION_NAME =
  /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:((?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$/;
/**
 * The patterns AWS names in its messages, verbatim from its answers
 * (LocalStack's AWS-validated snapshot test_lambda_api
 * test_function_name_and_qualifier_validation): Get/Delete/Invoke, and
 * CreateFunction's (which allows `:qualifier` in the pattern but not dots).
 */
const QUALIFIED_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
export const CREATE_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
/** CreateFunction's FunctionName pattern as a check (the schema lists it beside the length, as AWS counts both). */
export const CREATE_FUNCTION_NAME = new RegExp(`^(?:${CREATE_PATTERN})$`);
const UNQUALIFIED_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)";

export interface ParseOptions {
  /** Whether the operation accepts `name:qualifier` (Get*, Invoke, DeleteFunction). */
  qualified: boolean;
  /** `Qualifier` query parameter, if the operation has one. */
  qualifierParam?: string | undefined;
  /** CreateFunction: its own pattern and maximum, and the 64-character name limit. */
  creating?: boolean;
  /**
   * Invoke by full ARN may name another tenant's function, which a resource
   * policy can grant (services/policies.ts `crossTenantInvokeGrant`): the
   * account is returned as `ownerAccountId` instead of refused.
   */
  otherAccounts?: boolean;
}

/**
 * Parses every accepted form: `name`, `name:qualifier`, partial ARN
 * `123456789012:function:name[:q]`, full ARN `arn:aws:lambda:r:acct:function:name[:q]`.
 * Model violations of FunctionName and Qualifier are collected and answered
 * together ("2 validation errors detected: ...; ..."), as AWS does. An ARN of
 * another account is 403 AccessDeniedException with no message, whether or
 * not such a function exists (docs/reference/lambda-api-notes.md §0); of another region, 404.
 * A name over 64 characters is refused only by CreateFunction (AWS:
 * InvalidParameterValueException); elsewhere it is simply not found.
 */
export function parseFunctionName(raw: string, ctx: NameContext, opts: ParseOptions): FunctionRef {
  const maxLength = opts.qualified ? 256 : 140;
  const violations: string[] = [];
  if (raw.length > maxLength) violations.push(violation(raw, "functionName", `Member must have length less than or equal to ${maxLength}`));
  const match = FUNCTION_NAME.exec(raw);
  const [, region, account, name, nameQualifier] = match ?? [];
  // CreateFunction's pattern admits `name:qualifier`, which names no new function: refused like a
  // pattern violation unless the value already broke the length limit (AWS then lists only that).
  const createQualified = opts.creating === true && nameQualifier !== undefined && raw.length <= maxLength;
  const badName = !match || name === undefined || (opts.creating === true && !BARE_NAME.test(name)) || createQualified;
  const unwantedQualifier = nameQualifier !== undefined && !opts.qualified && !opts.creating;
  if (badName || unwantedQualifier) {
    const pattern = opts.creating ? CREATE_PATTERN : opts.qualified ? QUALIFIED_PATTERN : UNQUALIFIED_PATTERN;
    violations.push(violation(raw, "functionName", `Member must satisfy regular expression pattern: ${pattern}`));
  }
  const param = opts.qualifierParam;
  if (param !== undefined && param.length === 0) {
    violations.push(violation(param, "qualifier", "Member must have length greater than or equal to 1"));
  }
  if (param !== undefined && param.length > QUALIFIER_MAX) {
    violations.push(violation(param, "qualifier", `Member must have length less than or equal to ${QUALIFIER_MAX}`));
  }
  if (param !== undefined && param.length >= 1 && !QUALIFIER.test(param)) {
    violations.push(violation(param, "qualifier", `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`));
  }
  if (violations.length > 0 || name === undefined) throw validationErrors(violations);
  if (opts.creating === true && name.length > NAME_MAX) {
    throw invalidParameter(constraintMessage(name, `Member must have length less than or equal to ${NAME_MAX}`));
  }
  const foreign = account !== undefined && account !== ctx.accountId;
  if (foreign && opts.otherAccounts !== true) throw accessDenied();
  if (region !== undefined && region !== ctx.region) {
    throw notFound(`Functions from '${region}' are not reachable in this region ('${ctx.region}')`);
  }
  if (param !== undefined && nameQualifier !== undefined && param !== nameQualifier) {
    throw invalidParameter("The derived qualifier from the function name does not match the specified qualifier.");
  }
  const qualifier = nameQualifier ?? param;
  const ref: FunctionRef = qualifier === undefined ? { name } : { name, qualifier };
  if (foreign && account !== undefined) ref.ownerAccountId = account;
  return ref;
}

/** A name given in a request body (CreateFunction). */
export function parseNewFunctionName(raw: string, ctx: NameContext): string {
  return parseFunctionName(raw, ctx, { qualified: false, creating: true }).name;
}

function violation(value: string, member: string, constraint: string): string {
  return `Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`;
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
