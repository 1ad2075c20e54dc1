import { AwsJsonError } from "../aws-json/errors";
import type { JsonOperation } from "../aws-json/service";
import { describeGroup, groupNotFound, logDirectory, logGroupArn, logGroupObject, requireFullScope, resolveGroupName } from "./groups";
import { LogsInput, invalid } from "./input";
import { DESCRIBE_DEFAULT_LIMIT, LOG_GROUP_NAME, LOG_STREAM_NAME, RETENTION_DAYS } from "./limits";

export const GROUP_NAME_RULE = { min: 1, max: 512, pattern: LOG_GROUP_NAME, patternText: "[\\.\\-_/#A-Za-z0-9]+" };
export const IDENTIFIER_RULE = { min: 1, max: 2048, pattern: /^[\w#+=/:,.@-]*$/, patternText: "[\\w#+=/:,.@-]*" };
export const STREAM_NAME_RULE = { min: 1, max: 512, pattern: LOG_STREAM_NAME, patternText: "[^:*]*" };

/** `logGroupName` or `logGroupIdentifier`, as the read operations accept them. */
export function groupOf(input: LogsInput, call: Parameters<JsonOperation>[1]): string {
  return resolveGroupName(call, input.string("logGroupName", GROUP_NAME_RULE), input.string("logGroupIdentifier", IDENTIFIER_RULE));
}

export const createLogGroup: JsonOperation = async (body, call) => {
  requireFullScope(call, "CreateLogGroup");
  const input = new LogsInput(body);
  const name = input.string("logGroupName", { ...GROUP_NAME_RULE, required: true }) ?? "";
  const logGroupClass = input.string("logGroupClass");
  if (logGroupClass !== undefined && logGroupClass !== "STANDARD") {
    throw new AwsJsonError(400, "InvalidParameterException", `Log group class ${logGroupClass} is not supported by cellfn (only STANDARD).`);
  }
  await logDirectory(call.env, call.principal.tenantId).register(name);
  const created = await logGroupObject(call.env, call.principal.tenantId, name).create(name, Date.now());
  if (!created) throw new AwsJsonError(400, "ResourceAlreadyExistsException", "The specified log group already exists");
  return {};
};

export const deleteLogGroup: JsonOperation = async (body, call) => {
  requireFullScope(call, "DeleteLogGroup");
  const input = new LogsInput(body);
  const name = input.string("logGroupName", { ...GROUP_NAME_RULE, required: true }) ?? "";
  // Unlisted first: a write racing the delete may re-create the group, and then it must be listed again
  // (its own first write registers it); a name listed without a group is skipped by DescribeLogGroups.
  const group = logGroupObject(call.env, call.principal.tenantId, name);
  if (!(await group.describe())) throw groupNotFound();
  await logDirectory(call.env, call.principal.tenantId).unregister(name);
  if (!(await group.drop())) throw groupNotFound();
  return {};
};

export const describeLogGroups: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const prefix = input.string("logGroupNamePrefix", GROUP_NAME_RULE);
  const pattern = input.string("logGroupNamePattern", { max: 512, pattern: /^[.\-_/#A-Za-z0-9]*$/, patternText: "[\\.\\-_/#A-Za-z0-9]*" });
  const identifiers = input.strings("logGroupIdentifiers", { min: 1, max: 50, item: IDENTIFIER_RULE });
  const limit = input.integer("limit", { min: 1, max: 50 }) ?? DESCRIBE_DEFAULT_LIMIT;
  const nextToken = input.string("nextToken", { min: 1 });
  input.strings("accountIdentifiers");
  input.boolean("includeLinkedAccounts");
  const logGroupClass = input.string("logGroupClass");
  if ([prefix, pattern, identifiers].filter((v) => v !== undefined).length > 1) {
    throw new AwsJsonError(400, "InvalidParameterException", "LogGroup name prefix, LogGroup name pattern and LogGroup identifiers are mutually exclusive parameters.");
  }
  const after = nextToken === undefined ? undefined : readNameToken(nextToken);
  const names =
    logGroupClass !== undefined && logGroupClass !== "STANDARD"
      ? []
      : await logDirectory(call.env, call.principal.tenantId).list({
          prefix,
          pattern: pattern === "" ? undefined : pattern,
          // Identifiers naming another account's groups simply match nothing here.
          names: identifiers?.flatMap((id) => {
            try {
              return [resolveGroupName(call, undefined, id)];
            } catch {
              return [];
            }
          }),
          after,
          limit: limit + 1,
        });
  const page = names.slice(0, limit);
  const infos = await Promise.all(page.map((name) => logGroupObject(call.env, call.principal.tenantId, name).describe()));
  const logGroups = infos.flatMap((info) => {
    if (!info) return [];
    const arn = logGroupArn(call, info.name);
    return [
      {
        logGroupName: info.name,
        creationTime: info.creationTime,
        ...(info.retentionInDays === null ? {} : { retentionInDays: info.retentionInDays }),
        metricFilterCount: 0,
        arn: `${arn}:*`,
        logGroupArn: arn,
        storedBytes: info.storedBytes,
        logGroupClass: "STANDARD",
        deletionProtectionEnabled: false,
      },
    ];
  });
  const last = page.at(-1);
  return { logGroups, ...(names.length > limit && last !== undefined ? { nextToken: nameToken(last) } : {}) };
};

export const putRetentionPolicy: JsonOperation = async (body, call) => {
  requireFullScope(call, "PutRetentionPolicy");
  const input = new LogsInput(body);
  const name = input.string("logGroupName", { ...GROUP_NAME_RULE, required: true }) ?? "";
  const days = input.integer("retentionInDays", { required: true }) ?? 0;
  if (!(RETENTION_DAYS as readonly number[]).includes(days)) {
    throw invalid(days, "retentionInDays", `Member must satisfy enum value set: [${RETENTION_DAYS.join(", ")}]`);
  }
  if (!(await logGroupObject(call.env, call.principal.tenantId, name).setRetention(days))) throw groupNotFound();
  return {};
};

export const deleteRetentionPolicy: JsonOperation = async (body, call) => {
  requireFullScope(call, "DeleteRetentionPolicy");
  const input = new LogsInput(body);
  const name = input.string("logGroupName", { ...GROUP_NAME_RULE, required: true }) ?? "";
  if (!(await logGroupObject(call.env, call.principal.tenantId, name).setRetention(null))) throw groupNotFound();
  return {};
};

export const createLogStream: JsonOperation = async (body, call) => {
  requireFullScope(call, "CreateLogStream");
  const input = new LogsInput(body);
  const name = input.string("logGroupName", { ...GROUP_NAME_RULE, required: true }) ?? "";
  const stream = input.string("logStreamName", { ...STREAM_NAME_RULE, required: true }) ?? "";
  const outcome = await logGroupObject(call.env, call.principal.tenantId, name).createStream(stream, Date.now());
  if (outcome === "no-group") throw groupNotFound();
  if (outcome === "exists") throw new AwsJsonError(400, "ResourceAlreadyExistsException", "The specified log stream already exists");
  return {};
};

export const describeLogStreams: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const name = groupOf(input, call);
  const prefix = input.string("logStreamNamePrefix", STREAM_NAME_RULE);
  const orderBy = input.string("orderBy") ?? "LogStreamName";
  if (orderBy !== "LogStreamName" && orderBy !== "LastEventTime") throw invalid(orderBy, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]");
  if (orderBy === "LastEventTime" && prefix !== undefined) {
    throw new AwsJsonError(400, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  const descending = input.boolean("descending") ?? false;
  const limit = input.integer("limit", { min: 1, max: 50 }) ?? DESCRIBE_DEFAULT_LIMIT;
  const nextToken = input.string("nextToken", { min: 1 });
  const offset = nextToken === undefined ? 0 : readOffsetToken(nextToken);
  const group = logGroupObject(call.env, call.principal.tenantId, name);
  const [info, all] = await Promise.all([describeGroup(call, name), group.streams()]);
  let streams = prefix === undefined ? all : all.filter((s) => s.logStreamName.startsWith(prefix));
  if (orderBy === "LastEventTime") streams = streams.sort((a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || (a.logStreamName < b.logStreamName ? -1 : 1));
  if (descending) streams = streams.reverse();
  const page = streams.slice(offset, offset + limit);
  const arn = logGroupArn(call, info.name);
  return {
    logStreams: page.map((s) => ({ ...s, arn: `${arn}:log-stream:${s.logStreamName}` })),
    ...(offset + limit < streams.length ? { nextToken: offsetToken(offset + limit) } : {}),
  };
};

function nameToken(name: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(name)));
}

function readNameToken(token: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(token), (c) => c.charCodeAt(0)));
  } catch {
    throw new AwsJsonError(400, "InvalidParameterException", "The specified nextToken is invalid.");
  }
}

function offsetToken(offset: number): string {
  return `s/${offset}`;
}

function readOffsetToken(token: string): number {
  const match = /^s\/(\d{1,9})$/.exec(token);
  if (!match) throw new AwsJsonError(400, "InvalidParameterException", "The specified nextToken is invalid.");
  return Number(match[1]);
}
