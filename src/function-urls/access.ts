/**
 * Who may call a function URL, from the function's resource-based policy
 * (the statements AddPermission stored at the URL's qualifier). Pure.
 *
 * - AuthType NONE: Lambda still requires a statement allowing
 *   `lambda:InvokeFunctionUrl` to everyone (`"*"`), usually conditioned on
 *   `lambda:FunctionUrlAuthType: NONE`; without it the URL answers 403.
 * - AuthType AWS_IAM: the owner's own keys may call it; another account
 *   only where a statement allows `lambda:InvokeFunctionUrl` to that
 *   account (or to `*`) for AuthType AWS_IAM.
 */
import type { PolicyStatement } from "../lambda/policy";

const URL_ACTIONS = new Set(["lambda:InvokeFunctionUrl", "lambda:*", "*"]);
const ACCOUNT_ROOT = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):root$/;
const AUTH_TYPE_KEY = "lambda:FunctionUrlAuthType";

export type UrlCaller = { kind: "anonymous" } | { kind: "account"; accountId: string };

export function allowsUrlInvoke(statements: readonly PolicyStatement[], authType: "NONE" | "AWS_IAM", caller: UrlCaller): boolean {
  return statements.some(
    (s) => s.Effect === "Allow" && URL_ACTIONS.has(s.Action) && principalMatches(s.Principal, caller) && conditionsHold(s.Condition, authType),
  );
}

function principalMatches(principal: PolicyStatement["Principal"], caller: UrlCaller): boolean {
  if (principal === "*") return true;
  if (!("AWS" in principal)) return false;
  if (principal.AWS === "*") return true;
  return caller.kind === "account" && ACCOUNT_ROOT.exec(principal.AWS)?.[1] === caller.accountId;
}

/** Only the auth-type condition can hold for a URL call; a statement conditioned on anything else (a source ARN) grants nothing here. */
function conditionsHold(condition: PolicyStatement["Condition"], authType: string): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition).every(
    ([operator, keys]) => operator === "StringEquals" && Object.entries(keys).every(([key, value]) => key === AUTH_TYPE_KEY && value === authType),
  );
}
