import type { AliasRow } from "../data/function-store";
import { dropProvisioned, reprovisionAlias } from "./provisioned-concurrency";
import { deleteEventInvokeConfigs } from "../data/event-config-store";
import { LATEST } from "../data/function-store";
import { database } from "../db/client";
import { aliasNotFound, aliasNotFoundForUpdate, conflict, invalidParameter, latestAliasWeighted, preconditionFailed } from "../errors";
import { functionArn, functionNotFound } from "../lambda/function-name";
import { aliasConfiguration } from "../lambda/responses";
import type { RoutingConfig } from "../lambda/schemas";
import { forgetFunction } from "../invoke/target";
import { requireFunction } from "./resolve";
import { dropPolicies } from "./policies";
import { dropUrls } from "../function-urls/service";
import type { TenantScope } from "./scope";
import { isUniqueViolation } from "./sql-errors";

type Json = Record<string, unknown>;

export interface AliasInput {
  FunctionVersion?: string | undefined;
  Description?: string | undefined;
  RoutingConfig?: RoutingConfig | undefined;
  RevisionId?: string | undefined;
}

export async function createAlias(scope: TenantScope, name: string, alias: string, input: AliasInput & { FunctionVersion: string }): Promise<Json> {
  // A missing function is named with the version the alias was to point at (AWS's recording, test_notfound_and_invalid_routingconfigs).
  if (!(await scope.store.getFunction(name))) throw functionNotFound(scope.names, name, input.FunctionVersion);
  const weights = await checkRouting(scope, name, input.FunctionVersion, input.RoutingConfig);
  const row: Omit<AliasRow, "tenantId"> = {
    functionName: name,
    name: alias,
    functionVersion: input.FunctionVersion,
    description: input.Description ?? "",
    additionalVersionWeights: weights,
    revisionId: crypto.randomUUID(),
  };
  try {
    await scope.store.insertAlias(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Alias already exists: ${functionArn(scope.names, name, alias)}`);
    throw err;
  }
  return aliasConfiguration({ ...row, tenantId: scope.principal.tenantId }, scope.names);
}

export async function getAlias(scope: TenantScope, name: string, alias: string): Promise<Json> {
  return aliasConfiguration(await requireAlias(scope, name, alias), scope.names);
}

export async function updateAlias(scope: TenantScope, name: string, alias: string, input: AliasInput): Promise<Json> {
  const current = await requireAlias(scope, name, alias, aliasNotFoundForUpdate);
  if (input.RevisionId !== undefined && input.RevisionId !== current.revisionId) throw preconditionFailed();
  const functionVersion = input.FunctionVersion ?? current.functionVersion;
  const routing = input.RoutingConfig ?? (current.additionalVersionWeights ? { AdditionalVersionWeights: current.additionalVersionWeights } : undefined);
  const next = {
    functionVersion,
    description: input.Description ?? current.description,
    additionalVersionWeights: await checkRouting(scope, name, functionVersion, routing),
    revisionId: crypto.randomUUID(),
  };
  const updated = await scope.store.updateAlias(name, alias, current.revisionId, next);
  forgetFunction(scope.principal.tenantId, name); // after the write, so the old alias is not cached again
  if (!updated) {
    throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(scope.names, name, alias)}`);
  }
  // Provisioned concurrency on the alias follows its new versions and weights.
  await reprovisionAlias(scope, name, { ...current, ...next });
  return aliasConfiguration({ ...current, ...next }, scope.names);
}

export async function deleteAlias(scope: TenantScope, name: string, alias: string): Promise<void> {
  // Deleting an alias that does not exist is a no-op answered 204 (AWS-validated: LocalStack's
  // test_lambda_api test_non_existent_alias_deletion snapshot); the function must exist.
  await requireFunction(scope, name);
  await scope.store.deleteAlias(name, alias);
  await dropPolicies(scope, name, alias);
  await dropProvisioned(scope, name, alias);
  await dropUrls(scope, name, alias);
  await deleteEventInvokeConfigs(database(scope.env.DB), scope.principal.tenantId, name, alias);
  forgetFunction(scope.principal.tenantId, name);
}

async function requireAlias(scope: TenantScope, name: string, alias: string, missing = aliasNotFound): Promise<AliasRow> {
  await requireFunction(scope, name);
  const row = await scope.store.getAlias(name, alias);
  if (!row) throw missing(functionArn(scope.names, name, alias));
  return row;
}

/** Checks the target version and the weighted routing rules of docs/reference/lambda-api-notes.md §2; returns the weights to store. */
async function checkRouting(
  scope: TenantScope,
  name: string,
  version: string,
  routing: RoutingConfig | undefined,
): Promise<Record<string, number> | null> {
  await requireVersion(scope, name, version);
  const weights = routing?.AdditionalVersionWeights ?? {};
  const entries = Object.entries(weights);
  if (entries.length === 0) return null;
  if (entries.length > 1) throw invalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1");
  if (version === LATEST) throw latestAliasWeighted();
  for (const [extra] of entries) {
    if (extra === version) {
      throw invalidParameter(`Invalid function version ${extra}. Function version ${extra} is already included in routing configuration.`);
    }
    await requireVersion(scope, name, extra);
  }
  return weights;
}

async function requireVersion(scope: TenantScope, name: string, version: string): Promise<void> {
  if (!(await scope.store.getVersion(name, version))) throw functionNotFound(scope.names, name, version);
}
