/**
 * The five mapping operations for a tenant: checks (function, queue, rules),
 * then the directory (the index) and the mapping's poller object (its
 * settings and state). Another tenant's UUID is answered as a missing one:
 * objects are keyed by tenant, so it is never found.
 */
import { conflict, invalidParameter, notFound } from "../errors";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { functionNotFound, parseFunctionName } from "../lambda/function-name";
import type { FunctionRef } from "../lambda/function-name";
import type { TenantScope } from "../services/scope";
import { resolveVersion } from "../services/resolve";
import { ownQueueFromArn } from "../sqs/queue-ref";
import { TenantQueues } from "../sqs/queues";
import type { MappingRecord } from "./mapping";
import { mappingConfiguration, NO_RECORDS_PROCESSED, USER_ACTION } from "./mapping";
import type { CreateInput, UpdateInput } from "./settings";
import { applySettings, checkForQueue } from "./settings";
import { z } from "zod";

export const LIST_PAGE_MAX = 100;

export const mappingNotFound = () => notFound("The resource you requested does not exist.");
export const queueNotReachable = () =>
  invalidParameter(
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you do not have access to it.",
  );
export const unrecognizedEventSource = () => invalidParameter("Unrecognized event source.");
export const mappingExists = (queueArn: string, functionName: string, uuid: string) =>
  conflict(
    `An event source mapping with SQS arn (" ${queueArn} ") and function (" ${functionName} ") already exists. Please update or delete the existing mapping with UUID ${uuid}`,
  );

const directory = (scope: TenantScope) => scope.env.EVENT_SOURCE_DIRECTORY.get(scope.env.EVENT_SOURCE_DIRECTORY.idFromName(scope.principal.tenantId));
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

async function load(scope: TenantScope, uuid: string): Promise<MappingRecord> {
  const record = await poller(scope, uuid).get();
  if (!record || record.tenantId !== scope.principal.tenantId) throw mappingNotFound();
  return record;
}

export async function createMapping(scope: TenantScope, input: CreateInput): Promise<Record<string, unknown>> {
  const settings = applySettings(input);
  const ref = await mappedFunction(scope, input.FunctionName);
  const queueName = await ownQueue(scope, input.EventSourceArn);
  checkForQueue(settings, queueName);
  const uuid = crypto.randomUUID();
  const record: MappingRecord = {
    uuid,
    tenantId: scope.principal.tenantId,
    functionName: ref.name,
    ...(ref.qualifier === undefined ? {} : { qualifier: ref.qualifier }),
    queueName,
    queueArn: input.EventSourceArn,
    settings,
    state: "Creating",
    stateTransitionReason: USER_ACTION,
    lastModified: Date.now(),
    lastProcessingResult: NO_RECORDS_PROCESSED,
  };
  const registered = await directory(scope).register({ uuid, functionName: ref.name, queueArn: input.EventSourceArn });
  if (!registered.ok) throw mappingExists(input.EventSourceArn, ref.name, registered.existing);
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
  const settings = applySettings(input, current.settings);
  checkForQueue(settings, current.queueName);
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
    if (!moved.ok) throw mappingExists(current.queueArn, functionName, moved.existing);
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
    { ...(functionName === undefined ? {} : { functionName }), ...(query.eventSourceArn === undefined ? {} : { queueArn: query.eventSourceArn }) },
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
