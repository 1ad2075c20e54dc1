/**
 * The management API of function URLs: Create / Get / Update / Delete /
 * ListFunctionUrlConfigs, on the unqualified function or an alias, scoped to
 * the caller's tenant. Errors as AWS answers them (src/errors.ts, "Function URLs").
 */
import { FunctionUrlStore } from "../data/function-url-store";
import type { FunctionUrlRow } from "../data/function-url-store";
import { LATEST } from "../data/function-store";
import { database } from "../db/client";
import { conflict, urlConfigExists, urlConfigNotFound, urlFunctionMissing, urlIsolationUnsupported } from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { lambdaTimestamp } from "../lambda/responses";
import { PAGE_CAP } from "../services/listing";
import type { TenantScope } from "../services/scope";
import { z } from "zod";
import type { CreateUrlInput, UpdateUrlInput, UrlContext } from "./config";
import { checkCorsMethods, createAnswer, newUrlId, updateAnswer, urlConfiguration } from "./config";
import { forgetUrl } from "./lookup";

const listCursor = z.object({ q: z.string() });

export async function createUrl(scope: TenantScope, ctx: UrlContext, ref: FunctionRef, input: CreateUrlInput) {
  checkCorsMethods(input.Cors);
  const qualifier = ref.qualifier ?? "";
  const latest = await requireTarget(scope, ref);
  if (latest.config.TenancyConfig?.TenantIsolationMode === "PER_TENANT") throw urlIsolationUnsupported();
  const now = lambdaTimestamp();
  const row: Omit<FunctionUrlRow, "tenantId"> = {
    urlId: newUrlId(),
    functionName: ref.name,
    qualifier,
    authType: input.AuthType,
    cors: input.Cors ?? null,
    invokeMode: input.InvokeMode ?? "BUFFERED",
    creationTime: now,
    lastModifiedTime: now,
  };
  if (!(await urls(scope).create(row))) throw urlConfigExists(functionArn(scope.names, ref.name, ref.qualifier));
  return createAnswer({ ...row, tenantId: scope.principal.tenantId }, ctx, input.InvokeMode !== undefined);
}

export async function getUrl(scope: TenantScope, ctx: UrlContext, ref: FunctionRef) {
  const row = await urls(scope).get(ref.name, ref.qualifier ?? "");
  if (!row) throw urlConfigNotFound();
  return urlConfiguration(row, ctx);
}

/** Replaces what the request gives (Cors as a whole: an empty object removes it); the rest stays. */
export async function updateUrl(scope: TenantScope, ctx: UrlContext, ref: FunctionRef, input: UpdateUrlInput) {
  checkCorsMethods(input.Cors);
  await requireTarget(scope, ref);
  const store = urls(scope);
  const qualifier = ref.qualifier ?? "";
  const current = await store.get(ref.name, qualifier);
  if (!current) throw urlConfigNotFound();
  const cors = input.Cors === undefined ? current.cors : Object.keys(input.Cors).length === 0 ? null : input.Cors;
  const values = {
    authType: input.AuthType ?? current.authType,
    cors,
    invokeMode: input.InvokeMode ?? current.invokeMode,
    lastModifiedTime: lambdaTimestamp(),
  };
  if (!(await store.update(ref.name, qualifier, current.lastModifiedTime, values))) {
    throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(scope.names, ref.name, ref.qualifier)}`);
  }
  forgetUrl(current.urlId);
  return updateAnswer({ ...current, ...values }, ctx, input.InvokeMode !== undefined);
}

export async function deleteUrl(scope: TenantScope, ref: FunctionRef): Promise<void> {
  const row = await urls(scope).delete(ref.name, ref.qualifier ?? "");
  if (!row) throw urlConfigNotFound();
  forgetUrl(row.urlId);
}

export async function listUrls(scope: TenantScope, ctx: UrlContext, name: string, marker: string | undefined, maxItems: number | undefined) {
  if (!(await scope.store.getFunction(name))) throw urlFunctionMissing();
  const limit = Math.min(maxItems ?? PAGE_CAP, PAGE_CAP);
  const after = marker === undefined ? undefined : decodeMarker(marker, listCursor).q;
  const rows = await urls(scope).list(name, after, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    FunctionUrlConfigs: page.map((r) => urlConfiguration(r, ctx)),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ q: last.qualifier }) } : {}),
  };
}

/** Drops the URLs of a deleted function, or of one deleted alias (called by the function and alias services). */
export async function dropUrls(scope: TenantScope, name: string, qualifier?: string): Promise<void> {
  for (const urlId of await urls(scope).dropAll(name, qualifier)) forgetUrl(urlId);
}

function urls(scope: TenantScope): FunctionUrlStore {
  return new FunctionUrlStore(database(scope.env.DB), scope.principal.tenantId);
}

/** The function (and alias, when qualified) a URL is created or changed on; its $LATEST row for the tenancy check. */
async function requireTarget(scope: TenantScope, ref: FunctionRef) {
  const [latest, alias] = await Promise.all([
    scope.store.getVersion(ref.name, LATEST),
    ref.qualifier === undefined ? Promise.resolve(null) : scope.store.getAlias(ref.name, ref.qualifier),
  ]);
  if (!latest || alias === undefined) throw urlFunctionMissing();
  return latest;
}
