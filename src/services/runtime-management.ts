import { updateInProgress } from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";
import type { PutRuntimeManagementInput } from "../lambda/schemas";
import { forgetFunction } from "../invoke/target";
import { resolveVersion } from "./resolve";
import type { TenantScope } from "./scope";

/**
 * Get/PutRuntimeManagementConfig: accepted, stored with the version and
 * echoed (GetFunctionConfiguration's RuntimeVersionConfig shows a Manual
 * RuntimeVersionArn). cellfn runs one build of each Node.js runtime, so the
 * setting changes what is reported, not what runs.
 */
export async function getRuntimeManagementConfig(scope: TenantScope, ref: FunctionRef): Promise<Record<string, string>> {
  const { row, arnQualifier } = await resolveVersion(scope, ref);
  const stored = row.config.RuntimeManagementConfig;
  const out: Record<string, string> = { UpdateRuntimeOn: stored?.UpdateRuntimeOn ?? "Auto" };
  if (stored?.RuntimeVersionArn !== undefined) out.RuntimeVersionArn = stored.RuntimeVersionArn;
  out.FunctionArn = functionArn(scope.names, ref.name, arnQualifier);
  return out;
}

export async function putRuntimeManagementConfig(
  scope: TenantScope,
  ref: FunctionRef,
  input: PutRuntimeManagementInput,
): Promise<Record<string, string>> {
  const { row, arnQualifier } = await resolveVersion(scope, ref);
  const setting = { UpdateRuntimeOn: input.UpdateRuntimeOn, ...(input.RuntimeVersionArn === undefined ? {} : { RuntimeVersionArn: input.RuntimeVersionArn }) };
  const written = await scope.store.patchVersion(ref.name, row.version, row.revisionId, {
    config: { ...row.config, RuntimeManagementConfig: setting },
    revisionId: crypto.randomUUID(),
  });
  forgetFunction(scope.principal.tenantId, ref.name);
  if (!written) throw updateInProgress(functionArn(scope.names, ref.name));
  return { ...setting, FunctionArn: functionArn(scope.names, ref.name, arnQualifier) };
}
