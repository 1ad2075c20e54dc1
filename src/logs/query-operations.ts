import { AwsJsonError } from "../aws-json/errors";
import type { JsonOperation, JsonServiceCall } from "../aws-json/service";
import { GROUP_NAME_RULE, IDENTIFIER_RULE } from "./group-operations";
import { logDirectory, logGroupObject, resolveGroupName } from "./groups";
import { LogsInput, invalid } from "./input";
import type { QueryEvent } from "./insights/fields";
import { MalformedQueryError, parseQuery } from "./insights/parse";
import { DEFAULT_RESULT_LIMIT, QueryRun } from "./insights/run";
import type { Query } from "./insights/ast";
import type { Position } from "./positions";

/** Events a query reads from a group per call. */
const SCAN_PAGE_EVENTS = 5_000;
/**
 * Events one query may read in all: a query runs in one Worker invocation
 * (after StartQuery answers), whose memory and time are bounded. Past this
 * the query fails rather than answer from part of the data.
 */
export const QUERY_MAX_SCANNED_EVENTS = 500_000;
const QUERY_NOT_FOUND = "Query does not exist.";

/**
 * StartQuery parses the query (MalformedQueryException names what is not
 * supported), checks every log group exists for this tenant, records the
 * query as Running and answers its id; the query then runs after the
 * response (`waitUntil`) and GetQueryResults reads its results.
 */
export const startQuery: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const language = input.string("queryLanguage") ?? "CWLI";
  if (language !== "CWLI") throw new AwsJsonError(400, "InvalidParameterException", `Query language ${language} is not supported by cellfn (only CWLI, the Logs Insights language).`);
  const single = input.string("logGroupName", GROUP_NAME_RULE);
  const names = input.strings("logGroupNames", { max: 50, item: GROUP_NAME_RULE });
  const identifiers = input.strings("logGroupIdentifiers", { max: 50, item: IDENTIFIER_RULE });
  const given = [single === undefined ? undefined : [single], names, identifiers].filter((v) => v !== undefined);
  if (given.length !== 1) throw new AwsJsonError(400, "InvalidParameterException", "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be given.");
  const startTime = input.integer("startTime", { required: true, min: 0 }) ?? 0;
  const endTime = input.integer("endTime", { required: true, min: 0 }) ?? 0;
  if (endTime < startTime) throw new AwsJsonError(400, "InvalidParameterException", "End time should not be before the start time");
  const queryString = input.string("queryString", { required: true, max: 10_000 }) ?? "";
  const limit = input.integer("limit", { min: 1, max: 10_000 }) ?? DEFAULT_RESULT_LIMIT;
  let query: Query;
  try {
    query = parseQuery(queryString);
  } catch (error) {
    if (error instanceof MalformedQueryError) throw new AwsJsonError(400, "MalformedQueryException", error.message);
    throw error;
  }
  const groups = [...new Set((given[0] ?? []).map((g) => resolveGroupName(call, undefined, g, (name) => groupMissing(call, name))))];
  if (groups.length === 0) throw invalid(undefined, "logGroupNames", "Member must have length greater than or equal to 1");
  const found = await Promise.all(groups.map((g) => logGroupObject(call.env, call.principal.tenantId, g).describe()));
  const missing = groups.find((_, i) => !found[i]);
  if (missing !== undefined) throw groupMissing(call, missing);

  const queryId = crypto.randomUUID();
  const directory = logDirectory(call.env, call.principal.tenantId);
  await directory.startQuery(queryId, queryString, groups, Date.now());
  // Query times are epoch seconds, both ends included.
  const range = { start: startTime * 1000, end: endTime * 1000 + 1000 };
  call.waitUntil(
    runQuery(call, query, groups, range, limit).then(
      (output) => directory.finishQuery(queryId, "Complete", output),
      (error: unknown) => {
        console.error(`logs: query ${queryId} failed`, error);
        return directory.finishQuery(queryId, "Failed", null);
      },
    ),
  );
  return { queryId };
};

/** Insights' wording, with the caller's own account: another tenant's group reads exactly as a missing one. */
function groupMissing(call: JsonServiceCall, name: string): AwsJsonError {
  return new AwsJsonError(400, "ResourceNotFoundException", `Log group '${name}' does not exist for account ID '${call.principal.accountId}'`);
}

async function runQuery(call: JsonServiceCall, query: Query, groups: string[], range: { start: number; end: number }, limit: number) {
  const run = new QueryRun(query, limit);
  let scanned = 0;
  for (const name of groups) {
    const group = logGroupObject(call.env, call.principal.tenantId, name);
    let after: Position | undefined;
    for (;;) {
      const { events, more } = await group.scan(range, after, SCAN_PAGE_EVENTS);
      scanned += events.length;
      if (scanned > QUERY_MAX_SCANNED_EVENTS) throw new Error(`query reads more than ${QUERY_MAX_SCANNED_EVENTS} events`);
      for (const e of events) {
        const event: QueryEvent = { timestamp: e.ts, ingestionTime: e.ingestion, message: e.message, logStream: e.stream, logGroup: name, accountId: call.principal.accountId };
        run.add(event);
      }
      const last = events.at(-1);
      if (last === undefined || !more) break;
      after = { ts: last.ts, id: last.id };
    }
  }
  return run.finish();
}

export const getQueryResults: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const queryId = input.string("queryId", { required: true, min: 1, max: 256 }) ?? "";
  input.string("nextToken");
  input.integer("maxItems", { min: 0, max: 10_000 });
  const stored = await logDirectory(call.env, call.principal.tenantId).query(queryId);
  if (!stored) throw new AwsJsonError(400, "ResourceNotFoundException", QUERY_NOT_FOUND);
  const output = stored.output;
  return {
    queryLanguage: "CWLI",
    results: output?.rows ?? [],
    statistics: {
      recordsMatched: output?.recordsMatched ?? 0,
      recordsScanned: output?.recordsScanned ?? 0,
      estimatedRecordsSkipped: 0,
      bytesScanned: output?.bytesScanned ?? 0,
      estimatedBytesSkipped: 0,
      logGroupsScanned: stored.logGroups.length,
    },
    status: stored.status,
  };
};

export const stopQuery: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const queryId = input.string("queryId", { required: true, min: 1, max: 256 }) ?? "";
  const directory = logDirectory(call.env, call.principal.tenantId);
  if (!(await directory.query(queryId))) throw new AwsJsonError(400, "ResourceNotFoundException", QUERY_NOT_FOUND);
  return { success: await directory.stopQuery(queryId) };
};
