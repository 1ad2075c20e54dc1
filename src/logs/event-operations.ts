import { AwsJsonError } from "../aws-json/errors";
import type { JsonOperation } from "../aws-json/service";
import { FilterPatternError, parseFilterPattern } from "./filter-pattern/parse";
import { groupOf, STREAM_NAME_RULE } from "./group-operations";
import { describeGroup, GROUP_NOT_FOUND, groupNotFound, logGroupObject, requireFullScope, STREAM_NOT_FOUND } from "./groups";
import { LogsInput, invalid } from "./input";
import {
  DAY_MS,
  LOG_GROUP_NAME,
  PUT_EVENT_OVERHEAD_BYTES,
  PUT_MAX_AGE_MS,
  PUT_MAX_BATCH_BYTES,
  PUT_MAX_EVENTS,
  PUT_MAX_FUTURE_MS,
  PUT_MAX_SPAN_MS,
  READ_MAX_EVENTS,
  utf8Length,
} from "./limits";
import { backwardToken, filterToken, forwardToken, readEventToken, readFilterToken, type Position } from "./positions";

const INVALID_TOKEN = () => new AwsJsonError(400, "InvalidParameterException", "The specified nextToken is invalid.");

/**
 * PutLogEvents: events must be in time order, at most 10,000 and 1 MB per
 * call within 24 h. Events too far in the future or past (or past the
 * group's retention) are not stored and are reported in
 * `rejectedLogEventsInfo`, as CloudWatch does; the rest are stored.
 */
export const putLogEvents: JsonOperation = async (body, call) => {
  requireFullScope(call, "PutLogEvents");
  const input = new LogsInput(body);
  const name = input.string("logGroupName", { min: 1, max: 512, pattern: LOG_GROUP_NAME, required: true }) ?? "";
  const stream = input.string("logStreamName", { ...STREAM_NAME_RULE, required: true }) ?? "";
  input.string("sequenceToken");
  const raw = input.list("logEvents", true) ?? [];
  if (raw.length < 1 || raw.length > PUT_MAX_EVENTS) throw invalid(undefined, "logEvents", `Member must have length ${raw.length < 1 ? "greater than or equal to 1" : `less than or equal to ${PUT_MAX_EVENTS}`}`);
  const events = raw.map((item, i) => {
    const member = `logEvents.${i + 1}.member`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new AwsJsonError(400, "SerializationException", `Expected structure for '${member}'`);
    const event = new LogsInput(item as Record<string, unknown>);
    const timestamp = event.integer("timestamp", { required: true, min: 0 }) ?? 0;
    const message = event.string("message", { required: true }) ?? "";
    if (message.length === 0) throw invalid(message, `${member}.message`, "Member must have length greater than or equal to 1");
    return { timestamp, message };
  });
  for (let i = 1; i < events.length; i++) {
    if ((events[i]?.timestamp ?? 0) < (events[i - 1]?.timestamp ?? 0)) {
      throw new AwsJsonError(400, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.");
    }
  }
  const first = events[0]?.timestamp ?? 0;
  const last = events.at(-1)?.timestamp ?? 0;
  if (last - first > PUT_MAX_SPAN_MS) throw new AwsJsonError(400, "InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
  const size = events.reduce((sum, e) => sum + utf8Length(e.message) + PUT_EVENT_OVERHEAD_BYTES, 0);
  if (size > PUT_MAX_BATCH_BYTES) throw new AwsJsonError(400, "InvalidParameterException", `Upload too large: ${size} bytes exceeds limit of ${PUT_MAX_BATCH_BYTES}`);

  const group = logGroupObject(call.env, call.principal.tenantId, name);
  const info = await describeGroup(call, name);
  const now = Date.now();
  const oldest = Math.max(now - PUT_MAX_AGE_MS, info.retentionInDays ? now - info.retentionInDays * DAY_MS : 0);
  // Events are sorted: the accepted ones are one contiguous run.
  const tooOld = events.findLastIndex((e) => e.timestamp < now - PUT_MAX_AGE_MS);
  const expired = events.findLastIndex((e) => e.timestamp < oldest);
  const tooNew = events.findIndex((e) => e.timestamp > now + PUT_MAX_FUTURE_MS);
  const accepted = events.slice(Math.max(tooOld, expired) + 1, tooNew < 0 ? events.length : tooNew);
  if (!(await group.append(stream, accepted, now, null))) throw new AwsJsonError(400, "ResourceNotFoundException", STREAM_NOT_FOUND);
  const rejected = {
    ...(tooNew >= 0 ? { tooNewLogEventStartIndex: tooNew } : {}),
    ...(tooOld >= 0 ? { tooOldLogEventEndIndex: tooOld } : {}),
    ...(expired > tooOld ? { expiredLogEventEndIndex: expired } : {}),
  };
  return Object.keys(rejected).length > 0 ? { rejectedLogEventsInfo: rejected } : {};
};

/**
 * GetLogEvents: one stream in time order. Without a token it answers the
 * newest events (or the oldest with startFromHead); `f/…` reads on, `b/…`
 * reads back. At the end of the stream the token passed in comes back
 * unchanged, which is how clients know to stop.
 */
export const getLogEvents: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const name = groupOf(input, call);
  const stream = input.string("logStreamName", { ...STREAM_NAME_RULE, required: true }) ?? "";
  const start = input.integer("startTime", { min: 0 });
  const end = input.integer("endTime", { min: 0 });
  const limit = input.integer("limit", { min: 1, max: READ_MAX_EVENTS }) ?? READ_MAX_EVENTS;
  const fromHead = input.boolean("startFromHead") ?? false;
  input.boolean("unmask");
  const tokenText = input.string("nextToken", { min: 1 });
  const token = tokenText === undefined ? undefined : readEventToken(tokenText);
  if (tokenText !== undefined && token === undefined) throw INVALID_TOKEN();

  const group = logGroupObject(call.env, call.principal.tenantId, name);
  if (!(await group.describe())) throw groupNotFound();
  if (!(await group.hasStream(stream))) throw new AwsJsonError(400, "ResourceNotFoundException", STREAM_NOT_FOUND);
  const range = { start, end };
  const from = token === undefined ? (fromHead ? "head" : "tail") : token.direction === "forward" ? { after: token.at } : { before: token.at };
  const events = await group.streamEvents(stream, range, from, limit);
  const firstEvent = events[0];
  const lastEvent = events.at(-1);
  let forward: Position;
  let backward: Position;
  if (firstEvent && lastEvent) {
    forward = { ts: lastEvent.ts, id: lastEvent.id };
    backward = { ts: firstEvent.ts, id: firstEvent.id };
  } else if (token !== undefined) {
    forward = backward = token.at;
  } else {
    // An empty stream (or range): reading on starts at the beginning of the range, reading back at its end.
    forward = { ts: start ?? 0, id: 0 };
    backward = { ts: end ?? Number.MAX_SAFE_INTEGER, id: 0 };
  }
  return {
    events: events.map((e) => ({ timestamp: e.ts, message: e.message, ingestionTime: e.ingestion })),
    nextForwardToken: token?.direction === "forward" && events.length === 0 ? tokenText : forwardToken(forward),
    nextBackwardToken: token?.direction === "backward" && events.length === 0 ? tokenText : backwardToken(backward),
  };
};

/**
 * FilterLogEvents: the group's events (all streams, named streams, or a
 * stream prefix) in time order, matching a filter pattern. `endTime` is
 * inclusive here (GetLogEvents' is not), as the API reference says.
 * `searchedLogStreams` is always empty: AWS stopped filling it in 2020.
 */
export const filterLogEvents: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const name = groupOf(input, call);
  const streams = input.strings("logStreamNames", { min: 1, max: 100, item: STREAM_NAME_RULE });
  const streamPrefix = input.string("logStreamNamePrefix", STREAM_NAME_RULE);
  if (streams !== undefined && streamPrefix !== undefined) {
    throw new AwsJsonError(400, "InvalidParameterException", "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  }
  const start = input.integer("startTime", { min: 0 });
  const end = input.integer("endTime", { min: 0 });
  const pattern = input.string("filterPattern", { max: 1024 }) ?? "";
  const limit = input.integer("limit", { min: 1, max: READ_MAX_EVENTS }) ?? READ_MAX_EVENTS;
  input.boolean("interleaved");
  input.boolean("unmask");
  const tokenText = input.string("nextToken", { min: 1 });
  const after = tokenText === undefined ? undefined : readFilterToken(tokenText);
  if (tokenText !== undefined && after === undefined) throw INVALID_TOKEN();
  try {
    parseFilterPattern(pattern);
  } catch (error) {
    if (error instanceof FilterPatternError) throw new AwsJsonError(400, "InvalidParameterException", `Invalid filter pattern: ${error.message}`);
    throw error;
  }
  const group = logGroupObject(call.env, call.principal.tenantId, name);
  if (!(await group.describe())) throw new AwsJsonError(400, "ResourceNotFoundException", GROUP_NOT_FOUND);
  const result = await group.filter({ streams, streamPrefix, range: { start, end: end === undefined ? undefined : end + 1 }, after, pattern, limit });
  return {
    events: result.events.map((e) => ({ logStreamName: e.stream, timestamp: e.ts, message: e.message, ingestionTime: e.ingestion, eventId: String(e.id) })),
    searchedLogStreams: [],
    ...(result.resumeAt ? { nextToken: filterToken(result.resumeAt) } : {}),
  };
};
