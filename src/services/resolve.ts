import type { AliasRow, FunctionRow, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import type { FunctionRef } from "../lambda/function-name";
import { functionNotFound } from "../lambda/function-name";
import type { TenantScope } from "./scope";

export interface ResolvedVersion {
  row: VersionRow;
  /** What the caller addressed: undefined (plain name), `$LATEST`, a version number or an alias. */
  arnQualifier: string | undefined;
  alias?: string;
  /** The alias row, when the qualifier named one. */
  aliasRow?: AliasRow;
}

/** The function row, or 404 `Function not found: <arn>`. */
export async function requireFunction(scope: TenantScope, name: string): Promise<FunctionRow> {
  const fn = await scope.store.getFunction(name);
  if (!fn) throw functionNotFound(scope.names, name);
  return fn;
}

/**
 * Resolves `name[:qualifier]` to a stored version: no qualifier or `$LATEST`
 * is $LATEST, digits are a published version, anything else is an alias
 * (its primary version; weighted routing happens at invoke). Whatever is
 * missing (function, version or alias) is 404 `Function not found: <qualified arn>`.
 */
export async function resolveVersion(scope: TenantScope, ref: FunctionRef): Promise<ResolvedVersion> {
  const { name, qualifier } = ref;
  if (qualifier === undefined || qualifier === LATEST || /^[0-9]+$/.test(qualifier)) {
    const row = await scope.store.getVersion(name, qualifier ?? LATEST);
    if (!row) throw functionNotFound(scope.names, name, qualifier);
    return { row, arnQualifier: qualifier };
  }
  const alias = await scope.store.getAlias(name, qualifier);
  // A missing alias reads like any missing function (docs/reference/lambda-api-notes.md §1);
  // `Cannot find alias arn:` is for the alias operations (services/aliases.ts).
  if (!alias) throw functionNotFound(scope.names, name, qualifier);
  const row = await scope.store.getVersion(name, alias.functionVersion);
  if (!row) throw functionNotFound(scope.names, name, alias.functionVersion);
  return { row, arnQualifier: qualifier, alias: qualifier, aliasRow: alias };
}
