/**
 * Put/Get/Delete/ListProvisionedConcurrencyConfigs: the requested amount is
 * stored in D1 (src/data/provisioned-store.ts); the function's
 * AssignmentPartition allocates and keeps the environments
 * (src/invoke/provisioned-pool.ts) and reports allocation and status.
 */
import { z } from "zod";
import type { AliasRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import type { ProvisionedConfigRow } from "../data/provisioned-store";
import { ProvisionedStore } from "../data/provisioned-store";
import { database } from "../db/client";
import {
  aliasNotFound,
  functionNotReady,
  invalidParameter,
  provisionedAliasOnProvisionedVersion,
  provisionedConfigNotFound,
  provisionedNeedsPublished,
  provisionedOnUnpublished,
  provisionedVersionUnderAlias,
  provisionedWithTenantIsolation,
} from "../errors";
import { AssignmentPartition } from "../invoke/assignment-partition";
import { functionKey } from "../invoke/partition-rules";
import type { ProvisionedReport, ProvisionSpec } from "../invoke/provisioned-pool";
import { forgetTenant } from "../invoke/target";
import { splitByWeight } from "../lambda/alias-routing";
import { functionArn, functionNotFound } from "../lambda/function-name";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { provisionedLimitError, provisionedStatus } from "../lambda/provisioned-concurrency";
import { lambdaTimestamp } from "../lambda/responses";
import { minimumUnreserved } from "./function-concurrency";
import { requireFunction } from "./resolve";
import type { TenantScope } from "./scope";

/** ListProvisionedConcurrencyConfigs: MaxItems 1..50. */
export const PROVISIONED_PAGE_CAP = 50;
const qualifierKey = z.object({ q: z.string() });

type Json = Record<string, unknown>;

export function provisionedStore(scope: TenantScope): ProvisionedStore {
  return new ProvisionedStore(database(scope.env.DB), scope.principal.tenantId);
}

function partitionOf(scope: TenantScope, name: string) {
  return AssignmentPartition.of(scope.env, scope.principal.tenantId, name);
}

export async function putProvisionedConcurrency(scope: TenantScope, name: string, qualifier: string, requested: number): Promise<Json> {
  if (qualifier === LATEST) throw provisionedOnUnpublished();
  const fn = await requireFunction(scope, name);
  const alias = await requireQualifier(scope, name, qualifier);
  const store = provisionedStore(scope);
  const spec = await specFor(scope, name, qualifier, requested, alias);
  if (alias) {
    if (await store.get(name, alias.functionVersion)) throw provisionedAliasOnProvisionedVersion();
  } else {
    const aliases = await scope.store.aliasesRoutingTo(name, qualifier);
    for (const a of aliases) if (a.functionVersion === qualifier && (await store.get(name, a.name))) throw provisionedVersionUnderAlias();
  }
  const [otherOfFunction, reservedTotal, otherUnreservedProvisioned] = await Promise.all([
    store.functionTotal(name, qualifier),
    scope.store.reservedConcurrencyTotal(),
    store.unreservedTotal({ name, qualifier }),
  ]);
  const refusal = provisionedLimitError({
    requested,
    otherOfFunction,
    reserved: fn.reservedConcurrency,
    tenantLimit: scope.principal.concurrencyLimit,
    reservedTotal,
    otherUnreservedProvisioned,
    minimumUnreserved: minimumUnreserved(scope.principal.concurrencyLimit),
  });
  if (refusal) throw invalidParameter(refusal);

  const lastModified = lambdaTimestamp();
  await store.put(name, qualifier, requested, lastModified);
  await partitionOf(scope, name).provision(spec);
  // Every function's unreserved pool shrinks by what is set aside here.
  forgetTenant(scope.principal.tenantId);
  return {
    RequestedProvisionedConcurrentExecutions: requested,
    AvailableProvisionedConcurrentExecutions: 0,
    AllocatedProvisionedConcurrentExecutions: 0,
    Status: "IN_PROGRESS",
    LastModified: lastModified,
  };
}

export async function getProvisionedConcurrency(scope: TenantScope, name: string, qualifier: string): Promise<Json> {
  if (qualifier === LATEST) throw provisionedNeedsPublished();
  await requireFunction(scope, name);
  await requireQualifier(scope, name, qualifier);
  const row = await provisionedStore(scope).get(name, qualifier);
  if (!row) throw provisionedConfigNotFound();
  const [report] = await partitionOf(scope, name).provisionedReports(qualifier);
  return configuration(row, report);
}

/** Idempotent, as on AWS: deleting a config that does not exist answers 204 (the function and qualifier must exist). */
export async function deleteProvisionedConcurrency(scope: TenantScope, name: string, qualifier: string): Promise<void> {
  if (qualifier === LATEST) throw provisionedNeedsPublished();
  await requireFunction(scope, name);
  await requireQualifier(scope, name, qualifier);
  await dropProvisioned(scope, name, qualifier);
}

export async function listProvisionedConcurrency(scope: TenantScope, name: string, marker: string | undefined, maxItems: number | undefined): Promise<Json> {
  await requireFunction(scope, name);
  const limit = Math.min(maxItems ?? PROVISIONED_PAGE_CAP, PROVISIONED_PAGE_CAP);
  const after = marker === undefined ? undefined : decodeMarker(marker, qualifierKey).q;
  const rows = await provisionedStore(scope).list(name, after, limit + 1);
  const page = rows.slice(0, limit);
  const reports = page.length === 0 ? [] : await partitionOf(scope, name).provisionedReports();
  const last = page.at(-1);
  return {
    ProvisionedConcurrencyConfigs: page.map((row) => ({
      FunctionArn: functionArn(scope.names, name, row.qualifier),
      ...configuration(
        row,
        reports.find((r) => r.qualifier === row.qualifier),
      ),
    })),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ q: last.qualifier }) } : {}),
  };
}

/**
 * Removes a config and its environments: DeleteProvisionedConcurrencyConfig,
 * and the deletion of its alias or version (Lambda deletes the config with it).
 */
export async function dropProvisioned(scope: TenantScope, name: string, qualifier: string): Promise<void> {
  if (!(await provisionedStore(scope).delete(name, qualifier))) return;
  await partitionOf(scope, name).unprovision(qualifier);
  forgetTenant(scope.principal.tenantId);
}

/** DeleteFunction: every config of the function goes with it. */
export async function dropAllProvisioned(scope: TenantScope, name: string): Promise<void> {
  const rows = await provisionedStore(scope).list(name, undefined, 1000);
  if (rows.length === 0) return;
  await provisionedStore(scope).deleteAll(name);
  const partition = partitionOf(scope, name);
  for (const row of rows) await partition.unprovision(row.qualifier);
  forgetTenant(scope.principal.tenantId);
}

/** UpdateAlias: an alias with a config gets its environments re-split over its new versions and weights. */
export async function reprovisionAlias(scope: TenantScope, name: string, alias: AliasRow): Promise<void> {
  const row = await provisionedStore(scope).get(name, alias.name);
  if (!row) return;
  await partitionOf(scope, name).provision(await specFor(scope, name, alias.name, row.requested, alias));
}

/**
 * Allocation and invocation counters of a function's configs, for metrics
 * and the console: per alias or version, the invocations that ran on
 * provisioned environments and those that spilled over to on-demand ones.
 */
export async function provisionedConcurrencyMetrics(scope: TenantScope, name: string): Promise<ProvisionedReport[]> {
  return partitionOf(scope, name).provisionedReports();
}

function configuration(row: ProvisionedConfigRow, report: ProvisionedReport | undefined): Json {
  const allocated = report?.allocated ?? 0;
  return {
    RequestedProvisionedConcurrentExecutions: row.requested,
    AvailableProvisionedConcurrentExecutions: report?.available ?? 0,
    AllocatedProvisionedConcurrentExecutions: allocated,
    ...provisionedStatus(row.requested, allocated, report?.failure ?? null),
    LastModified: row.lastModified,
  };
}

/** The alias named by `qualifier` (null for a version); 404 as AWS words it when it does not exist. */
async function requireQualifier(scope: TenantScope, name: string, qualifier: string): Promise<AliasRow | null> {
  if (/^[0-9]+$/.test(qualifier)) {
    if (!(await scope.store.getVersion(name, qualifier))) throw functionNotFound(scope.names, name, qualifier);
    return null;
  }
  const alias = await scope.store.getAlias(name, qualifier);
  if (!alias) throw aliasNotFound(functionArn(scope.names, name, qualifier));
  return alias;
}

/** What the partition keeps initialised for `qualifier`: a version's environments, or an alias's split by weight. */
async function specFor(scope: TenantScope, name: string, qualifier: string, requested: number, alias: AliasRow | null): Promise<ProvisionSpec> {
  const split = alias ? splitByWeight(requested, alias.functionVersion, alias.additionalVersionWeights) : [{ version: qualifier, count: requested }];
  const shares = await Promise.all(
    split.map(async ({ version, count }) => {
      const row = await scope.store.getVersion(name, version);
      if (!row) throw functionNotFound(scope.names, name, version);
      if (row.config.TenancyConfig?.TenantIsolationMode === "PER_TENANT") throw provisionedWithTenantIsolation();
      if (row.state !== "Active") throw functionNotReady(row.state);
      return {
        versionKey: `${row.version}@${row.revisionId}`,
        count,
        warm: {
          tenantId: scope.principal.tenantId,
          functionName: name,
          version: row.version,
          bundleKey: row.bundleKey,
          config: row.config,
          executedArn: functionArn(scope.names, name, row.version),
        },
      };
    }),
  );
  return { functionKey: functionKey(scope.principal.tenantId, name), qualifier, requested, shares };
}
