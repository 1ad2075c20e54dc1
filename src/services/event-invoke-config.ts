import { z } from "zod";
import type { EventInvokeConfigRow, EventInvokeConfigValues } from "../data/event-config-store";
import { EventConfigStore } from "../data/event-config-store";
import { LATEST } from "../data/function-store";
import { database } from "../db/client";
import { conflict, invalidParameter, notFound } from "../errors";
import type { EventInvokeConfigInput } from "../lambda/destination-config";
import { checkDestinations } from "../lambda/destination-config";
import type { FunctionRef, NameContext } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import type { TenantScope } from "./scope";

/** ListFunctionEventInvokeConfigs pages by qualifier. */
const qualifierKey = z.object({ q: z.string() });

/**
 * Put / Update / Get / Delete / ListFunctionEventInvokeConfig(s), with the
 * errors Lambda gives (recorded against AWS in LocalStack's
 * test_lambda_eventinvokeconfig_exceptions snapshot):
 * - writes to a function, version or alias that does not exist: 404 `The function doesn't exist.`;
 * - reads and deletes of a config that does not exist (whether or not the
 *   function does): 404 `The function <arn>:<qualifier> doesn't have an EventInvokeConfig`;
 * - List of a function that does not exist: 404 `The function doesn't exist.`
 */

type Json = Record<string, unknown>;

/** Lambda's defaults when a setting (or the whole config) is absent. */
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2;
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21600;
/** ListFunctionEventInvokeConfigs: MaxItems 1..50. */
export const EVENT_CONFIG_PAGE_CAP = 50;

export interface EffectiveEventConfig {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  onSuccess?: string;
  onFailure?: string;
}

function storeOf(scope: TenantScope): EventConfigStore {
  return new EventConfigStore(database(scope.env.DB), scope.principal.tenantId);
}

const functionDoesNotExist = () => notFound("The function doesn't exist.");

const noConfig = (names: NameContext, name: string, qualifier: string) =>
  notFound(`The function ${functionArn(names, name, qualifier)} doesn't have an EventInvokeConfig`);

const nothingToSet = () => invalidParameter("You must specify at least one of error handling or destination setting.");

function hasAnySetting(input: EventInvokeConfigInput): boolean {
  return input.MaximumRetryAttempts != null || input.MaximumEventAgeInSeconds != null || input.DestinationConfig != null;
}

/** Epoch seconds with millisecond precision (the API's `timestamp` shape is a JSON number). */
const nowSeconds = () => Date.now() / 1000;

/** What Put and Update check first: something to set, and a function, version or alias to set it on. */
async function writeTarget(scope: TenantScope, ref: FunctionRef, input: EventInvokeConfigInput): Promise<{ name: string; qualifier: string }> {
  if (!hasAnySetting(input)) throw nothingToSet();
  const qualifier = ref.qualifier ?? LATEST;
  await requireTarget(scope, ref.name, qualifier);
  return { name: ref.name, qualifier };
}

/** The input's destinations, checked (same-account function ARNs must name an existing function). */
async function checkedDestinations(scope: TenantScope, name: string, input: EventInvokeConfigInput): Promise<{ onSuccess?: string; onFailure?: string }> {
  const given = destinationsOf(input);
  await checkDestinations(given, scope.names, name, async (n) => (await scope.store.getFunction(n)) !== undefined);
  return given;
}

/** PutFunctionEventInvokeConfig: creates or replaces; settings left out are removed. */
export async function putEventInvokeConfig(scope: TenantScope, ref: FunctionRef, input: EventInvokeConfigInput): Promise<Json> {
  const { name, qualifier } = await writeTarget(scope, ref, input);
  const given = await checkedDestinations(scope, name, input);
  const values: EventInvokeConfigValues = {
    maximumRetryAttempts: input.MaximumRetryAttempts ?? null,
    maximumEventAgeInSeconds: input.MaximumEventAgeInSeconds ?? null,
    onSuccess: given.onSuccess || null,
    onFailure: given.onFailure || null,
    lastModified: nowSeconds(),
  };
  await storeOf(scope).put(name, qualifier, values);
  return eventInvokeConfiguration({ tenantId: scope.principal.tenantId, functionName: name, qualifier, ...values }, scope.names);
}

/** UpdateFunctionEventInvokeConfig: merges the given settings into the existing config. */
export async function updateEventInvokeConfig(scope: TenantScope, ref: FunctionRef, input: EventInvokeConfigInput): Promise<Json> {
  const { name, qualifier } = await writeTarget(scope, ref, input);
  const store = storeOf(scope);
  const current = await store.get(name, qualifier);
  if (!current) throw noConfig(scope.names, name, qualifier);
  const given = await checkedDestinations(scope, name, input);

  const destinations = input.DestinationConfig;
  const values: EventInvokeConfigValues = {
    maximumRetryAttempts: input.MaximumRetryAttempts ?? current.maximumRetryAttempts,
    maximumEventAgeInSeconds: input.MaximumEventAgeInSeconds ?? current.maximumEventAgeInSeconds,
    // A member given (even `{}`) replaces that destination; a member left out keeps it.
    onSuccess: destinations?.OnSuccess != null ? given.onSuccess || null : current.onSuccess,
    onFailure: destinations?.OnFailure != null ? given.onFailure || null : current.onFailure,
    lastModified: nowSeconds(),
  };
  if (!(await store.replace(name, qualifier, current.lastModified, values))) {
    throw conflict(
      `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(scope.names, name, qualifier)}`,
    );
  }
  return eventInvokeConfiguration({ ...current, ...values }, scope.names);
}

/** GetFunctionEventInvokeConfig. */
export async function getEventInvokeConfig(scope: TenantScope, ref: FunctionRef): Promise<Json> {
  const qualifier = ref.qualifier ?? LATEST;
  const row = await storeOf(scope).get(ref.name, qualifier);
  if (!row) throw noConfig(scope.names, ref.name, qualifier);
  return eventInvokeConfiguration(row, scope.names);
}

/** DeleteFunctionEventInvokeConfig. */
export async function deleteEventInvokeConfig(scope: TenantScope, ref: FunctionRef): Promise<void> {
  const qualifier = ref.qualifier ?? LATEST;
  if (!(await storeOf(scope).delete(ref.name, qualifier))) throw noConfig(scope.names, ref.name, qualifier);
}

/** ListFunctionEventInvokeConfigs: every config of the function, by qualifier. */
export async function listEventInvokeConfigs(
  scope: TenantScope,
  name: string,
  marker: string | undefined,
  maxItems: number | undefined,
): Promise<Json> {
  if (!(await scope.store.getFunction(name))) throw functionDoesNotExist();
  const limit = Math.min(maxItems ?? EVENT_CONFIG_PAGE_CAP, EVENT_CONFIG_PAGE_CAP);
  const rows = await storeOf(scope).list(name, marker === undefined ? undefined : decodeMarker(marker, qualifierKey).q, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    FunctionEventInvokeConfigs: page.map((row) => eventInvokeConfiguration(row, scope.names)),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ q: last.qualifier }) } : {}),
  };
}

/**
 * The settings the async poller applies to an event for `functionName`
 * invoked with `qualifier` (unqualified is `$LATEST`): the config of exactly
 * that qualifier, with Lambda's defaults for what is unset or when there is
 * no config at all.
 */
export async function effectiveEventConfig(
  scope: TenantScope,
  functionName: string,
  qualifier: string | undefined,
): Promise<EffectiveEventConfig> {
  const row = await storeOf(scope).get(functionName, qualifier ?? LATEST);
  const effective: EffectiveEventConfig = {
    maximumRetryAttempts: row?.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    maximumEventAgeInSeconds: row?.maximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
  };
  if (row?.onSuccess) effective.onSuccess = row.onSuccess;
  if (row?.onFailure) effective.onFailure = row.onFailure;
  return effective;
}

/** FunctionEventInvokeConfig as Lambda returns it: DestinationConfig always present, unset numbers left out. */
export function eventInvokeConfiguration(row: EventInvokeConfigRow, names: NameContext): Json {
  const out: Json = {
    LastModified: row.lastModified,
    FunctionArn: functionArn(names, row.functionName, row.qualifier),
  };
  if (row.maximumRetryAttempts !== null) out.MaximumRetryAttempts = row.maximumRetryAttempts;
  if (row.maximumEventAgeInSeconds !== null) out.MaximumEventAgeInSeconds = row.maximumEventAgeInSeconds;
  out.DestinationConfig = {
    OnSuccess: row.onSuccess ? { Destination: row.onSuccess } : {},
    OnFailure: row.onFailure ? { Destination: row.onFailure } : {},
  };
  return out;
}

/** Writes need the function and the qualifier ($LATEST, a published version or an alias) to exist. */
async function requireTarget(scope: TenantScope, name: string, qualifier: string): Promise<void> {
  if (!(await scope.store.getFunction(name))) throw functionDoesNotExist();
  if (qualifier === LATEST) return;
  const found = /^[0-9]+$/.test(qualifier) ? await scope.store.getVersion(name, qualifier) : await scope.store.getAlias(name, qualifier);
  if (!found) throw functionDoesNotExist();
}

function destinationsOf(input: EventInvokeConfigInput): { onSuccess?: string; onFailure?: string } {
  const out: { onSuccess?: string; onFailure?: string } = {};
  const onSuccess = input.DestinationConfig?.OnSuccess?.Destination;
  const onFailure = input.DestinationConfig?.OnFailure?.Destination;
  if (onSuccess) out.onSuccess = onSuccess;
  if (onFailure) out.onFailure = onFailure;
  return out;
}
