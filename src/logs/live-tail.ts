import { AwsJsonError } from "../aws-json/errors";
import type { JsonOperation, JsonServiceCall } from "../aws-json/service";
import { jsonEvent, jsonException } from "../invoke/event-stream";
import { FilterPatternError, parseFilterPattern } from "./filter-pattern/parse";
import { IDENTIFIER_RULE, STREAM_NAME_RULE } from "./group-operations";
import { logDirectory, logGroupObject, resolveGroupName } from "./groups";
import { LogsInput } from "./input";
import type { LogGroup, StoredEvent } from "./log-group";
import { sessionResults } from "./live-tail-results";

/** CloudWatch ends a live tail session after 3 hours with SessionTimeoutException. */
export const SESSION_MAX_MS = 3 * 3_600_000;
/** A `sessionUpdate` every second, empty if nothing new matched, as CloudWatch sends them. */
export const UPDATE_INTERVAL_MS = 1000;
/** Concurrent sessions per account (CloudWatch's default quota); more get LimitExceededException. */
export const MAX_SESSIONS = 15;
/** A session holds a lease in the tenant's log directory, renewed every RENEW_EVERY updates. */
const LEASE_MS = 30_000;
const RENEW_EVERY = 10;

/** How a session keeps its place among the tenant's open sessions. */
export interface SessionLease {
  renew(): Promise<void>;
  close(): Promise<void>;
}

export interface LiveTailSession {
  requestId: string;
  sessionId: string;
  accountId: string;
  /** The groups as the request named them (sessionStart echoes them) and their objects. */
  groups: { identifier: string; name: string; object: DurableObjectStub<LogGroup> }[];
  logStreamNames?: string[];
  logStreamNamePrefixes?: string[];
  logEventFilterPattern?: string;
}

/**
 * StartLiveTail (Logs_20140328.StartLiveTail): validates the request and
 * checks every group exists for this tenant before answering (so bad input
 * and missing groups get the usual JSON errors, status 400), then answers
 * 200 with an `application/vnd.amazon.eventstream` body: `initial-response`
 * and `sessionStart`,
 * then a `sessionUpdate` every second until the client goes away or 3 hours
 * pass (SessionTimeoutException). Groups are named by ARN (the model's pattern refuses
 * a `:*` suffix) or, as cellfn also allows, by name; another tenant's or
 * account's group answers as a missing one.
 */
export const startLiveTail: JsonOperation = async (body, call) => {
  const input = new LogsInput(body);
  const identifiers = input.strings("logGroupIdentifiers", { min: 1, max: 10, item: IDENTIFIER_RULE });
  if (identifiers === undefined) throw new AwsJsonError(400, "InvalidParameterException", "1 validation error detected: Value null at 'logGroupIdentifiers' failed to satisfy constraint: Member must not be null");
  const logStreamNames = input.strings("logStreamNames", { min: 1, max: 100, item: STREAM_NAME_RULE });
  const logStreamNamePrefixes = input.strings("logStreamNamePrefixes", { min: 1, max: 100, item: STREAM_NAME_RULE });
  const logEventFilterPattern = input.string("logEventFilterPattern", { max: 1024 });
  if (logStreamNames && logStreamNamePrefixes) throw new AwsJsonError(400, "InvalidParameterException", "logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.");
  if ((logStreamNames || logStreamNamePrefixes) && identifiers.length > 1) {
    throw new AwsJsonError(400, "InvalidParameterException", "logStreamNames and logStreamNamePrefixes can only be specified with a single log group in logGroupIdentifiers.");
  }
  try {
    parseFilterPattern(logEventFilterPattern ?? "");
  } catch (error) {
    if (error instanceof FilterPatternError) throw new AwsJsonError(400, "InvalidParameterException", `Invalid filter pattern: ${error.message}`);
    throw error;
  }
  const groups = identifiers.map((identifier) => {
    const name = resolveGroupName(call, undefined, identifier, groupMissing(call));
    return { identifier, name, object: logGroupObject(call.env, call.principal.tenantId, name) };
  });
  const found = await Promise.all(groups.map((g) => g.object.describe()));
  const missing = groups.find((_, i) => !found[i]);
  if (missing) throw groupMissing(call)(missing.name);

  const session: LiveTailSession = {
    requestId: call.requestId,
    sessionId: crypto.randomUUID(),
    accountId: call.principal.accountId,
    groups,
    ...(logStreamNames ? { logStreamNames } : {}),
    ...(logStreamNamePrefixes ? { logStreamNamePrefixes } : {}),
    ...(logEventFilterPattern !== undefined ? { logEventFilterPattern } : {}),
  };
  const directory = logDirectory(call.env, call.principal.tenantId);
  if (!(await directory.openLiveTail(session.sessionId, Date.now(), LEASE_MS, MAX_SESSIONS))) {
    throw new AwsJsonError(400, "LimitExceededException", `You have reached the maximum number of concurrent Live Tail sessions (${MAX_SESSIONS}) for this account. Close a session and try again.`);
  }
  const lease: SessionLease = {
    renew: () => directory.renewLiveTail(session.sessionId, Date.now(), LEASE_MS),
    close: () => directory.closeLiveTail(session.sessionId),
  };
  // Where each group ends now: the session shows what is ingested from here on.
  const cursors = await Promise.all(groups.map(async (g) => (await g.object.liveTail(null, { pattern: "" })).cursor)).catch(async (error: unknown) => {
    await lease.close();
    throw error;
  });
  return new Response(liveTailStream(session, cursors, { lease }), {
    status: 200,
    headers: { "content-type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": call.requestId },
  });
};

function groupMissing(call: JsonServiceCall): (name: string) => AwsJsonError {
  return (name) => new AwsJsonError(400, "ResourceNotFoundException", `Log group '${name}' does not exist for account ID '${call.principal.accountId}'`);
}

/**
 * The session's event stream. Why it polls: each second it asks every
 * group's Durable Object for the events ingested after its cursor (one
 * indexed range read on the event id). The alternative, the group object
 * pushing to open sessions, would add work to every append on the invoke
 * path's log shipping and keep the object in memory for hours; a session
 * answers once a second anyway (as CloudWatch's updates come), so a line is
 * shown at most one interval after it is stored. A slow reader is not
 * queued for: the stream is pulled, so the next poll waits for the client,
 * and a client that disconnects cancels it.
 */
export function liveTailStream(
  session: LiveTailSession,
  startCursors: readonly number[],
  options: { maxMs?: number; intervalMs?: number; lease?: SessionLease } = {},
): ReadableStream<Uint8Array> {
  const cursors = [...startCursors];
  const started = Date.now();
  const deadline = started + (options.maxMs ?? SESSION_MAX_MS);
  const interval = options.intervalMs ?? UPDATE_INTERVAL_MS;
  let ticks = 0;
  let startSent = false;
  let closed = false;
  const { logStreamNames, logStreamNamePrefixes, logEventFilterPattern } = session;
  const end = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    controller.close();
    closed = true;
    await options.lease?.close().catch((error: unknown) => console.error(`logs: live tail session ${session.sessionId}: closing its lease failed`, error));
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!startSent) {
          startSent = true;
          // The RPC protocols' first event: the output's other members (none here). botocore (the AWS CLI,
          // boto3) refuses a stream without it; the JS SDK reads it if present.
          controller.enqueue(jsonEvent("initial-response", {}));
          controller.enqueue(
            jsonEvent("sessionStart", {
              requestId: session.requestId,
              sessionId: session.sessionId,
              logGroupIdentifiers: session.groups.map((g) => g.identifier),
              ...(logStreamNames ? { logStreamNames } : {}),
              ...(logStreamNamePrefixes ? { logStreamNamePrefixes } : {}),
              ...(logEventFilterPattern !== undefined ? { logEventFilterPattern } : {}),
            }),
          );
          return;
        }
        ticks++;
        const next = Math.min(started + ticks * interval, deadline);
        await sleep(next - Date.now());
        // A client that went away cancelled the stream: no more pulls come.
        if (closed) return;
        if (Date.now() >= deadline) {
          controller.enqueue(jsonException("SessionTimeoutException", "The Live Tail session has timed out after 3 hours."));
          await end(controller);
          return;
        }
        try {
          if (ticks % RENEW_EVERY === 0) await options.lease?.renew();
          controller.enqueue(await update(session, cursors));
        } catch (error) {
          console.error(`logs: live tail session ${session.sessionId} failed`, error);
          controller.enqueue(jsonException("SessionStreamingException", "An internal error occurred in the Live Tail session."));
          await end(controller);
        }
      },
      async cancel() {
        closed = true;
        await options.lease?.close().catch((error: unknown) => console.error(`logs: live tail session ${session.sessionId}: closing its lease failed`, error));
      },
    },
    { highWaterMark: 0 },
  );
}

/** One `sessionUpdate`: each group's new matching events (cursors advance in place). */
async function update(session: LiveTailSession, cursors: number[]): Promise<Uint8Array> {
  const filters = {
    ...(session.logStreamNames ? { streams: session.logStreamNames } : {}),
    ...(session.logStreamNamePrefixes ? { prefixes: session.logStreamNamePrefixes } : {}),
    pattern: session.logEventFilterPattern ?? "",
  };
  const reads = await Promise.all(session.groups.map((g, i) => g.object.liveTail(cursors[i] ?? null, filters)));
  const tagged: (StoredEvent & { group: string })[] = [];
  let skipped = false;
  reads.forEach((read, i) => {
    cursors[i] = read.cursor;
    skipped ||= read.skipped;
    const group = session.groups[i];
    for (const event of read.events) tagged.push({ ...event, group: group ? `${session.accountId}:${group.name}` : "" });
  });
  const { events, sampled } = sessionResults(tagged);
  return jsonEvent("sessionUpdate", {
    sessionMetadata: { sampled: sampled || skipped },
    sessionResults: events.map((e) => ({ logStreamName: e.stream, logGroupIdentifier: e.group, message: e.message, timestamp: e.ts, ingestionTime: e.ingestion })),
  });
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
