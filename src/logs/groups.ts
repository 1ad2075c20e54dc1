import type { GroupInfo } from "./log-group";
import { LogGroup } from "./log-group";
import { LogDirectory } from "./log-directory";
import { AwsJsonError } from "../aws-json/errors";
import type { JsonServiceCall } from "../aws-json/service";
import { LOG_GROUP_NAME } from "./limits";

/**
 * Where a tenant's log data lives: one LogGroup object per (tenant, group
 * name) and one LogDirectory per tenant. The tenant id is part of every
 * object name, so no request can address another tenant's objects.
 */
export function logGroupObject(env: Env, tenantId: string, name: string): DurableObjectStub<LogGroup> {
  return LogGroup.of(env, tenantId, name);
}

export function logDirectory(env: Env, tenantId: string): DurableObjectStub<LogDirectory> {
  return LogDirectory.of(env, tenantId);
}

export const GROUP_NOT_FOUND = "The specified log group does not exist.";
export const STREAM_NOT_FOUND = "The specified log stream does not exist.";

export function groupNotFound(): AwsJsonError {
  return new AwsJsonError(400, "ResourceNotFoundException", GROUP_NOT_FOUND);
}

/** `arn:aws:logs:<region>:<account>:log-group:<name>` (`arn` adds `:*`, as DescribeLogGroups shows it). */
export function logGroupArn(call: JsonServiceCall, name: string): string {
  return `arn:aws:logs:${call.env.REGION}:${call.principal.accountId}:log-group:${name}`;
}

/**
 * The group a request names, by `logGroupName` or `logGroupIdentifier`
 * (a name or an ARN, with or without `:*`). An ARN of another account or
 * region names a group this tenant does not have: the same
 * ResourceNotFoundException as a missing name, so nothing leaks.
 */
export function resolveGroupName(
  call: JsonServiceCall,
  name: string | undefined,
  identifier: string | undefined,
  notFound: (groupName: string) => AwsJsonError = groupNotFound,
): string {
  if (name !== undefined && identifier !== undefined) {
    throw new AwsJsonError(400, "InvalidParameterException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  }
  const given = name ?? identifier;
  if (given === undefined) throw new AwsJsonError(400, "InvalidParameterException", "Either LogGroup name or LogGroup ARN must be present.");
  if (!given.startsWith("arn:")) return given;
  const match = /^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([.\-_/#A-Za-z0-9]+?)(:\*)?$/.exec(given);
  if (!match) throw new AwsJsonError(400, "InvalidParameterException", `Invalid log group ARN: ${given}`);
  const [, region, account, groupName = ""] = match;
  if (account !== call.principal.accountId || region !== call.env.REGION || !LOG_GROUP_NAME.test(groupName)) throw notFound(groupName);
  return groupName;
}

/** The group's description for this tenant, or ResourceNotFoundException. */
export async function describeGroup(call: JsonServiceCall, name: string): Promise<GroupInfo> {
  const info = await logGroupObject(call.env, call.principal.tenantId, name).describe();
  if (!info) throw groupNotFound();
  return info;
}

/**
 * Keys of scope "invoke" may read logs (and run queries) but not change
 * anything: as on the Lambda API, writes need a "full" key. AWS's JSON
 * services refuse an unauthorised call with 400 AccessDeniedException.
 */
export function requireFullScope(call: JsonServiceCall, operation: string): void {
  if (call.principal.scope === "full") return;
  throw new AwsJsonError(
    400,
    "AccessDeniedException",
    `Access key ${call.principal.accessKeyId} has scope "invoke": it can read logs, not perform logs:${operation}. Use a key with scope "full".`,
  );
}
