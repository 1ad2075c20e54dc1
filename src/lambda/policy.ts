import { invalidParameter, policyTooLarge } from "../errors";

/**
 * Resource-based policies (AddPermission / RemovePermission / GetPolicy) and
 * the invoke decision they feed, pure. The statement and policy shapes are
 * AWS's, as recorded in LocalStack's AWS-validated snapshots
 * (tests/aws/services/lambda_/test_lambda_api.snapshot.json,
 * TestLambdaPermissions::test_add_lambda_permission_aws, test_remove_multi_permissions,
 * test_lambda_permission_fn_versioning, test_permission_exceptions):
 *   {"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
 *    "Action":"lambda:InvokeFunction","Resource":"<function arn[:qualifier]>",
 *    "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}}
 * and the policy `{"Version":"2012-10-17","Id":"default","Statement":[...]}`.
 */

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Principal: "*" | { AWS: string } | { Service: string };
  Action: string;
  Resource: string;
  Condition?: Record<string, Record<string, string>>;
}

export interface PermissionInput {
  StatementId: string;
  Action: string;
  Principal: string;
  SourceArn?: string | undefined;
  SourceAccount?: string | undefined;
  EventSourceToken?: string | undefined;
  PrincipalOrgID?: string | undefined;
  FunctionUrlAuthType?: string | undefined;
}

/** AWS's limit on a function's policy document, in bytes. */
export const POLICY_MAX_BYTES = 20_480;
const ACCOUNT = /^\d{12}$/;
const ACCOUNT_ROOT = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):root$/;
const IAM_PRINCIPAL = /^arn:aws[a-zA-Z-]*:iam::\d{12}:(user|role)\/[\w+=,.@/-]+$/;
const SERVICE = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/;
const INVOKE_ACTIONS = new Set(["lambda:InvokeFunction", "lambda:*", "*"]);

/** The statement AddPermission stores and answers, or InvalidParameterValueException for a principal AWS refuses. */
export function permissionStatement(input: PermissionInput, resource: string): PolicyStatement {
  const statement: PolicyStatement = {
    Sid: input.StatementId,
    Effect: "Allow",
    Principal: principalOf(input.Principal),
    Action: input.Action,
    Resource: resource,
  };
  const condition: Record<string, Record<string, string>> = {};
  const equals: Record<string, string> = {};
  if (input.SourceAccount !== undefined) equals["AWS:SourceAccount"] = input.SourceAccount;
  if (input.PrincipalOrgID !== undefined) equals["aws:PrincipalOrgID"] = input.PrincipalOrgID;
  if (input.EventSourceToken !== undefined) equals["lambda:EventSourceToken"] = input.EventSourceToken;
  if (input.FunctionUrlAuthType !== undefined) equals["lambda:FunctionUrlAuthType"] = input.FunctionUrlAuthType;
  if (Object.keys(equals).length > 0) condition.StringEquals = equals;
  if (input.SourceArn !== undefined) condition.ArnLike = { "AWS:SourceArn": input.SourceArn };
  if (Object.keys(condition).length > 0) statement.Condition = condition;
  return statement;
}

/** The policy document GetPolicy returns (as a JSON string), refusing one over AWS's size limit. */
export function policyDocument(statements: PolicyStatement[]): string {
  const document = JSON.stringify({ Version: "2012-10-17", Id: "default", Statement: statements });
  const size = new TextEncoder().encode(document).byteLength;
  if (size > POLICY_MAX_BYTES) throw policyTooLarge(size, POLICY_MAX_BYTES);
  return document;
}

export interface InvokeRequestContext {
  /** The calling tenant's account id. */
  callerAccountId: string;
  /** Set only when a service invokes on behalf of a resource; a tenant's direct invoke has none. */
  sourceArn?: string;
  sourceAccount?: string;
}

/**
 * Whether `statements` (the policy of the function at the qualifier the
 * caller addressed: "" unqualified, a version number or an alias) let
 * another tenant's account invoke it. For the invoke path: it resolves the
 * owner's tenant from the full ARN's account id, reads the statements of
 * that function and qualifier (PolicyStore.statements), and calls this.
 *
 * A statement grants when it allows lambda:InvokeFunction (or lambda:*, *)
 * to that account (`{"AWS": "arn:aws:iam::<account>:root"}`) or to everyone
 * (`"*"`), and every condition it carries holds for the request: a condition
 * on the source ARN or account needs those values, which a direct invoke
 * does not have, so such statements (written for services) grant nothing
 * here. Service principals never match a tenant. Nothing else crosses tenants.
 */
export function allowsInvoke(statements: readonly PolicyStatement[], request: InvokeRequestContext): boolean {
  return statements.some((s) => s.Effect === "Allow" && INVOKE_ACTIONS.has(s.Action) && principalMatches(s.Principal, request.callerAccountId) && conditionsHold(s.Condition, request));
}

function principalMatches(principal: PolicyStatement["Principal"], accountId: string): boolean {
  if (principal === "*") return true;
  if ("AWS" in principal) return principal.AWS === "*" || ACCOUNT_ROOT.exec(principal.AWS)?.[1] === accountId;
  return false;
}

function conditionsHold(condition: PolicyStatement["Condition"], request: InvokeRequestContext): boolean {
  if (condition === undefined) return true;
  for (const [operator, keys] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(keys)) {
      const actual = key === "AWS:SourceArn" ? request.sourceArn : key === "AWS:SourceAccount" ? request.sourceAccount : undefined;
      if (actual === undefined) return false;
      if (operator === "ArnLike" ? !arnLike(expected, actual) : actual !== expected) return false;
    }
  }
  return true;
}

/** IAM's ArnLike: `*` matches any run of characters, `?` one character. */
function arnLike(pattern: string, value: string): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`).test(value);
}

function principalOf(raw: string): PolicyStatement["Principal"] {
  if (raw === "*") return "*";
  if (ACCOUNT.test(raw)) return { AWS: `arn:aws:iam::${raw}:root` };
  if (ACCOUNT_ROOT.test(raw) || IAM_PRINCIPAL.test(raw)) return { AWS: raw };
  if (SERVICE.test(raw)) return { Service: raw };
  throw invalidParameter("The provided principal was invalid. Please check the principal and try again.");
}
