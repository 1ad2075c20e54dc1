import type { AliasRow, FunctionRow, VersionRow } from "../data/function-store";
import { flushHeld } from "./held-leases";
import { functionKey } from "./partition-rules";
import { LATEST } from "../data/function-store";
import { accessDenied, isolationTenantMissing, isolationTenantUnexpected } from "../errors";
import { invokeBlocker } from "../lambda/function-state";
import { crossTenantInvokeGrant } from "../services/policies";
import { pickAliasVersion } from "../lambda/alias-routing";
import type { FunctionRef } from "../lambda/function-name";
import { functionNotFound } from "../lambda/function-name";
import { provisionedStore } from "../services/provisioned-concurrency";
import { resolveVersion } from "../services/resolve";
import type { TenantScope } from "../services/scope";
import { tenantScopeById } from "../services/scope";
import { REFRESH_AHEAD_MS } from "../auth/key-cache";
import { TtlCache } from "../util/ttl-cache";

/**
 * What an invocation runs: the version it executes (after weighted alias
 * routing) and the function's concurrency settings. Lookups are cached in
 * the isolate for METADATA_TTL_MS so a warm invoke reads no D1; control-plane
 * writes drop the function's entries at once (`forgetFunction`), other
 * isolates see them within the TTL, as Lambda's own metadata is eventually
 * consistent for a moment after an update.
 */
export const METADATA_TTL_MS = 2_000;

export interface InvokeTarget {
  fn: FunctionRow;
  /** The version row that runs. */
  version: VersionRow;
  /** The alias invoked, if any (its weights already applied). */
  alias?: AliasRow;
  /** The qualifier as the caller wrote it, for the invoked ARN. */
  qualifier: string | undefined;
  /** The tenant's limit minus every reservation and the provisioned concurrency of unreserved functions. */
  unreservedLimit: number;
}

interface Cached {
  fn: FunctionRow;
  rows: Map<string, VersionRow>;
  alias?: AliasRow;
  unreservedLimit: number;
}

const MAX_ENTRIES = 5_000;
const cache = new TtlCache<Cached>(METADATA_TTL_MS, MAX_ENTRIES, REFRESH_AHEAD_MS);

export async function invokeTarget(scope: TenantScope, ref: FunctionRef, random = Math.random()): Promise<InvokeTarget> {
  const entry = await lookup(scope, ref);
  const primary = entry.alias?.functionVersion ?? ref.qualifier ?? LATEST;
  const chosen = entry.alias ? pickAliasVersion(primary, entry.alias.additionalVersionWeights, random) : primary;
  const version = entry.rows.get(chosen);
  if (!version) throw functionNotFound(scope.names, ref.name, chosen);
  return {
    fn: entry.fn,
    version,
    ...(entry.alias ? { alias: entry.alias } : {}),
    qualifier: ref.qualifier,
    unreservedLimit: entry.unreservedLimit,
  };
}

/** Drops every cached lookup of a function (call after any write to it). */
export function forgetFunction(tenantId: string, name: string): void {
  const prefix = `${tenantId}\u0000${name}\u0000`;
  cache.deletePrefix(prefix);
  flushHeld(`${functionKey(tenantId, name)}\u0000`);
}

/** Drops every cached lookup of a tenant (its limit or reservations changed). */
export function forgetTenant(tenantId: string): void {
  const prefix = `${tenantId}\u0000`;
  cache.deletePrefix(prefix);
  flushHeld(`${tenantId}/`);
}

async function lookup(scope: TenantScope, ref: FunctionRef): Promise<Cached> {
  const key = `${scope.principal.tenantId}\u0000${ref.name}\u0000${ref.qualifier ?? ""}`;
  return cache.get(key, () => read(scope, ref));
}

async function read(scope: TenantScope, ref: FunctionRef): Promise<Cached> {
  // Invoke names what it looked for: an unqualified call is one to $LATEST, and its 404 says so
  // (`Function not found: …:function:name:$LATEST`, as AWS answers it; GetFunction's does not).
  const target = { name: ref.name, qualifier: ref.qualifier ?? LATEST };
  // Independent reads side by side: a miss costs one D1 round trip, not four.
  const [resolved, fn, reserved, provisioned] = await Promise.all([
    resolveVersion(scope, target),
    scope.store.getFunction(ref.name),
    scope.store.reservedConcurrencyTotal(),
    provisionedStore(scope).unreservedTotal(),
  ]);
  if (!fn) throw functionNotFound(scope.names, ref.name, target.qualifier);
  const rows = new Map([[resolved.row.version, resolved.row]]);
  const alias = resolved.aliasRow;
  const extras = await Promise.all(Object.keys(alias?.additionalVersionWeights ?? {}).map((v) => scope.store.getVersion(ref.name, v)));
  for (const row of extras) if (row) rows.set(row.version, row);
  const entry: Cached = {
    fn,
    rows,
    ...(alias ? { alias } : {}),
    // Provisioned concurrency of unreserved functions is set aside from the pool too.
    unreservedLimit: Math.max(0, scope.principal.concurrencyLimit - reserved - provisioned),
  };
  return entry;
}

/**
 * The scope an invoke runs in: the caller's, or for another account's
 * function named by full ARN, that account's, when its resource policy
 * grants the caller `lambda:InvokeFunction` (the run counts against the
 * owner's concurrency, as on AWS). Anything else is the same empty 403 as
 * for a foreign ARN that does not exist.
 */
export async function invokeScope(scope: TenantScope, ref: FunctionRef): Promise<TenantScope> {
  if (ref.ownerAccountId === undefined) return scope;
  const owner = await crossTenantInvokeGrant(scope.env, scope.principal.accountId, ref);
  const granted = owner === null ? null : await tenantScopeById(scope.env, owner);
  if (!granted) throw accessDenied();
  return granted;
}

/** Checks the function, qualifier, state and tenancy header without running anything (DryRun, Event, and before every run). */
export async function prepareInvoke(scope: TenantScope, ref: FunctionRef, tenantId: string | undefined): Promise<InvokeTarget> {
  const target = await invokeTarget(scope, ref);
  // Pending or Failed: nothing to run yet (an update in progress runs the previous code).
  const blocked = invokeBlocker(target.version, Date.now());
  if (blocked) throw blocked;
  const isolated = target.version.config.TenancyConfig?.TenantIsolationMode === "PER_TENANT";
  if (isolated && tenantId === undefined) throw isolationTenantMissing();
  if (!isolated && tenantId !== undefined) throw isolationTenantUnexpected();
  return target;
}
