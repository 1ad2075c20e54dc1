/**
 * The five mapping operations for a tenant: checks (function, source, rules),
 * then the directory (the index) and the mapping's object (its settings and
 * state). Sources are the tenant's SQS queues and Kinesis streams. Another
 * tenant's UUID, queue or stream is answered as a missing one: objects are
 * keyed by tenant, so it is never found.
 */
import { conflict, invalidParameter, notFound } from "../errors";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { functionNotFound, parseFunctionName } from "../lambda/function-name";
import type { FunctionRef } from "../lambda/function-name";
import type { TenantScope } from "../services/scope";
import { resolveVersion } from "../services/resolve";
import { ownQueueFromArn } from "../sqs/queue-ref";
import { TenantQueues } from "../sqs/queues";
import { directoryOf } from "../kinesis/streams";
import { parseStreamArn } from "../kinesis/names";
import { EventSourceDirectory } from "./directory-object";
import type { MappingRecord, MappingSource } from "./mapping";
import { mappingConfiguration, NO_RECORDS_PROCESSED, USER_ACTION } from "./mapping";
import type { CreateInput, MappingSettings, UpdateInput } from "./settings";
import { applySettings, checkForQueue } from "./settings";
import { applyStreamSettings, invalidDestinationConfig } from "./stream-settings";
import { z } from "zod";

export const LIST_PAGE_MAX = 100;

export const mappingNotFound = () => notFound("The resource you requested does not exist.");
export const queueNotReachable = () =>
  invalidParameter(
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you do not have access to it.",
  );
export const unrecognizedEventSource = () => invalidParameter("Unrecognized event source.");
export const streamNotFound = (arn: string) => invalidParameter(`Stream not found: ${arn}`);
export const mappingExists = (source: MappingSource, sourceArn: string, functionName: string, uuid: string) =>
  conflict(
    source.kind === "sqs"
      ? `An event source mapping with SQS arn (" ${sourceArn} ") and function (" ${functionName} ") already exists. Please update or delete the existing mapping with UUID ${uuid}`
      : `The event source arn (" ${sourceArn} ") and function (" ${functionName} ") provided mapping already exists. Please update or delete the existing mapping with UUID ${uuid}`,
  );

const directory = (scope: TenantScope) => EventSourceDirectory.of(scope.env, scope.principal.tenantId);
const poller = (scope: TenantScope, uuid: string) => scope.env.SQS_POLLER.get(scope.env.SQS_POLLER.idFromName(`${scope.principal.tenantId}/${uuid}`));

/** The function a mapping invokes: it (and its qualifier) must exist. */
async function mappedFunction(scope: TenantScope, raw: string): Promise<FunctionRef> {
  const ref = parseFunctionName(raw, scope.names, { qualified: true });
  const fn = await scope.store.getFunction(ref.name);
  if (!fn) throw functionNotFound(scope.names, ref.name, ref.qualifier);
  if (ref.qualifier !== undefined) await resolveVersion(scope, ref);
  return ref;
}

/** The caller's own queue named by an SQS ARN: another account's queue and a missing queue get the same answer. */
async function ownQueue(scope: TenantScope, arn: string): Promise<string> {
  if (!/^arn:[^:]*:sqs:/.test(arn)) throw unrecognizedEventSource();
  const name = ownQueueFromArn(arn, scope.principal.accountId);
  if (name === null) throw queueNotReachable();
  const description = await new TenantQueues(scope.env, scope.principal.tenantId).describe(name);
  if (!description) throw queueNotReachable();
  return name;
}

/** The caller's own ACTIVE stream named by a Kinesis stream ARN: another account's and a missing stream get the same answer. */
async function ownStream(scope: TenantScope, arn: string): Promise<MappingSource> {
  const parsed = parseStreamArn(arn);
  if (!parsed || parsed.accountId !== scope.principal.accountId || parsed.region !== scope.env.REGION) throw streamNotFound(arn);
  const stream = await directoryOf(scope.env, scope.principal.tenantId).get(parsed.streamName);
  if (!stream || stream.status !== "ACTIVE") throw streamNotFound(arn);
  return { kind: "kinesis", streamName: stream.name, streamId: stream.streamId, shardCount: stream.shardCount };
}

const isStreamArn = (arn: string) => /^arn:[^:]*:kinesis:/.test(arn);

/** The source an EventSourceArn names, refused unless it is the caller's. */
async function ownSource(scope: TenantScope, arn: string): Promise<MappingSource> {
  if (isStreamArn(arn)) return ownStream(scope, arn);
  return { kind: "sqs", queueName: await ownQueue(scope, arn) };
}

/** The settings for a source, `input` over `base`; a stream's OnFailure queue must exist. */
async function settingsFor(scope: TenantScope, source: MappingSource, input: Parameters<typeof applyStreamSettings>[0], base?: MappingSettings): Promise<MappingSettings> {
  if (source.kind === "sqs") {
    const settings = applySettings(input, base);
    checkForQueue(settings, source.queueName);
    return settings;
  }
  const settings = applyStreamSettings(input, base, scope.principal.accountId, Date.now());
  const onFailure = settings.stream?.onFailure;
  if (onFailure !== undefined && onFailure !== base?.stream?.onFailure) {
    const name = onFailure.slice(onFailure.lastIndexOf(":") + 1);
    const queue = await new TenantQueues(scope.env, scope.principal.tenantId).describe(name);
    if (!queue || queue.arn !== onFailure) throw invalidDestinationConfig(undefined, onFailure);
  }
  return settings;
}

async function load(scope: TenantScope, uuid: string): Promise<MappingRecord> {
  const record = await poller(scope, uuid).get();
  if (!record || record.tenantId !== scope.principal.tenantId) throw mappingNotFound();
  return record;
}

export async function createMapping(scope: TenantScope, input: CreateInput): Promise<Record<string, unknown>> {
  // Settings the source's kind cannot take fail first, before any lookup.
  if (isStreamArn(input.EventSourceArn)) applyStreamSettings(input, undefined, scope.principal.accountId, Date.now());
  else applySettings(input);
  const ref = await mappedFunction(scope, input.FunctionName);
  const source = await ownSource(scope, input.EventSourceArn);
  const settings = await settingsFor(scope, source, input);
  const uuid = crypto.randomUUID();
  const record: MappingRecord = {
    uuid,
    tenantId: scope.principal.tenantId,
    functionName: ref.name,
    ...(ref.qualifier === undefined ? {} : { qualifier: ref.qualifier }),
    source,
    eventSourceArn: input.EventSourceArn,
    settings,
    state: "Creating",
    stateTransitionReason: USER_ACTION,
    lastModified: Date.now(),
    lastProcessingResult: NO_RECORDS_PROCESSED,
  };
  const registered = await directory(scope).register({ uuid, functionName: ref.name, sourceArn: input.EventSourceArn });
  if (!registered.ok) throw mappingExists(source, input.EventSourceArn, ref.name, registered.existing);
  try {
    return mappingConfiguration(await poller(scope, uuid).put(record), scope.names);
  } catch (err) {
    // Nothing half-applied: a mapping its object never stored is not listed either.
    await directory(scope).unregister(uuid);
    throw err;
  }
}

export async function getMapping(scope: TenantScope, uuid: string): Promise<Record<string, unknown>> {
  return mappingConfiguration(await load(scope, uuid), scope.names);
}

export async function updateMapping(scope: TenantScope, uuid: string, input: UpdateInput): Promise<Record<string, unknown>> {
  const current = await load(scope, uuid);
  const settings = await settingsFor(scope, current.source, input, current.settings);
  let functionName = current.functionName;
  let qualifier = current.qualifier;
  if (input.FunctionName !== undefined) {
    const ref = await mappedFunction(scope, input.FunctionName);
    functionName = ref.name;
    qualifier = ref.qualifier;
  }
  if (functionName !== current.functionName) {
    // UpdateEventSourceMapping may point the mapping at another function, one mapping per function and queue still.
    const moved = await directory(scope).retarget(uuid, functionName);
    if (!moved.ok) throw mappingExists(current.source, current.eventSourceArn, functionName, moved.existing);
  }
  const state = settings.enabled === current.settings.enabled ? "Updating" : settings.enabled ? "Enabling" : "Disabling";
  const { qualifier: _dropped, ...rest } = current;
  const record: MappingRecord = {
    ...rest,
    functionName,
    ...(qualifier === undefined ? {} : { qualifier }),
    settings,
    state,
    stateTransitionReason: USER_ACTION,
    lastModified: Date.now(),
  };
  try {
    return mappingConfiguration(await poller(scope, uuid).put(record), scope.names);
  } catch (err) {
    // Nothing half-applied: the index goes back to the function the stored mapping still names.
    if (functionName !== current.functionName) await directory(scope).retarget(uuid, current.functionName);
    throw err;
  }
}

export async function deleteMapping(scope: TenantScope, uuid: string): Promise<Record<string, unknown>> {
  const current = await load(scope, uuid);
  await poller(scope, uuid).remove();
  await directory(scope).unregister(uuid);
  return mappingConfiguration({ ...current, state: "Deleting", stateTransitionReason: USER_ACTION }, scope.names);
}

const markerKey = z.object({ u: z.string() });

export async function listMappings(
  scope: TenantScope,
  query: { functionName?: string; eventSourceArn?: string; marker?: string; maxItems?: number },
): Promise<Record<string, unknown>> {
  const limit = Math.min(query.maxItems ?? LIST_PAGE_MAX, LIST_PAGE_MAX);
  const after = query.marker === undefined ? "" : decodeMarker(query.marker, markerKey).u;
  const functionName = query.functionName === undefined ? undefined : parseFunctionName(query.functionName, scope.names, { qualified: true }).name;
  const page = await directory(scope).list(
    { ...(functionName === undefined ? {} : { functionName }), ...(query.eventSourceArn === undefined ? {} : { sourceArn: query.eventSourceArn }) },
    after,
    limit,
  );
  const records = await Promise.all(page.uuids.map(async (uuid): Promise<MappingRecord | null> => poller(scope, uuid).get()));
  const last = page.uuids[page.uuids.length - 1];
  return {
    EventSourceMappings: records.filter((r): r is MappingRecord => r !== null).map((r) => mappingConfiguration(r, scope.names)),
    ...(page.more && last !== undefined ? { NextMarker: encodeMarker({ u: last }) } : {}),
  };
}
