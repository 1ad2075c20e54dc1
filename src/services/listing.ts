import { z } from "zod";
import { LATEST } from "../data/function-store";
import { validationError } from "../errors";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { aliasConfiguration, functionConfiguration } from "../lambda/responses";
import { requireFunction } from "./resolve";
import type { TenantScope } from "./scope";

/** Lambda returns at most 50 items a page, whatever MaxItems asks for. */
export const PAGE_CAP = 50;

/** The sort key of listed functions and versions: name and version number (aliases use the name). */
const cursorKey = z.object({ n: z.string(), v: z.number() });

export async function listFunctions(scope: TenantScope, marker: string | undefined, maxItems: number | undefined, functionVersion: string | undefined) {
  if (functionVersion !== undefined && functionVersion !== "ALL") {
    throw validationError(
      `1 validation error detected: Value '${functionVersion}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]`,
    );
  }
  const limit = pageSize(maxItems);
  const after = marker === undefined ? undefined : decodeMarker(marker, cursorKey);
  const all = functionVersion === "ALL";
  const rows = all
    ? await scope.store.listAllVersions(after && { name: after.n, number: after.v }, limit + 1)
    : await scope.store.listLatest(after?.n, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    Functions: page.map((r) =>
      functionConfiguration(r, scope.names, { list: true, arnQualifier: all && r.version === LATEST ? LATEST : undefined }),
    ),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ n: last.functionName, v: last.versionNumber }) } : {}),
  };
}

export async function listVersions(scope: TenantScope, name: string, marker: string | undefined, maxItems: number | undefined) {
  await requireFunction(scope, name);
  const limit = pageSize(maxItems);
  const after = marker === undefined ? -1 : decodeMarker(marker, cursorKey).v;
  const rows = await scope.store.listVersions(name, after, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    Versions: page.map((r) => functionConfiguration(r, scope.names, { list: true, arnQualifier: r.version })),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ n: name, v: last.versionNumber }) } : {}),
  };
}

export async function listAliases(
  scope: TenantScope,
  name: string,
  marker: string | undefined,
  maxItems: number | undefined,
  functionVersion: string | undefined,
) {
  await requireFunction(scope, name);
  const limit = pageSize(maxItems);
  const after = marker === undefined ? undefined : decodeMarker(marker, cursorKey).n;
  const rows = await scope.store.listAliases(name, after, limit + 1, functionVersion);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    Aliases: page.map((a) => aliasConfiguration(a, scope.names)),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ n: last.name, v: 0 }) } : {}),
  };
}

function pageSize(maxItems: number | undefined): number {
  return Math.min(maxItems ?? PAGE_CAP, PAGE_CAP);
}

